using Decnet.Core.Audit;
using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Notifications;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Swarm.Dispatch;

/// <summary>Where the next deploy goes, as the banner and <c>/api/v1/system/deployment-mode</c> show it.</summary>
public sealed record DeploymentModeInfo(bool Sharded, int LiveHostCount, IReadOnlyList<string> HostNames)
{
    public string Mode => Sharded ? "swarm" : "unihost";

    public string Banner(string runtimeKind) => Sharded
        ? $"Deploys will shard across {LiveHostCount} host{(LiveHostCount == 1 ? "" : "s")} ({string.Join(", ", HostNames)})."
        : $"Deploys go to this host: the {runtimeKind} runtime will deploy locally.";
}

/// <summary>
/// The swarm branch of <see cref="DeckyFleet"/>. Deploy: a master with at least one reachable worker
/// shards the fleet across the swarm, otherwise the fleet deploys locally as before. The swarm's state
/// lives in <c>decky_shards</c> (one source of truth): a sharded deploy clears the local deployment and
/// stops whatever the local runtime still ran, since the INI replaces the whole fleet. The fleet's other
/// operations reach the deckies on workers through here as well: listing (a silent worker's deckies are
/// unreachable, not running), mutation (the agent's <c>/mutate</c>, snapshot updated), the mutation
/// interval (the snapshot) and teardown (asynchronous, <see cref="ShardTeardownQueue"/>).
/// </summary>
public sealed class SwarmDeploymentMode(
    SwarmOverview overview,
    SwarmStore store,
    SwarmDispatcher dispatcher,
    ShardTeardownQueue teardowns,
    AgentClientFactory clients,
    IDeckyRuntime runtime,
    DeploymentStore localDeployment,
    AuditTrail audit,
    NotificationHub hub,
    TimeProvider time,
    ILogger<SwarmDeploymentMode> logger) : IWorkerFleet
{
    /// <summary>The deckies placed on workers, each with its host and shown state.</summary>
    public async Task<IReadOnlyList<FleetDecky>> ListAsync(int globalIntervalMinutes, CancellationToken cancellationToken) =>
        [.. (await overview.DeckiesAsync(null, null, cancellationToken)).Select(s =>
        {
            var config = Config(s);
            return new FleetDecky(config, null, config.MutateInterval ?? globalIntervalMinutes, new SwarmPlacement(s.HostId, s.HostName, s.State, s.LastError));
        })];

    /// <summary>Rotates a swarm decky's services on its worker; null when no worker has it.</summary>
    public async Task<FleetOperation?> TryMutateAsync(string actor, string name, Func<DeckyConfig, IReadOnlyList<string>> pick, CancellationToken cancellationToken)
    {
        if (await FindAsync(name, cancellationToken) is not { } shard)
        {
            return null;
        }
        if (shard.State == DeckyShardState.Unreachable)
        {
            return new FleetOperation(FleetOperationStatus.Failed, $"{shard.Name} runs on {shard.HostName}, which is unreachable: not mutated.");
        }
        var host = await overview.HostAsync(shard.HostId, cancellationToken);
        if (host is null)
        {
            return null;
        }
        var decky = Config(shard);
        var services = pick(decky);
        try
        {
            await clients.For(host).MutateAsync(decky.Name, services, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Mutating {Decky} on {Host} failed: {Error}", decky.Name, host.Name, ex.Message);
            return new FleetOperation(FleetOperationStatus.Failed, $"Mutating {decky.Name} on {host.Name} failed: {SwarmStore.Clip(ex.Message)}");
        }
        await store.UpdateSnapshotAsync(host.Id, decky with { Services = services, LastMutated = time.GetUtcNow().UtcDateTime }, cancellationToken);
        await audit.RecordAsync(actor, "decky.mutated", decky.Name, $"{string.Join(",", decky.Services)} -> {string.Join(",", services)} on {host.Name}", cancellationToken);
        return new FleetOperation(FleetOperationStatus.Ok, $"{decky.Name} on {host.Name} now exposes {string.Join(", ", services)}.");
    }

    /// <summary>Sets a swarm decky's own mutation interval (null: the global one); null when no worker has it.</summary>
    public async Task<FleetOperation?> TrySetMutateIntervalAsync(string actor, string name, int? minutes, string text, CancellationToken cancellationToken)
    {
        if (await FindAsync(name, cancellationToken) is not { } shard)
        {
            return null;
        }
        await store.UpdateSnapshotAsync(shard.HostId, Config(shard) with { MutateInterval = minutes }, cancellationToken);
        await audit.RecordAsync(actor, "decky.mutate_interval", shard.Name, text, cancellationToken);
        return new FleetOperation(FleetOperationStatus.Ok, $"{shard.Name} now mutates every {text}.");
    }

    /// <summary>
    /// Tears down a swarm decky (or, with a null name, every shard on every worker) asynchronously;
    /// null when the name is on no worker, or when no shard exists at all.
    /// </summary>
    public async Task<FleetOperation?> TryTeardownAsync(string actor, string? name, CancellationToken cancellationToken)
    {
        if (name is not null)
        {
            if (await FindAsync(name, cancellationToken) is not { } shard)
            {
                return null;
            }
            var one = await teardowns.EnqueueAsync(actor, shard.HostId, shard.Name, cancellationToken);
            return new FleetOperation(one.Status == TeardownRequestStatus.Accepted ? FleetOperationStatus.Accepted : FleetOperationStatus.NotFound, one.Message);
        }
        var hosts = (await overview.ShardsAsync(null, cancellationToken)).Select(s => s.HostId).Distinct().ToList();
        if (hosts.Count == 0)
        {
            return null;
        }
        var messages = new List<string>();
        foreach (var hostId in hosts)
        {
            messages.Add((await teardowns.EnqueueAsync(actor, hostId, null, cancellationToken)).Message);
        }
        return new FleetOperation(FleetOperationStatus.Accepted, string.Join(" ", messages));
    }

    private async Task<SwarmDeckyView?> FindAsync(string name, CancellationToken cancellationToken) =>
        (await overview.DeckiesAsync(null, null, cancellationToken)).FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The stored snapshot, or what the row has for rows written before snapshots existed.</summary>
    private static DeckyConfig Config(SwarmDeckyView shard) => shard.Config ?? new DeckyConfig
    {
        Name = shard.Name,
        Ip = shard.Ip,
        Services = shard.Services,
        Hostname = shard.Name,
        HostUuid = shard.HostId,
    };

    public async Task<DeploymentModeInfo> GetAsync(CancellationToken cancellationToken)
    {
        var live = (await overview.HostRecordsAsync(null, withShards: false, cancellationToken)).Where(ShardPlanner.IsLive).OrderBy(h => h.Name, StringComparer.Ordinal).ToList();
        return new DeploymentModeInfo(live.Count > 0, live.Count, live.Select(h => h.Name).ToList());
    }

    /// <summary>Shards <paramref name="deployment"/> when the swarm has a live worker; null means "deploy locally".</summary>
    public async Task<FleetOperation?> TryDeployAsync(string actor, DecnetConfig deployment, CancellationToken cancellationToken)
    {
        if (!(await GetAsync(cancellationToken)).Sharded)
        {
            return null;
        }
        SwarmDispatchResult result;
        try
        {
            result = await dispatcher.DispatchAsync(deployment with { Mode = DeploymentMode.Swarm }, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Sharding the deployment failed");
            return new FleetOperation(FleetOperationStatus.Failed, $"Sharding across the swarm failed: {ex.Message}", null, null, "swarm");
        }
        var status = new RuntimeStatus(result.Deckies.Select(ToStatus).ToList());
        var succeeded = result.Hosts.Where(h => h.Ok).ToList();
        if (succeeded.Count > 0)
        {
            await ClearLocalAsync(cancellationToken);
        }

        var placement = string.Join(", ", result.Hosts.Select(h => $"{h.HostName} {h.Deckies.Count}"));
        var failures = string.Join("; ", result.Hosts.Where(h => !h.Ok).Select(h => $"{h.HostName}: {h.Detail}"));
        var message = $"Sharded {deployment.Deckies.Count} decky(ies) across {result.Hosts.Count} host(s) ({placement})."
            + (failures.Length > 0 ? $" Failed on {failures}" : "");
        await audit.RecordAsync(actor, "deckies.deployed", "swarm", message, cancellationToken);
        hub.Publish(new FleetChanged("deployed", null, status));
        return new FleetOperation(succeeded.Count > 0 ? FleetOperationStatus.Ok : FleetOperationStatus.Failed, message, null, status, "swarm");
    }

    private async Task ClearLocalAsync(CancellationToken cancellationToken)
    {
        if (await localDeployment.LoadAsync(cancellationToken) is null && (await runtime.GetStatusAsync(cancellationToken)).Deckies.Count == 0)
        {
            return;
        }
        logger.LogInformation("The fleet moved to the swarm: tearing down the local deckies");
        await runtime.TeardownAsync(null, cancellationToken);
        await localDeployment.ClearAsync(cancellationToken);
    }

    private static DeckyStatus ToStatus(ShardOutcome outcome)
    {
        var state = outcome.State switch
        {
            DeckyShardState.Running => DeckyRunState.Running,
            DeckyShardState.Degraded => DeckyRunState.Degraded,
            _ => DeckyRunState.Failed,
        };
        var services = outcome.Runtime?.Services.Select(s => new ServiceStatus(
                s.Name, Enum.TryParse<ServiceRunState>(s.State, ignoreCase: true, out var parsed) ? parsed : ServiceRunState.Absent, s.Error, s.Endpoints)).ToList()
            ?? outcome.Decky.Services.Select(s => new ServiceStatus(s, state == DeckyRunState.Failed ? ServiceRunState.Absent : ServiceRunState.Running, outcome.Error)).ToList();
        return new DeckyStatus(outcome.Decky.Name, state, services, outcome.Decky);
    }
}
