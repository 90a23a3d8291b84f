namespace Decnet.Core.Deckies.Fleet;

/// <summary>The operator's settings the fleet obeys.</summary>
/// <param name="DeploymentLimit">How many deckies one deployment may hold.</param>
/// <param name="GlobalMutationIntervalMinutes">The mutation interval of a decky without its own.</param>
public sealed record FleetSettings(int DeploymentLimit, int GlobalMutationIntervalMinutes);

/// <summary>
/// Where the fleet reads its settings. The settings service implements it: the settings sit above the
/// features they configure (they validate with those features' rules), so the fleet never depends on them.
/// </summary>
public interface IFleetSettings
{
    Task<FleetSettings> GetFleetSettingsAsync(CancellationToken cancellationToken);
}
