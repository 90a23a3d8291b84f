using System.Text.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Notifications;
using Decnet.Core.Storage;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Protocol;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Swarm;

/// <summary>Why enrollment could not insert a host.</summary>
public sealed class SwarmHostNameTakenException(string name) : InvalidOperationException($"A worker named '{name}' is already enrolled.")
{
    public string HostName { get; } = name;
}

/// <summary>What one dispatch did to one decky.</summary>
public sealed record ShardOutcome(DeckyConfig Decky, string State, string? Error, AgentDeckyStatusView? Runtime = null);

/// <summary>The agent's view of a decky when it gave one (services and their states).</summary>
public sealed record AgentDeckyStatusView(string State, IReadOnlyList<AgentServiceStatus> Services);

/// <summary>What an accepted heartbeat changed.</summary>
/// <param name="Strays">Deckies the worker runs that the master did not place there: it must tear them down.</param>
/// <param name="StraysChanged">The set of strays differs from the previous heartbeat's.</param>
/// <param name="FirstContact">The host had never heartbeated before.</param>
public sealed record HeartbeatRecord(string HostName, IReadOnlyList<string> Strays, IReadOnlyList<string> PreviousStrays, bool StraysChanged, bool FirstContact);

/// <summary>
/// The one write store of the swarm: <c>swarm_hosts</c>, <c>decky_shards</c> and the
/// <c>revoked_fingerprints</c> tombstones. The master owns placement: only <see cref="PlaceAsync"/>
/// decides which host a decky belongs to, heartbeats report states and never move a shard. Every
/// change is published as <see cref="SwarmChanged"/>; identity changes also refresh the read model's
/// peer cache (<see cref="SwarmOverview"/>).
/// </summary>
public sealed class SwarmStore(IDbContextFactory<DecnetDbContext> dbFactory, SwarmOverview overview, Security.SwarmRevocations revocations, NotificationHub hub, TimeProvider time)
{
    /// <summary>Errors are stored for the operator, not as a log: the first 512 characters.</summary>
    public const int MaxErrorLength = 512;

    public static string? Clip(string? error) => error is { Length: > MaxErrorLength } ? error[..MaxErrorLength] : error;

    /// <summary>Inserts a freshly enrolled host.</summary>
    /// <exception cref="SwarmHostNameTakenException">The name is already enrolled.</exception>
    public async Task<SwarmHost> CreateHostAsync(SwarmHost host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        host.ClientCertFingerprint = CertificateFingerprint.Normalize(host.ClientCertFingerprint)
            ?? throw new ArgumentException("The client certificate fingerprint is not a SHA-256.", nameof(host));
        host.UpdaterCertFingerprint = CertificateFingerprint.Normalize(host.UpdaterCertFingerprint);
        host.EnrolledAt = Now();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.SwarmHosts.AnyAsync(h => h.Name == host.Name, cancellationToken))
        {
            throw new SwarmHostNameTakenException(host.Name);
        }
        db.SwarmHosts.Add(host);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two enrollments raced for the same name: the unique index decided.
            if (await overview.NameExistsAsync(host.Name, cancellationToken))
            {
                throw new SwarmHostNameTakenException(host.Name);
            }
            throw;
        }
        overview.ForgetPeers();
        hub.Publish(new SwarmChanged(SwarmChangeReasons.Enrolled, host.Id));
        return host;
    }

    /// <summary>
    /// An authenticated heartbeat: the host is active as of now and the state of each of ITS shards is
    /// what the agent reports (running, otherwise degraded; a shard being torn down keeps that state).
    /// A decky the agent reports that the master placed elsewhere, or nowhere, is a stray: it is never
    /// moved here; the caller tells the worker to tear it down. A host enrolled without an address takes
    /// <paramref name="peerAddress"/>, where its pinned heartbeat came from.
    /// </summary>
    /// <remarks>
    /// A heartbeat that reports what the previous one reported (same shard states and errors, same strays,
    /// host still active) is answered from memory (<see cref="HeartbeatCache"/>): no read, and its time is
    /// written with the others by <see cref="FlushLastSeenAsync"/>. Anything else takes the database path.
    /// </remarks>
    /// <returns>Null when the host no longer exists.</returns>
    public async Task<HeartbeatRecord?> RecordHeartbeatAsync(Guid hostId, AgentStatus status, string? peerAddress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        var now = Now();
        var beats = overview.Beats;
        if (beats.Get(hostId) is { } memory && Unchanged(memory, status, peerAddress, out var seenShards))
        {
            beats.Seen(hostId, now, seenShards);
            return new HeartbeatRecord(memory.Name, memory.Strays, memory.Strays, StraysChanged: false, FirstContact: false);
        }
        var generation = beats.Generation;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var host = await db.SwarmHosts.FirstOrDefaultAsync(h => h.Id == hostId, cancellationToken);
        if (host is null)
        {
            return null;
        }
        var firstContact = host.LastHeartbeat is null;
        host.LastHeartbeat = now;
        host.Status = SwarmHostStatus.Active;
        if (string.IsNullOrWhiteSpace(host.Address) && !string.IsNullOrWhiteSpace(peerAddress))
        {
            host.Address = peerAddress;
        }

        var reported = status.Deckies.Where(d => !string.IsNullOrWhiteSpace(d.Name)).DistinctBy(d => d.Name, StringComparer.Ordinal).ToList();
        var owned = await db.DeckyShards.Where(s => s.HostId == hostId).ToDictionaryAsync(s => s.DeckyName, StringComparer.Ordinal, cancellationToken);
        var strays = new List<string>();
        foreach (var decky in reported)
        {
            if (!owned.TryGetValue(decky.Name, out var shard))
            {
                strays.Add(decky.Name);
                continue;
            }
            if (shard.State != DeckyShardState.TearingDown)
            {
                var state = decky.State == DeckyShardState.Running ? DeckyShardState.Running : DeckyShardState.Degraded;
                var error = state == DeckyShardState.Degraded ? FirstServiceError(decky) : null;
                if (shard.State != state || shard.LastError != error)
                {
                    shard.State = state;
                    shard.LastError = error;
                    shard.UpdatedAt = now;
                }
            }
            shard.LastSeen = now;
        }

        strays.Sort(StringComparer.Ordinal);
        var previous = SwarmOverview.StrayList(host.StrayDeckies);
        var changed = !previous.SequenceEqual(strays, StringComparer.Ordinal);
        if (changed)
        {
            host.StrayDeckies = strays.Count == 0 ? null : JsonSerializer.Serialize(strays);
            host.StraysSince = strays.Count == 0 ? null : previous.Count == 0 ? now : host.StraysSince;
        }
        await db.SaveChangesAsync(cancellationToken);
        beats.Written(hostId);
        beats.Remember(hostId, new HeartbeatCache.HostMemory(
            host.Name, !string.IsNullOrWhiteSpace(host.Address),
            owned.Values.ToDictionary(s => s.DeckyName, s => new HeartbeatCache.ShardMemory(s.State, s.LastError), StringComparer.Ordinal),
            strays), generation);
        hub.Publish(new SwarmChanged(SwarmChangeReasons.Heartbeat, hostId));
        if (changed)
        {
            hub.Publish(new SwarmChanged(SwarmChangeReasons.Reconciling, hostId));
        }
        return new HeartbeatRecord(host.Name, strays, previous, changed, firstContact);
    }

    /// <summary>
    /// Whether <paramref name="status"/> would change nothing but times against what the last written
    /// heartbeat left; <paramref name="seen"/> lists the host's own shards it reports.
    /// </summary>
    private static bool Unchanged(HeartbeatCache.HostMemory memory, AgentStatus status, string? peerAddress, out IReadOnlyList<string> seen)
    {
        seen = [];
        if (!memory.HasAddress && !string.IsNullOrWhiteSpace(peerAddress))
        {
            return false;
        }
        var own = new List<string>(status.Deckies.Count);
        List<string>? strays = null;
        foreach (var decky in status.Deckies)
        {
            if (string.IsNullOrWhiteSpace(decky.Name))
            {
                continue;
            }
            if (!memory.Shards.TryGetValue(decky.Name, out var shard))
            {
                (strays ??= []).Add(decky.Name);
                continue;
            }
            // The first report of a name counts, as on the database path.
            if (own.Contains(decky.Name, StringComparer.Ordinal))
            {
                continue;
            }
            if (shard.State != DeckyShardState.TearingDown)
            {
                var state = decky.State == DeckyShardState.Running ? DeckyShardState.Running : DeckyShardState.Degraded;
                var error = state == DeckyShardState.Degraded ? FirstServiceError(decky) : null;
                if (shard.State != state || shard.LastError != error)
                {
                    return false;
                }
            }
            own.Add(decky.Name);
        }
        var sameStrays = strays is null
            ? memory.Strays.Count == 0
            : strays.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).SequenceEqual(memory.Strays, StringComparer.Ordinal);
        if (!sameStrays)
        {
            return false;
        }
        seen = own;
        return true;
    }

    /// <summary>
    /// Writes the times of heartbeats answered from memory: one statement per second of heartbeats for the
    /// hosts and one for their shards, never moving a time backwards. Offline detection calls it first;
    /// a worker calls it every <see cref="SwarmOptions.LastSeenFlushSeconds"/>. Returns how many hosts it wrote.
    /// </summary>
    public async Task<int> FlushLastSeenAsync(CancellationToken cancellationToken)
    {
        var pending = overview.Beats.TakePending();
        if (pending.Count == 0)
        {
            return 0;
        }
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // Grouped by the second they arrived in, each group written with its latest time: a few
            // statements per flush whatever the number of hosts, each time off by under a second.
            foreach (var group in pending.GroupBy(p => p.Value.At.Ticks / TimeSpan.TicksPerSecond))
            {
                var at = group.Max(p => p.Value.At);
                var hosts = group.Select(p => p.Key).ToList();
                var names = group.SelectMany(p => p.Value.Shards).ToList();
                await db.SwarmHosts.Where(h => hosts.Contains(h.Id) && (h.LastHeartbeat == null || h.LastHeartbeat < at))
                    .ExecuteUpdateAsync(u => u.SetProperty(h => h.LastHeartbeat, at), cancellationToken);
                if (names.Count > 0)
                {
                    await db.DeckyShards.Where(s => names.Contains(s.DeckyName) && hosts.Contains(s.HostId) && (s.LastSeen == null || s.LastSeen < at))
                        .ExecuteUpdateAsync(u => u.SetProperty(s => s.LastSeen, at), cancellationToken);
                }
            }
            await transaction.CommitAsync(cancellationToken);
        }
        catch
        {
            overview.Beats.Restore(pending);
            throw;
        }
        // One notification per flush, not per heartbeat: open pages re-read once.
        hub.Publish(new SwarmChanged(SwarmChangeReasons.Heartbeat, pending.Count == 1 ? pending.Keys.First() : null));
        return pending.Count;
    }

    /// <summary>
    /// Active (or enrolled, once heard from) hosts whose last heartbeat is older than
    /// <paramref name="silentSince"/> become unreachable. Returns how many changed.
    /// </summary>
    public async Task<int> MarkSilentHostsUnreachableAsync(DateTime silentSince, CancellationToken cancellationToken)
    {
        await FlushLastSeenAsync(cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var found = await db.SwarmHosts
            .Where(h => (h.Status == SwarmHostStatus.Active || h.Status == SwarmHostStatus.Enrolled)
                && h.LastHeartbeat != null && h.LastHeartbeat < silentSince)
            .ToListAsync(cancellationToken);
        // A heartbeat answered from memory after the flush above is not silence.
        var silent = found.Where(h => !(overview.Beats.PendingHeartbeat(h.Id) >= silentSince)).ToList();
        foreach (var host in silent)
        {
            host.Status = SwarmHostStatus.Unreachable;
        }
        await db.SaveChangesAsync(cancellationToken);
        foreach (var host in silent)
        {
            overview.Beats.Forget(host.Id);
            hub.Publish(new SwarmChanged(SwarmChangeReasons.Unreachable, host.Id));
        }
        return silent.Count;
    }

    /// <summary>Marks one host unreachable (a failed probe).</summary>
    public async Task<bool> MarkUnreachableAsync(Guid hostId, CancellationToken cancellationToken) =>
        await SetHostStatusAsync(hostId, SwarmHostStatus.Unreachable, SwarmChangeReasons.Unreachable, cancellationToken);

    /// <summary>Marks one host active (it answered a probe or a dispatch).</summary>
    public async Task<bool> MarkActiveAsync(Guid hostId, CancellationToken cancellationToken) =>
        await SetHostStatusAsync(hostId, SwarmHostStatus.Active, SwarmChangeReasons.Active, cancellationToken);

    /// <summary>
    /// The placement of a deployment, written BEFORE any worker is called: every decky's shard names its
    /// host (pending, with the full snapshot and IP), and shards of deckies no longer deployed are
    /// deleted, in one transaction. A heartbeat that arrives while the workers deploy already measures
    /// itself against this placement.
    /// </summary>
    /// <returns>The hosts that held shards before and hold none now (they must clear what they run).</returns>
    public async Task<IReadOnlyList<Guid>> PlaceAsync(IReadOnlyList<DeckyConfig> placed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(placed);
        var now = Now();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var existing = await db.DeckyShards.ToListAsync(cancellationToken);
        var before = existing.Select(s => s.HostId).ToHashSet();
        var byName = existing.ToDictionary(s => s.DeckyName, StringComparer.Ordinal);
        var keep = placed.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        db.DeckyShards.RemoveRange(existing.Where(s => !keep.Contains(s.DeckyName)));
        foreach (var decky in placed)
        {
            var hostId = decky.HostUuid ?? throw new ArgumentException($"decky '{decky.Name}' has no host", nameof(placed));
            if (!byName.TryGetValue(decky.Name, out var shard))
            {
                shard = new DeckyShard { DeckyName = decky.Name };
                db.DeckyShards.Add(shard);
            }
            shard.HostId = hostId;
            shard.Services = JsonSerializer.Serialize(decky.Services);
            shard.DeckyConfig = DeckyConfigJson.Serialize(decky);
            shard.DeckyIp = decky.Ip;
            shard.State = DeckyShardState.Pending;
            shard.LastError = null;
            shard.UpdatedAt = now;
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        overview.Beats.ForgetAll();
        var after = placed.Select(d => d.HostUuid!.Value).ToHashSet();
        hub.Publish(new SwarmChanged(SwarmChangeReasons.Deployed, null));
        return before.Where(id => !after.Contains(id)).ToList();
    }

    /// <summary>
    /// Writes what a dispatch learned about the deckies placed on <paramref name="hostId"/>: state, error
    /// and, when the agent answered, the snapshot it runs. Never moves a shard to another host.
    /// </summary>
    public async Task RecordOutcomesAsync(Guid hostId, IReadOnlyList<ShardOutcome> outcomes, bool hostReached, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var names = outcomes.Select(o => o.Decky.Name).ToList();
        var shards = await db.DeckyShards.Where(s => s.HostId == hostId && names.Contains(s.DeckyName)).ToDictionaryAsync(s => s.DeckyName, StringComparer.Ordinal, cancellationToken);
        foreach (var outcome in outcomes)
        {
            if (!shards.TryGetValue(outcome.Decky.Name, out var shard))
            {
                continue;
            }
            shard.Services = JsonSerializer.Serialize(outcome.Decky.Services);
            shard.DeckyConfig = DeckyConfigJson.Serialize(outcome.Decky with { HostUuid = hostId });
            shard.DeckyIp = outcome.Decky.Ip;
            shard.State = outcome.State;
            shard.LastError = Clip(outcome.Error);
            shard.LastSeen = outcome.State is DeckyShardState.Running or DeckyShardState.Degraded ? now : shard.LastSeen;
            shard.UpdatedAt = now;
        }
        if (hostReached && await db.SwarmHosts.FirstOrDefaultAsync(h => h.Id == hostId, cancellationToken) is { } host)
        {
            host.Status = SwarmHostStatus.Active;
        }
        await db.SaveChangesAsync(cancellationToken);
        overview.Beats.Forget(hostId);
    }

    /// <summary>Replaces the stored snapshot of one shard (a mutation or an interval change); false when it is not on that host.</summary>
    public async Task<bool> UpdateSnapshotAsync(Guid hostId, DeckyConfig decky, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decky);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var shard = await db.DeckyShards.FirstOrDefaultAsync(s => s.HostId == hostId && s.DeckyName == decky.Name, cancellationToken);
        if (shard is null)
        {
            return false;
        }
        shard.Services = JsonSerializer.Serialize(decky.Services);
        shard.DeckyConfig = DeckyConfigJson.Serialize(decky with { HostUuid = hostId });
        shard.UpdatedAt = Now();
        await db.SaveChangesAsync(cancellationToken);
        overview.Beats.Forget(hostId);
        hub.Publish(new SwarmChanged(SwarmChangeReasons.Mutated, hostId));
        return true;
    }

    /// <summary>Sets the state (and error) of the named shards of one host; returns the names that exist.</summary>
    public async Task<IReadOnlyList<string>> SetShardStateAsync(Guid hostId, IReadOnlyCollection<string>? names, string state, string? error, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.DeckyShards.Where(s => s.HostId == hostId);
        if (names is not null)
        {
            query = query.Where(s => names.Contains(s.DeckyName));
        }
        var shards = await query.ToListAsync(cancellationToken);
        foreach (var shard in shards)
        {
            shard.State = state;
            shard.LastError = Clip(error);
            shard.UpdatedAt = now;
        }
        await db.SaveChangesAsync(cancellationToken);
        overview.Beats.Forget(hostId);
        return shards.Select(s => s.DeckyName).ToList();
    }

    public async Task<int> DeleteShardsAsync(Guid hostId, IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var deleted = await db.DeckyShards.Where(s => s.HostId == hostId && names.Contains(s.DeckyName)).ExecuteDeleteAsync(cancellationToken);
        overview.Beats.Forget(hostId);
        return deleted;
    }

    /// <summary>
    /// Forgets a host in one transaction: its shards, its row, and its fingerprints (worker and updater)
    /// written as tombstones so a still-valid certificate can never authenticate again.
    /// </summary>
    public async Task<bool> RemoveHostAsync(Guid hostId, string reason, CancellationToken cancellationToken, string change = SwarmChangeReasons.Decommissioned)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var host = await db.SwarmHosts.FirstOrDefaultAsync(h => h.Id == hostId, cancellationToken);
        if (host is null)
        {
            return false;
        }
        var tombstoned = new List<string>();
        foreach (var fingerprint in new[] { host.ClientCertFingerprint, host.UpdaterCertFingerprint })
        {
            if (CertificateFingerprint.Normalize(fingerprint) is { } normalized)
            {
                await AddTombstoneAsync(db, normalized, host.Name, reason, cancellationToken);
                tombstoned.Add(normalized);
            }
        }
        await db.DeckyShards.Where(s => s.HostId == hostId).ExecuteDeleteAsync(cancellationToken);
        db.SwarmHosts.Remove(host);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Revoked(tombstoned);
        overview.Beats.Forget(hostId);
        hub.Publish(new SwarmChanged(change, hostId));
        return true;
    }

    /// <summary>
    /// Revokes a fingerprint for good: it can never authenticate a heartbeat or match a host again, even
    /// when the host row or its certificate outlives the decommission.
    /// </summary>
    public async Task TombstoneAsync(string fingerprint, string hostName, string? reason, CancellationToken cancellationToken)
    {
        var normalized = CertificateFingerprint.Normalize(fingerprint)
            ?? throw new ArgumentException("Not a SHA-256 fingerprint.", nameof(fingerprint));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await AddTombstoneAsync(db, normalized, hostName, reason, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        Revoked([normalized]);
        var host = await db.SwarmHosts.AsNoTracking().FirstOrDefaultAsync(h => h.ClientCertFingerprint == normalized, cancellationToken);
        hub.Publish(new SwarmChanged(SwarmChangeReasons.Tombstoned, host?.Id));
    }

    /// <summary>Adds a tombstone row to the unit of work unless the fingerprint already has one.</summary>
    private async Task AddTombstoneAsync(DecnetDbContext db, string normalized, string hostName, string? reason, CancellationToken cancellationToken)
    {
        if (!await db.RevokedFingerprints.AnyAsync(r => r.Fingerprint == normalized, cancellationToken)
            && !db.RevokedFingerprints.Local.Any(r => r.Fingerprint == normalized))
        {
            db.RevokedFingerprints.Add(new RevokedFingerprint { Fingerprint = normalized, HostName = hostName, Reason = reason, RevokedAt = Now() });
        }
    }

    /// <summary>After the tombstones are committed: the handshake refuses them and cached peers are dropped.</summary>
    private void Revoked(IEnumerable<string> normalized)
    {
        foreach (var fingerprint in normalized)
        {
            revocations.Add(fingerprint);
        }
        overview.ForgetPeers();
    }

    private async Task<bool> SetHostStatusAsync(Guid hostId, string status, string reason, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var changed = await db.SwarmHosts.Where(h => h.Id == hostId && h.Status != SwarmHostStatus.Decommissioned && h.Status != status)
            .ExecuteUpdateAsync(u => u.SetProperty(h => h.Status, status), cancellationToken);
        overview.Beats.Forget(hostId);
        if (changed > 0)
        {
            hub.Publish(new SwarmChanged(reason, hostId));
        }
        return changed > 0;
    }

    private DateTime Now() => time.GetUtcNow().UtcDateTime;

    private static string? FirstServiceError(AgentDeckyStatus decky)
    {
        var failing = decky.Services.FirstOrDefault(s => !string.Equals(s.State, "running", StringComparison.OrdinalIgnoreCase));
        if (failing is null)
        {
            return null;
        }
        return Clip($"{failing.Name}: {failing.State}{(failing.Error is { Length: > 0 } error ? " - " + error : "")}");
    }
}
