using Decnet.Core.Deckies.Runtime;

namespace Decnet.Core.Deckies.Fleet;

/// <summary>Published on the notification hub whenever the fleet changes (deploy, mutation, interval, teardown).</summary>
public sealed record FleetChanged(string Reason, string? DeckyName, RuntimeStatus Status);

public enum FleetOperationStatus
{
    Ok,
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
    public bool Succeeded => Status == FleetOperationStatus.Ok;
}

/// <summary>A decky as the fleet view shows it: the stored configuration and what runs.</summary>
public sealed record FleetDecky(DeckyConfig Config, DeckyStatus? Status, int EffectiveMutateInterval);

/// <summary>A validated INI, before anything is deployed.</summary>
public sealed record DeploymentPreview(DecnetConfig? Deployment, IReadOnlyList<IniError> Errors, string? LimitError)
{
    public bool IsValid => Deployment is not null && Errors.Count == 0 && LimitError is null;
}
