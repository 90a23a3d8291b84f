using Decnet.Core.Audit;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Swarm.Dispatch;

/// <summary>The outcome of a decommission; <see cref="SelfDestructScheduled"/> is false when the worker could not be reached.</summary>
public sealed record DecommissionResult(bool Found, string Message, bool SelfDestructScheduled);

/// <summary>
/// Removes a worker from the swarm for good: asks its agent to self-destruct (best effort: a dead worker
/// does not block), then deletes its shards and its row and tombstones its certificate fingerprints,
/// so the still-valid certificate can never heartbeat, ship logs or resurrect shards again.
/// </summary>
public sealed class SwarmDecommissioner(SwarmOverview overview, SwarmStore store, AgentClientFactory clients, AuditTrail audit, ILogger<SwarmDecommissioner> logger)
{
    public async Task<DecommissionResult> DecommissionAsync(string actor, Guid hostId, CancellationToken cancellationToken)
    {
        var host = await overview.HostAsync(hostId, cancellationToken);
        if (host is null)
        {
            return new DecommissionResult(false, $"No swarm host {hostId}.", false);
        }
        var scheduled = false;
        string note;
        try
        {
            await clients.For(host).SelfDestructAsync(cancellationToken);
            scheduled = true;
            note = "its agent is wiping the install (logs are kept)";
        }
        catch (AgentCallException ex)
        {
            logger.LogWarning("{Host} could not be asked to self-destruct; forgetting it anyway: {Error}", host.Name, ex.Message);
            note = $"its agent could not be reached ({SwarmStore.Clip(ex.Message)}), so the install stays on the machine";
        }
        clients.Forget(hostId);
        await store.RemoveHostAsync(hostId, $"decommissioned by {actor}", CancellationToken.None);
        await audit.RecordAsync(actor, "swarm.decommissioned", host.Name, scheduled ? "self-destruct scheduled" : "worker unreachable", CancellationToken.None);
        return new DecommissionResult(true, $"{host.Name} was decommissioned and its certificate revoked; {note}.", scheduled);
    }
}
