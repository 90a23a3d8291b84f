using System.Text.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Swarm.Dispatch;

/// <summary>A worker as the Swarm Hosts page and <c>GET /api/v1/swarm/hosts</c> show it.</summary>
public sealed record SwarmHostView(
    Guid Id, string Name, string? Address, int AgentPort, string Status, DateTime? LastHeartbeat,
    string ClientCertFingerprint, DateTime EnrolledAt, bool UseIpvlan, int DeckyCount);

/// <summary>
/// A shard joined with its host. <see cref="Config"/> is the DeckyConfig snapshot the dispatch stored;
/// it is null on rows written before snapshots existed, which still list with what the row has.
/// </summary>
public sealed record SwarmDeckyView(
    string Name, Guid HostId, string HostName, string? HostAddress, string HostStatus, string Ip, string State,
    string? LastError, DateTime? LastSeen, DateTime UpdatedAt, IReadOnlyList<string> Services, DeckyConfig? Config);

/// <summary>Read side of the swarm: hosts with their decky count, and shards joined with their hosts.</summary>
public sealed class SwarmOverview(IDbContextFactory<DecnetDbContext> dbFactory)
{
    public const string Unknown = "—";

    public async Task<IReadOnlyList<SwarmHostView>> HostsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var counts = await db.DeckyShards.AsNoTracking().GroupBy(s => s.HostId).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        var hosts = await db.SwarmHosts.AsNoTracking().ToListAsync(cancellationToken);
        return hosts.OrderBy(h => h.Name, StringComparer.Ordinal)
            .Select(h => new SwarmHostView(h.Id, h.Name, h.Address, h.AgentPort, h.Status, h.LastHeartbeat, h.ClientCertFingerprint,
                h.EnrolledAt, h.UseIpvlan, counts.GetValueOrDefault(h.Id)))
            .ToList();
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
        if (!string.IsNullOrEmpty(state))
        {
            query = query.Where(s => s.State == state);
        }
        var shards = await query.OrderBy(s => s.DeckyName).ToListAsync(cancellationToken);
        return shards.Select(ToView).ToList();
    }

    private static SwarmDeckyView ToView(DeckyShard shard)
    {
        var config = Snapshot(shard.DeckyConfig);
        var ip = config?.Ip is { Length: > 0 } snapshotIp ? snapshotIp : shard.DeckyIp is { Length: > 0 } columnIp ? columnIp : Unknown;
        return new SwarmDeckyView(
            shard.DeckyName, shard.HostId, shard.Host?.Name ?? Unknown, shard.Host?.Address, shard.Host?.Status ?? Unknown, ip,
            shard.State, shard.LastError, shard.LastSeen, shard.UpdatedAt, config?.Services ?? ServiceList(shard.Services), config);
    }

    private static DeckyConfig? Snapshot(string? json)
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
