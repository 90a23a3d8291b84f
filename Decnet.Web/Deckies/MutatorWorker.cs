using Decnet.Core.Deckies.Fleet;

namespace Decnet.Web.Deckies;

/// <summary>
/// Rotates decky services when they are due: a decky's own interval, else the global interval set in
/// Config (which is honoured, unlike upstream). Checks every 10 seconds.
/// </summary>
public sealed class MutatorWorker(DeckyMutator mutator, TimeProvider time, ILogger<MutatorWorker> logger) : BackgroundService
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await mutator.MutateDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Mutation pass failed; retrying at the next check");
            }
        }
    }
}
