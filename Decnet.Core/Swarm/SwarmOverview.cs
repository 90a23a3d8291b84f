using System.Collections.Concurrent;
using System.Text.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Storage;
using Decnet.Core.Swarm.Pki;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Swarm;

/// <summary>
/// A worker as the Swarm Hosts page and <c>GET /api/v1/swarm/hosts</c> show it. <see cref="StrayDeckies"/>
/// are deckies it still runs although the master placed them elsewhere: it was told to tear them down.
/// </summary>
public sealed record SwarmHostView(
    Guid Id, string Name, string? Address, int AgentPort, string Status, DateTime? LastHeartbeat,
    string ClientCertFingerprint, DateTime EnrolledAt, bool UseIpvlan, int DeckyCount,
    IReadOnlyList<string> StrayDeckies, DateTime? StraysSince);

/// <summary>
/// A shard joined with its host. <see cref="Config"/> is the DeckyConfig snapshot the dispatch stored;
/// it is null on rows written before snapshots existed, which still list with what the row has.
/// </summary>
public sealed record SwarmDeckyView(
    string Name, Guid HostId, string HostName, string? HostAddress, string HostStatus, string Ip, string State,
    string? LastError, DateTime? LastSeen, DateTime UpdatedAt, IReadOnlyList<string> Services, DeckyConfig? Config);

/// <summary>A worker a peer certificate belongs to.</summary>
public sealed record SwarmPeer(Guid HostId, string Name, string Fingerprint);

/// <summary>
/// The read model of the swarm: hosts, shards and the views pages and APIs show, and which worker a
/// certificate belongs to. Every write goes through <see cref="SwarmStore"/>, which tells this model
/// when a cached answer is stale.
/// </summary>
public sealed class SwarmOverview(IDbContextFactory<DecnetDbContext> dbFactory, TimeProvider time)
{
    public const string Unknown = "—";

    /// <summary>
    /// A worker's identity is cached this long, and dropped at once by any write that changes an identity
    /// (enrollment, removal, tombstone): longer than a heartbeat interval, so a worker's beats find it in memory.
    /// </summary>
    public static readonly TimeSpan PeerCacheLifetime = TimeSpan.FromMinutes(5);

    /// <summary>A certificate that belongs to no worker is remembered briefly only (a host may be enrolled for it next).</summary>
    public static readonly TimeSpan UnknownPeerCacheLifetime = TimeSpan.FromSeconds(5);

    /// <summary>Bounds the peer cache whatever certificates are presented.</summary>
    private const int MaxCachedPeers = 4096;

    private readonly ConcurrentDictionary<string, (SwarmPeer? Peer, long Expires)> _peers = new(StringComparer.Ordinal);

    /// <summary>The last heartbeat of each active host, kept by <see cref="SwarmStore"/>; reads overlay its unwritten times.</summary>
    internal HeartbeatCache Beats { get; } = new();

    public async Task<IReadOnlyList<SwarmHostView>> HostsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var counts = await db.DeckyShards.AsNoTracking().GroupBy(s => s.HostId).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        var hosts = await db.SwarmHosts.AsNoTracking().ToListAsync(cancellationToken);
        return hosts.OrderBy(h => h.Name, StringComparer.Ordinal)
            .Select(h => new SwarmHostView(h.Id, h.Name, h.Address, h.AgentPort, h.Status, Beats.LastHeartbeat(h.Id, h.LastHeartbeat), h.ClientCertFingerprint,
                h.EnrolledAt, h.UseIpvlan, counts.GetValueOrDefault(h.Id), StrayList(h.StrayDeckies), h.StraysSince))
            .ToList();
    }

    /// <summary>Host rows (no tracking), optionally of one status and with their shards, ordered by name.</summary>
    public async Task<IReadOnlyList<SwarmHost>> HostRecordsAsync(string? status, bool withShards, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        IQueryable<SwarmHost> hosts = db.SwarmHosts.AsNoTracking();
        if (withShards)
        {
            hosts = hosts.Include(h => h.Shards);
        }
        if (!string.IsNullOrWhiteSpace(status))
        {
            hosts = hosts.Where(h => h.Status == status);
        }
        var records = await hosts.OrderBy(h => h.Name).ToListAsync(cancellationToken);
        foreach (var host in records)
        {
            WithUnwrittenHeartbeat(host);
        }
        return records;
    }

    public async Task<SwarmHost?> HostAsync(Guid id, CancellationToken cancellationToken, bool withShards = false)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        IQueryable<SwarmHost> hosts = db.SwarmHosts.AsNoTracking();
        if (withShards)
        {
            hosts = hosts.Include(h => h.Shards);
        }
        var host = await hosts.FirstOrDefaultAsync(h => h.Id == id, cancellationToken);
        return host is null ? null : WithUnwrittenHeartbeat(host);
    }

    /// <summary>The host is enrolled but has never sent a heartbeat (false when there is no such host).</summary>
    public async Task<bool> NeverConnectedAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.SwarmHosts.AsNoTracking().AnyAsync(h => h.Id == id && h.LastHeartbeat == null, cancellationToken);
    }

    public async Task<bool> NameExistsAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.SwarmHosts.AnyAsync(h => h.Name == name, cancellationToken);
    }

    public async Task<IReadOnlyList<DeckyShard>> ShardsAsync(Guid? hostId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.DeckyShards.AsNoTracking();
        if (hostId is { } id)
        {
            query = query.Where(s => s.HostId == id);
        }
        var shards = await query.OrderBy(s => s.DeckyName).ToListAsync(cancellationToken);
        foreach (var shard in shards)
        {
            shard.LastSeen = Beats.ShardLastSeen(shard.HostId, shard.DeckyName, shard.LastSeen);
        }
        return shards;
    }

    public async Task<bool> AnyShardsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.DeckyShards.AnyAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<SwarmDeckyView>> DeckiesAsync(Guid? hostId, string? state, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.DeckyShards.AsNoTracking().Include(s => s.Host).AsQueryable();
        if (hostId is { } id)
        {
            query = query.Where(s => s.HostId == id);
        }
        var shards = await query.OrderBy(s => s.DeckyName).ToListAsync(cancellationToken);
        foreach (var shard in shards)
        {
            shard.LastSeen = Beats.ShardLastSeen(shard.HostId, shard.DeckyName, shard.LastSeen);
        }
        // Filtered on the state shown, which depends on the host's status as well.
        return shards.Select(ToView).Where(v => string.IsNullOrEmpty(state) || v.State == state).ToList();
    }

    /// <summary>
    /// The worker a client certificate fingerprint belongs to: a host that is not decommissioned, found on
    /// the indexed <c>ClientCertFingerprint</c>, and never a tombstoned fingerprint. Cached briefly both
    /// ways so a busy listener or controller does not query per request.
    /// </summary>
    public async Task<SwarmPeer?> FindPeerAsync(string fingerprint, CancellationToken cancellationToken)
    {
        var normalized = CertificateFingerprint.Normalize(fingerprint);
        if (normalized is null)
        {
            return null;
        }
        var now = time.GetTimestamp();
        if (_peers.TryGetValue(normalized, out var cached) && now < cached.Expires)
        {
            return cached.Peer;
        }
        SwarmPeer? peer;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            peer = await db.RevokedFingerprints.AsNoTracking().AnyAsync(r => r.Fingerprint == normalized, cancellationToken).ConfigureAwait(false)
                ? null
                : await db.SwarmHosts.AsNoTracking()
                    .Where(h => h.ClientCertFingerprint == normalized && h.Status != SwarmHostStatus.Decommissioned)
                    .Select(h => new SwarmPeer(h.Id, h.Name, normalized))
                    .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        }
        if (_peers.Count >= MaxCachedPeers)
        {
            _peers.Clear();
        }
        var lifetime = peer is null ? UnknownPeerCacheLifetime : PeerCacheLifetime;
        _peers[normalized] = (peer, now + (long)(lifetime.TotalSeconds * time.TimestampFrequency));
        return peer;
    }

    public async Task<bool> IsRevokedAsync(string fingerprint, CancellationToken cancellationToken)
    {
        var normalized = CertificateFingerprint.Normalize(fingerprint);
        if (normalized is null)
        {
            return false;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.RevokedFingerprints.AnyAsync(r => r.Fingerprint == normalized, cancellationToken);
    }

    /// <summary>Drops every cached peer answer (a host was enrolled, removed or tombstoned).</summary>
    internal void ForgetPeers() => _peers.Clear();

    /// <summary>Untracked rows only: a heartbeat not yet written is newer than what the row says.</summary>
    private SwarmHost WithUnwrittenHeartbeat(SwarmHost host)
    {
        host.LastHeartbeat = Beats.LastHeartbeat(host.Id, host.LastHeartbeat);
        foreach (var shard in host.Shards)
        {
            shard.LastSeen = Beats.ShardLastSeen(host.Id, shard.DeckyName, shard.LastSeen);
        }
        return host;
    }

    private static SwarmDeckyView ToView(DeckyShard shard)
    {
        var config = Snapshot(shard.DeckyConfig);
        var ip = config?.Ip is { Length: > 0 } snapshotIp ? snapshotIp : shard.DeckyIp is { Length: > 0 } columnIp ? columnIp : Unknown;
        return new SwarmDeckyView(
            shard.DeckyName, shard.HostId, shard.Host?.Name ?? Unknown, shard.Host?.Address, shard.Host?.Status ?? Unknown, ip,
            EffectiveState(shard.State, shard.Host?.Status), shard.LastError, shard.LastSeen, shard.UpdatedAt, config?.Services ?? ServiceList(shard.Services), config);
    }

    /// <summary>
    /// What a shard is as far as the master can tell: the last state its worker reported while that
    /// worker is active, <see cref="DeckyShardState.Unreachable"/> once it is not (a silent worker's
    /// "running" is a guess). States the master itself sets (pending, tearing down) stay as they are.
    /// </summary>
    public static string EffectiveState(string stored, string? hostStatus) =>
        hostStatus != SwarmHostStatus.Active && stored is DeckyShardState.Running or DeckyShardState.Degraded or DeckyShardState.Failed
            ? DeckyShardState.Unreachable
            : stored;

    internal static DeckyConfig? Snapshot(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }
        try
        {
            return DeckyConfigJson.DeserializeDecky(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static IReadOnlyList<string> StrayList(string? json) => ServiceList(json);

    private static IReadOnlyList<string> ServiceList(string? json)
    {
        try
        {
            return string.IsNullOrWhiteSpace(json) ? [] : JsonSerializer.Deserialize<List<string>>(json) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
