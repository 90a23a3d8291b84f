using System.Collections.Concurrent;
using Decnet.Core.Storage;
using Decnet.Core.Swarm.Pki;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Swarm.Shipping;

/// <summary>A worker a peer certificate belongs to.</summary>
public sealed record SwarmPeer(Guid HostId, string Name, string Fingerprint);

/// <summary>
/// Which worker, if any, a client certificate fingerprint belongs to: a swarm host that is not
/// decommissioned, on the indexed <c>ClientCertFingerprint</c>, and never a tombstoned fingerprint.
/// Answers are cached briefly (both ways) so a busy listener does not query per batch, and a
/// decommission takes effect within <see cref="CacheLifetime"/>.
/// </summary>
public sealed class SwarmPeerDirectory(IDbContextFactory<DecnetDbContext> dbFactory, TimeProvider time)
{
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);

    /// <summary>Bounds the cache whatever certificates are presented.</summary>
    private const int MaxCached = 4096;

    private readonly ConcurrentDictionary<string, (SwarmPeer? Peer, long Expires)> _cache = new(StringComparer.Ordinal);

    public async Task<SwarmPeer?> FindAsync(string fingerprint, CancellationToken cancellationToken)
    {
        var normalized = CertificateFingerprint.Normalize(fingerprint);
        if (normalized is null)
        {
            return null;
        }
        var now = time.GetTimestamp();
        if (_cache.TryGetValue(normalized, out var cached) && now < cached.Expires)
        {
            return cached.Peer;
        }
        var peer = await LookupAsync(normalized, cancellationToken).ConfigureAwait(false);
        if (_cache.Count >= MaxCached)
        {
            _cache.Clear();
        }
        _cache[normalized] = (peer, now + (long)(CacheLifetime.TotalSeconds * time.TimestampFrequency));
        return peer;
    }

    private async Task<SwarmPeer?> LookupAsync(string fingerprint, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        if (await db.RevokedFingerprints.AsNoTracking().AnyAsync(r => r.Fingerprint == fingerprint, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        var host = await db.SwarmHosts.AsNoTracking()
            .Where(h => h.ClientCertFingerprint == fingerprint && h.Status != SwarmHostStatus.Decommissioned)
            .Select(h => new { h.Id, h.Name })
            .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        return host is null ? null : new SwarmPeer(host.Id, host.Name, fingerprint);
    }
}
