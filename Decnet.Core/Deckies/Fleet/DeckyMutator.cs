using Microsoft.Extensions.Logging;

namespace Decnet.Core.Deckies.Fleet;

/// <summary>Decides which deckies are due for a mutation and mutates them, locally and on swarm workers.</summary>
public sealed class DeckyMutator(DeckyFleet fleet, TimeProvider time, ILogger<DeckyMutator> logger)
{
    public const string Actor = "mutator";

    /// <summary>A decky is due when its interval (its own, else the global one) has passed since it last mutated.</summary>
    public static bool IsDue(DeckyConfig decky, int effectiveIntervalMinutes, DateTime now) =>
        decky.LastMutated is not { } last || now - last >= TimeSpan.FromMinutes(effectiveIntervalMinutes);

    /// <summary>Mutates every due decky; returns the names mutated.</summary>
    public async Task<IReadOnlyList<string>> MutateDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var mutated = new List<string>();
        foreach (var decky in await fleet.ListAsync(cancellationToken))
        {
            // A decky on a silent worker waits for it to come back rather than failing every pass.
            if (!IsDue(decky.Config, decky.EffectiveMutateInterval, now) || decky.Placement?.State == Swarm.DeckyShardState.Unreachable)
            {
                continue;
            }
            var result = await fleet.MutateAsync(Actor, decky.Config.Name, cancellationToken);
            logger.LogInformation("Scheduled mutation of {Decky}: {Result}", decky.Config.Name, result.Message);
            mutated.Add(decky.Config.Name);
        }
        return mutated;
    }
}
