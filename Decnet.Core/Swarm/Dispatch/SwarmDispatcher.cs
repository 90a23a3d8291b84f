using Decnet.Core.Deckies;
using Decnet.Core.Notifications;
using Decnet.Core.Swarm.Protocol;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Swarm.Dispatch;

/// <summary>
/// Sends a deployment to the swarm: places the deckies on live workers (<see cref="ShardPlanner"/>),
/// writes that placement first (every shard names its host before any worker is called, so heartbeats
/// arriving meanwhile are measured against it), then posts each worker its share in parallel and records
/// what each decky became. A failed post is not taken at its word: the worker's <c>/status</c> says which
/// deckies do run; only when that probe fails too is the whole share marked failed.
/// </summary>
public sealed class SwarmDispatcher(SwarmOverview overview, SwarmStore store, AgentClientFactory clients, NotificationHub hub, ILogger<SwarmDispatcher> logger)
{
    public async Task<SwarmDispatchResult> DispatchAsync(DecnetConfig deployment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var hosts = await overview.HostRecordsAsync(null, withShards: false, cancellationToken);
        var previous = (await overview.ShardsAsync(null, cancellationToken)).ToDictionary(s => s.DeckyName, s => s.HostId, StringComparer.Ordinal);
        var placed = ShardPlanner.Assign(deployment.Deckies, hosts, previous);
        var byId = hosts.ToDictionary(h => h.Id);

        // The INI replaces the whole fleet: shards of deckies it no longer has go with the placement.
        var emptied = await store.PlaceAsync(placed, cancellationToken);
        var shares = placed.GroupBy(d => d.HostUuid!.Value).Select(g => (Host: byId[g.Key], Deckies: (IReadOnlyList<DeckyConfig>)g.ToList())).ToList();
        var results = await Task.WhenAll(shares.Select(s => DispatchHostAsync(s.Host, deployment, s.Deckies, cancellationToken)));

        // Workers that got a share replaced their own set; a live worker that held shards and got nothing
        // this time is asked to clear what it still runs (its heartbeats would flag the rest as strays).
        foreach (var hostId in emptied)
        {
            if (byId.TryGetValue(hostId, out var host) && ShardPlanner.IsLive(host))
            {
                await TryClearAsync(host, cancellationToken);
            }
        }
        hub.Publish(new SwarmChanged(SwarmChangeReasons.Deployed, null));
        return new SwarmDispatchResult(results);
    }

    private async Task<HostDispatchResult> DispatchHostAsync(SwarmHost host, DecnetConfig deployment, IReadOnlyList<DeckyConfig> deckies, CancellationToken cancellationToken)
    {
        // A worker on Wi-Fi needs ipvlan whatever the INI says; it is never switched back off.
        var share = deployment with { Mode = DeploymentMode.Swarm, Deckies = deckies, Ipvlan = deployment.Ipvlan || host.UseIpvlan };
        AgentClient? client = null;
        try
        {
            client = clients.For(host);
            var answer = await client.DeployAsync(share, cancellationToken);
            var outcomes = deckies.Select(d => new ShardOutcome(d, DeckyShardState.Running, null, View(answer.Runtime, d.Name))).ToList();
            await store.RecordOutcomesAsync(host.Id, outcomes, hostReached: true, cancellationToken);
            logger.LogInformation("Dispatched {Count} decky(ies) to {Host}", deckies.Count, host.Name);
            return new HostDispatchResult(host.Id, host.Name, true, $"{deckies.Count} decky(ies) deployed", outcomes);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var error = SwarmStore.Clip(ex.Message)!;
            logger.LogWarning("Dispatch to {Host} failed: {Error}", host.Name, error);
            var outcomes = await ProbeAsync(client, deckies, error, cancellationToken);
            await store.RecordOutcomesAsync(host.Id, outcomes, hostReached: false, cancellationToken);
            return new HostDispatchResult(host.Id, host.Name, false, error, outcomes);
        }
    }

    /// <summary>Per-decky truth after a failed deploy; everything failed only when the worker cannot even say.</summary>
    private async Task<IReadOnlyList<ShardOutcome>> ProbeAsync(AgentClient? client, IReadOnlyList<DeckyConfig> deckies, string error, CancellationToken cancellationToken)
    {
        if (client is not null)
        {
            try
            {
                var status = await client.GetStatusAsync(cancellationToken);
                return deckies.Select(d =>
                {
                    var seen = status.Deckies.FirstOrDefault(s => string.Equals(s.Name, d.Name, StringComparison.OrdinalIgnoreCase));
                    return seen?.State is DeckyShardState.Running or DeckyShardState.Degraded
                        ? new ShardOutcome(d, seen.State, null, View(seen))
                        : new ShardOutcome(d, DeckyShardState.Failed, error, seen is null ? null : View(seen));
                }).ToList();
            }
            catch (Exception probe) when (probe is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Status probe of {Host} failed too: {Error}", client.HostName, probe.Message);
            }
        }
        return deckies.Select(d => new ShardOutcome(d, DeckyShardState.Failed, error)).ToList();
    }

    private async Task TryClearAsync(SwarmHost host, CancellationToken cancellationToken)
    {
        try
        {
            await clients.For(host).TeardownAsync(null, cancellationToken);
        }
        catch (AgentCallException ex)
        {
            logger.LogWarning("{Host} still runs deckies from the previous deploy and could not clear them: {Error}", host.Name, ex.Message);
        }
    }

    private static AgentDeckyStatusView? View(AgentStatus? status, string name) =>
        status?.Deckies.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)) is { } seen ? View(seen) : null;

    private static AgentDeckyStatusView View(AgentDeckyStatus seen) => new(seen.State, seen.Services);
}

/// <summary>The outcome of a swarm deploy, per worker.</summary>
public sealed record SwarmDispatchResult(IReadOnlyList<HostDispatchResult> Hosts)
{
    public bool AllSucceeded => Hosts.All(h => h.Ok);

    public IEnumerable<ShardOutcome> Deckies => Hosts.SelectMany(h => h.Deckies);
}

public sealed record HostDispatchResult(Guid HostId, string HostName, bool Ok, string Detail, IReadOnlyList<ShardOutcome> Deckies);
