using Decnet.Core.Swarm.Enrollment;

namespace Decnet.Web.Swarm.Enrollment;

/// <summary>Every 30 s, ends expired enrollments: bundle files, and hosts that never connected (see <see cref="EnrollmentBundleStore.SweepAsync"/>).</summary>
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
                    var removed = await store.SweepAsync(stoppingToken);
                    if (removed > 0)
                    {
                        logger.LogInformation("Removed {Count} expired enrollment bundle(s) or orphaned file(s)", removed);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
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
