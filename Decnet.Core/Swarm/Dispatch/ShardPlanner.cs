using Decnet.Core.Deckies;

namespace Decnet.Core.Swarm.Dispatch;

/// <summary>
/// Places deckies on workers. Only live hosts count (active, or enrolled with an address; never
/// unreachable or decommissioned). A decky keeps a host it already has when that host is still live;
/// a decky whose host is gone (an orphan) is placed again like a new one. New placements go round-robin
/// in host order, each to the host with the fewest deckies so far, which for a fresh deploy is exactly
/// <c>index % hosts</c>.
/// </summary>
public static class ShardPlanner
{
    public static bool IsLive(SwarmHost host) =>
        host.Status == SwarmHostStatus.Active
        || (host.Status == SwarmHostStatus.Enrolled && !string.IsNullOrWhiteSpace(host.Address));

    /// <param name="deckies">The deployment's deckies; a <see cref="DeckyConfig.HostUuid"/> is an existing placement.</param>
    /// <param name="hosts">Every known host; the dead ones are ignored.</param>
    /// <param name="previous">Where each decky ran before (decky name → host), e.g. from the stored shards.</param>
    /// <returns>The deckies in their original order, each with its host.</returns>
    /// <exception cref="InvalidOperationException">No host is live.</exception>
    public static IReadOnlyList<DeckyConfig> Assign(
        IReadOnlyList<DeckyConfig> deckies,
        IReadOnlyList<SwarmHost> hosts,
        IReadOnlyDictionary<string, Guid>? previous = null)
    {
        ArgumentNullException.ThrowIfNull(deckies);
        ArgumentNullException.ThrowIfNull(hosts);
        var live = hosts.Where(IsLive).OrderBy(h => h.EnrolledAt).ThenBy(h => h.Name, StringComparer.Ordinal).ToList();
        if (live.Count == 0)
        {
            throw new InvalidOperationException("No swarm host is live: nothing to shard across.");
        }
        var liveIds = live.Select(h => h.Id).ToHashSet();
        var load = live.ToDictionary(h => h.Id, _ => 0);

        // Drop placements on hosts that are no longer live before counting: their deckies are orphans.
        Guid? Kept(DeckyConfig decky)
        {
            if (decky.HostUuid is { } own && liveIds.Contains(own))
            {
                return own;
            }
            return decky.HostUuid is null && previous is not null && previous.TryGetValue(decky.Name, out var before) && liveIds.Contains(before)
                ? before
                : null;
        }

        var placed = new Guid?[deckies.Count];
        for (var i = 0; i < deckies.Count; i++)
        {
            if (Kept(deckies[i]) is { } host)
            {
                placed[i] = host;
                load[host]++;
            }
        }
        var next = 0;
        for (var i = 0; i < deckies.Count; i++)
        {
            if (placed[i] is not null)
            {
                continue;
            }
            // Round-robin from where the last placement stopped, skipping hosts that already carry more.
            var least = load.Values.Min();
            while (load[live[next % live.Count].Id] != least)
            {
                next++;
            }
            var chosen = live[next % live.Count].Id;
            next++;
            placed[i] = chosen;
            load[chosen]++;
        }
        return deckies.Select((d, i) => d with { HostUuid = placed[i] }).ToList();
    }
}
