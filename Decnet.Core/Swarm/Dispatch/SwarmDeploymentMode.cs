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
/// The deploy branch: a master with at least one reachable worker shards the fleet across the swarm,
/// otherwise <see cref="DeckyFleet"/> deploys locally as before. The swarm's state lives in
/// <c>decky_shards</c> (one source of truth): a sharded deploy clears the local deployment and stops
/// whatever the local runtime still ran, since the INI replaces the whole fleet.
/// </summary>
public sealed class SwarmDeploymentMode(
    SwarmOverview overview,
    SwarmDispatcher dispatcher,
    IDeckyRuntime runtime,
    DeploymentStore localDeployment,
    AuditTrail audit,
    NotificationHub hub,
    ILogger<SwarmDeploymentMode> logger)
{
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
