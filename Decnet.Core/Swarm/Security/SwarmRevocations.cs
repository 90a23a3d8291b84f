using System.Collections.Concurrent;
using Decnet.Core.Storage;
using Decnet.Core.Swarm.Pki;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Swarm.Security;

/// <summary>
/// The tombstoned certificate fingerprints, in memory, so a TLS handshake can refuse a revoked
/// certificate before any route runs (the handshake callback is synchronous). Loaded from
/// <c>revoked_fingerprints</c> on first use; <see cref="SwarmStore"/> adds each new tombstone after its commit.
/// </summary>
public sealed class SwarmRevocations(IDbContextFactory<DecnetDbContext> dbFactory)
{
    private readonly ConcurrentDictionary<string, byte> _revoked = new(StringComparer.Ordinal);
    private readonly Lock _loadLock = new();
    private volatile bool _loaded;

    public bool IsRevoked(string fingerprint)
    {
        EnsureLoaded();
        return CertificateFingerprint.Normalize(fingerprint) is { } normalized && _revoked.ContainsKey(normalized);
    }

    /// <summary>Called by the write store once a tombstone is committed.</summary>
    internal void Add(string fingerprint)
    {
        if (CertificateFingerprint.Normalize(fingerprint) is { } normalized)
        {
            _revoked[normalized] = 0;
        }
    }

    private void EnsureLoaded()
    {
        if (_loaded)
        {
            return;
        }
        lock (_loadLock)
        {
            if (_loaded)
            {
                return;
            }
            using var db = dbFactory.CreateDbContext();
            foreach (var fingerprint in db.RevokedFingerprints.AsNoTracking().Select(r => r.Fingerprint).ToList())
            {
                _revoked[fingerprint] = 0;
            }
            _loaded = true;
        }
    }
}
