namespace Decnet.Core.Deckies.Fleet;

/// <summary>
/// The deckies a master placed on swarm workers, as the fleet reaches them. The swarm implements it
/// (it sits above the deckies it places), so the fleet never depends on the swarm; without a swarm
/// (a worker, a test host) there is none and the fleet is local only.
/// </summary>
public interface IWorkerFleet
{
    /// <summary>Shards the deployment across reachable workers; null when there are none (deploy locally).</summary>
    Task<FleetOperation?> TryDeployAsync(string actor, DecnetConfig deployment, CancellationToken cancellationToken);

    /// <summary>The deckies placed on workers, each with its host and shown state.</summary>
    Task<IReadOnlyList<FleetDecky>> ListAsync(int globalIntervalMinutes, CancellationToken cancellationToken);

    /// <summary>Rotates a worker decky's services; null when no worker has it.</summary>
    Task<FleetOperation?> TryMutateAsync(string actor, string name, Func<DeckyConfig, IReadOnlyList<string>> pick, CancellationToken cancellationToken);

    /// <summary>Sets a worker decky's own mutation interval; null when no worker has it.</summary>
    Task<FleetOperation?> TrySetMutateIntervalAsync(string actor, string name, int? minutes, string text, CancellationToken cancellationToken);

    /// <summary>Tears down one worker decky, or (name null) every one; null when there is nothing on workers.</summary>
    Task<FleetOperation?> TryTeardownAsync(string actor, string? name, CancellationToken cancellationToken);
}
