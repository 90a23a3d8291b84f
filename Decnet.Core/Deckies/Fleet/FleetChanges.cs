using Decnet.Core.Deckies.Runtime;

namespace Decnet.Core.Deckies.Fleet;

public enum FleetOperationStatus
{
    Ok,

    /// <summary>Started on a swarm worker; the outcome arrives later (a teardown).</summary>
    Accepted,
    Invalid,
    NotFound,
    LimitExceeded,
    Busy,
    Failed,
}

/// <summary>The outcome of a fleet operation: pages render it, the API maps the status to HTTP.</summary>
/// <remarks><see cref="Mode"/> is "swarm" when the deploy was sharded across workers.</remarks>
public sealed record FleetOperation(FleetOperationStatus Status, string Message, IReadOnlyList<IniError>? Errors = null, RuntimeStatus? Runtime = null, string Mode = "unihost")
{
    public bool Succeeded => Status is FleetOperationStatus.Ok or FleetOperationStatus.Accepted;
}

/// <summary>
/// A decky as the fleet view shows it: the stored configuration and what runs. A decky on a swarm
/// worker has a <see cref="Placement"/> (and no local <see cref="Status"/>).
/// </summary>
public sealed record FleetDecky(DeckyConfig Config, DeckyStatus? Status, int EffectiveMutateInterval, SwarmPlacement? Placement = null);

/// <summary>Where a swarm decky runs and its shard state as the master sees it (unreachable when its worker is silent).</summary>
public sealed record SwarmPlacement(Guid HostId, string HostName, string State, string? Error);

/// <summary>A validated INI, before anything is deployed.</summary>
public sealed record DeploymentPreview(DecnetConfig? Deployment, IReadOnlyList<IniError> Errors, string? LimitError)
{
    public bool IsValid => Deployment is not null && Errors.Count == 0 && LimitError is null;
}
