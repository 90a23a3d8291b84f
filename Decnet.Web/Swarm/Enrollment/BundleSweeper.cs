using Decnet.Core.Swarm.Enrollment;

namespace Decnet.Web.Swarm.Enrollment;

/// <summary>Every 30 s, deletes enrollment bundles that expired or were fully downloaded.</summary>
public sealed class BundleSweeper(EnrollmentBundleStore store, TimeProvider time, ILogger<BundleSweeper> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        try
        {
            do
            {
                try
                {
                    var removed = store.Sweep();
                    if (removed > 0)
                    {
                        logger.LogInformation("Removed {Count} expired or served enrollment bundle file(s)", removed);
                    }
                }
                catch (IOException ex)
                {
                    logger.LogWarning(ex, "Enrollment bundle sweep failed; retrying in {Period}", Period);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
