using System.Text.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Swarm.Dispatch;

/// <summary>The master's writes to <c>decky_shards</c>, <c>swarm_hosts</c> and <c>revoked_fingerprints</c> for dispatch, teardown and decommission.</summary>
public sealed class ShardStore(IDbContextFactory<DecnetDbContext> dbFactory, TimeProvider time)
{
    /// <summary>Errors are stored for the operator, not as a log: the first 512 characters.</summary>
    public const int MaxErrorLength = 512;

    public static string? Clip(string? error) => error is { Length: > MaxErrorLength } ? error[..MaxErrorLength] : error;

    public async Task<IReadOnlyList<SwarmHost>> HostsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.SwarmHosts.AsNoTracking().ToListAsync(cancellationToken);
    }

    public async Task<SwarmHost?> HostAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.SwarmHosts.AsNoTracking().FirstOrDefaultAsync(h => h.Id == id, cancellationToken);
    }

    public async Task<IReadOnlyList<DeckyShard>> ShardsAsync(Guid? hostId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.DeckyShards.AsNoTracking();
        if (hostId is { } id)
        {
            query = query.Where(s => s.HostId == id);
        }
        return await query.OrderBy(s => s.DeckyName).ToListAsync(cancellationToken);
    }

    /// <summary>Writes what a dispatch learned: one row per decky with its full snapshot and IP.</summary>
    public async Task UpsertAsync(Guid hostId, IReadOnlyList<ShardOutcome> outcomes, bool hostReached, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var names = outcomes.Select(o => o.Decky.Name).ToList();
        var existing = await db.DeckyShards.Where(s => names.Contains(s.DeckyName)).ToDictionaryAsync(s => s.DeckyName, cancellationToken);
        foreach (var outcome in outcomes)
        {
            if (!existing.TryGetValue(outcome.Decky.Name, out var shard))
            {
                shard = new DeckyShard { DeckyName = outcome.Decky.Name };
                db.DeckyShards.Add(shard);
            }
            shard.HostId = hostId;
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
    }

    /// <summary>Sets the state (and error) of the named shards of one host; returns the names that exist.</summary>
    public async Task<IReadOnlyList<string>> SetStateAsync(Guid hostId, IReadOnlyCollection<string>? names, string state, string? error, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
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
        return shards.Select(s => s.DeckyName).ToList();
    }

    public async Task<int> DeleteAsync(Guid hostId, IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.DeckyShards.Where(s => s.HostId == hostId && names.Contains(s.DeckyName)).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>Removes the shards of deckies that are not in <paramref name="keep"/>; returns how many.</summary>
    public async Task<int> DeleteAllExceptAsync(IReadOnlyCollection<string> keep, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.DeckyShards.Where(s => !keep.Contains(s.DeckyName)).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>
    /// Forgets a host in one transaction: its shards, its row, and its fingerprints (worker and updater)
    /// written as tombstones so a still-valid certificate can never authenticate again.
    /// </summary>
    public async Task<bool> RemoveHostAsync(Guid hostId, string reason, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var host = await db.SwarmHosts.FirstOrDefaultAsync(h => h.Id == hostId, cancellationToken);
        if (host is null)
        {
            return false;
        }
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var fingerprint in new[] { host.ClientCertFingerprint, host.UpdaterCertFingerprint })
        {
            if (string.IsNullOrWhiteSpace(fingerprint))
            {
                continue;
            }
            var normalized = Pki.CertificateFingerprint.Normalize(fingerprint) ?? fingerprint;
            if (!await db.RevokedFingerprints.AnyAsync(r => r.Fingerprint == normalized, cancellationToken))
            {
                db.RevokedFingerprints.Add(new RevokedFingerprint { Fingerprint = normalized, HostName = host.Name, RevokedAt = now, Reason = reason });
            }
        }
        await db.DeckyShards.Where(s => s.HostId == hostId).ExecuteDeleteAsync(cancellationToken);
        db.SwarmHosts.Remove(host);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }
}

/// <summary>What one dispatch did to one decky.</summary>
public sealed record ShardOutcome(DeckyConfig Decky, string State, string? Error, AgentDeckyStatusView? Runtime = null);

/// <summary>The agent's view of a decky when it gave one (services and their states).</summary>
public sealed record AgentDeckyStatusView(string State, IReadOnlyList<Protocol.AgentServiceStatus> Services);
