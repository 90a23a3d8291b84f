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

/// <summary>
/// The master's record of its workers: swarm_hosts, their decky_shards and the revoked_fingerprints
/// tombstones. Every change is published as <see cref="SwarmChanged"/> so open pages update live.
/// </summary>
public sealed class SwarmRegistry(IDbContextFactory<DecnetDbContext> dbFactory, NotificationHub hub, TimeProvider time)
{
    public async Task<IReadOnlyList<SwarmHost>> ListHostsAsync(string? status, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        IQueryable<SwarmHost> hosts = db.SwarmHosts.AsNoTracking().Include(h => h.Shards);
        if (!string.IsNullOrWhiteSpace(status))
        {
            hosts = hosts.Where(h => h.Status == status);
        }
        return await hosts.OrderBy(h => h.Name).ToListAsync(cancellationToken);
    }

    public async Task<SwarmHost?> GetHostAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.SwarmHosts.AsNoTracking().Include(h => h.Shards).FirstOrDefaultAsync(h => h.Id == id, cancellationToken);
    }

    public async Task<bool> NameExistsAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.SwarmHosts.AnyAsync(h => h.Name == name, cancellationToken);
    }

    /// <summary>
    /// The host whose worker certificate has this fingerprint (the unique index on
    /// ClientCertFingerprint), or null. A tombstoned fingerprint never matches, even if a row still has it.
    /// </summary>
    public async Task<SwarmHost?> GetByFingerprintAsync(string fingerprint, CancellationToken cancellationToken)
    {
        var normalized = CertificateFingerprint.Normalize(fingerprint);
        if (normalized is null)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.RevokedFingerprints.AnyAsync(r => r.Fingerprint == normalized, cancellationToken))
        {
            return null;
        }
        return await db.SwarmHosts.AsNoTracking().FirstOrDefaultAsync(h => h.ClientCertFingerprint == normalized, cancellationToken);
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

    /// <summary>Inserts a freshly enrolled host.</summary>
    /// <exception cref="SwarmHostNameTakenException">The name is already enrolled.</exception>
    public async Task<SwarmHost> CreateAsync(SwarmHost host, CancellationToken cancellationToken)
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
            if (await NameExistsAsync(host.Name, cancellationToken))
            {
                throw new SwarmHostNameTakenException(host.Name);
            }
            throw;
        }
        hub.Publish(new SwarmChanged(SwarmChangeReasons.Enrolled, host.Id));
        return host;
    }

    /// <summary>
    /// An authenticated heartbeat: the host is active as of now, and every decky the agent reports is
    /// upserted as a shard with a fresh config snapshot, its IP and the state the runtime reports
    /// (running, otherwise degraded). A shard being torn down keeps that state until the teardown ends.
    /// </summary>
    /// <returns>False when the host no longer exists.</returns>
    public async Task<bool> RecordHeartbeatAsync(Guid hostId, AgentStatus status, CancellationToken cancellationToken) =>
        await RecordHeartbeatAsync(hostId, status, peerAddress: null, cancellationToken);

    /// <summary>
    /// As above; a host enrolled without an address (the wizard does not know it) takes
    /// <paramref name="peerAddress"/>, where its pinned heartbeat came from, so the master can dispatch to it.
    /// </summary>
    public async Task<bool> RecordHeartbeatAsync(Guid hostId, AgentStatus status, string? peerAddress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        var now = Now();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var host = await db.SwarmHosts.FirstOrDefaultAsync(h => h.Id == hostId, cancellationToken);
        if (host is null)
        {
            return false;
        }
        host.LastHeartbeat = now;
        host.Status = SwarmHostStatus.Active;
        if (string.IsNullOrWhiteSpace(host.Address) && !string.IsNullOrWhiteSpace(peerAddress))
        {
            host.Address = peerAddress;
        }

        var reported = status.Deployed
            ? status.Deckies.Where(d => !string.IsNullOrWhiteSpace(d.Name)).DistinctBy(d => d.Name, StringComparer.Ordinal).ToList()
            : [];
        if (reported.Count > 0)
        {
            var names = reported.Select(d => d.Name).ToList();
            var shards = await db.DeckyShards.Where(s => names.Contains(s.DeckyName)).ToDictionaryAsync(s => s.DeckyName, StringComparer.Ordinal, cancellationToken);
            foreach (var decky in reported)
            {
                if (!shards.TryGetValue(decky.Name, out var shard))
                {
                    shard = new DeckyShard { DeckyName = decky.Name, HostId = hostId };
                    db.DeckyShards.Add(shard);
                }
                shard.HostId = hostId;
                if (decky.Config is { } config)
                {
                    shard.DeckyConfig = DeckyConfigJson.Serialize(config);
                    shard.DeckyIp = config.Ip;
                    shard.Services = JsonSerializer.Serialize(config.Services);
                }
                if (shard.State != DeckyShardState.TearingDown)
                {
                    shard.State = decky.State == DeckyShardState.Running ? DeckyShardState.Running : DeckyShardState.Degraded;
                    shard.LastError = shard.State == DeckyShardState.Degraded ? FirstServiceError(decky) : null;
                }
                shard.LastSeen = now;
                shard.UpdatedAt = now;
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        hub.Publish(new SwarmChanged(SwarmChangeReasons.Heartbeat, hostId));
        return true;
    }

    /// <summary>
    /// Active (or enrolled, once heard from) hosts whose last heartbeat is older than
    /// <paramref name="silentSince"/> become unreachable. Returns how many changed.
    /// </summary>
    public async Task<int> MarkSilentHostsUnreachableAsync(DateTime silentSince, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var silent = await db.SwarmHosts
            .Where(h => (h.Status == SwarmHostStatus.Active || h.Status == SwarmHostStatus.Enrolled)
                && h.LastHeartbeat != null && h.LastHeartbeat < silentSince)
            .ToListAsync(cancellationToken);
        foreach (var host in silent)
        {
            host.Status = SwarmHostStatus.Unreachable;
        }
        await db.SaveChangesAsync(cancellationToken);
        foreach (var host in silent)
        {
            hub.Publish(new SwarmChanged(SwarmChangeReasons.Unreachable, host.Id));
        }
        return silent.Count;
    }

    /// <summary>Marks one host unreachable (a failed probe).</summary>
    public async Task<bool> MarkUnreachableAsync(Guid hostId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var changed = await db.SwarmHosts.Where(h => h.Id == hostId && h.Status != SwarmHostStatus.Decommissioned)
            .ExecuteUpdateAsync(u => u.SetProperty(h => h.Status, SwarmHostStatus.Unreachable), cancellationToken);
        if (changed > 0)
        {
            hub.Publish(new SwarmChanged(SwarmChangeReasons.Unreachable, hostId));
        }
        return changed > 0;
    }

    /// <summary>
    /// Revokes a fingerprint for good (decommission): it can never authenticate a heartbeat or match a
    /// host again, even when the host row or its certificate outlives the decommission.
    /// </summary>
    public async Task TombstoneAsync(string fingerprint, string hostName, string? reason, CancellationToken cancellationToken)
    {
        var normalized = CertificateFingerprint.Normalize(fingerprint)
            ?? throw new ArgumentException("Not a SHA-256 fingerprint.", nameof(fingerprint));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.RevokedFingerprints.AnyAsync(r => r.Fingerprint == normalized, cancellationToken))
        {
            db.RevokedFingerprints.Add(new RevokedFingerprint { Fingerprint = normalized, HostName = hostName, Reason = reason, RevokedAt = Now() });
            await db.SaveChangesAsync(cancellationToken);
        }
        var host = await db.SwarmHosts.AsNoTracking().FirstOrDefaultAsync(h => h.ClientCertFingerprint == normalized, cancellationToken);
        hub.Publish(new SwarmChanged(SwarmChangeReasons.Tombstoned, host?.Id));
    }

    private DateTime Now() => time.GetUtcNow().UtcDateTime;

    private static string? FirstServiceError(AgentDeckyStatus decky)
    {
        var failing = decky.Services.FirstOrDefault(s => !string.Equals(s.State, "running", StringComparison.OrdinalIgnoreCase));
        if (failing is null)
        {
            return null;
        }
        var text = $"{failing.Name}: {failing.State}{(failing.Error is { Length: > 0 } error ? " - " + error : "")}";
        return text.Length > 512 ? text[..512] : text;
    }
}
