using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Swarm.Controller;

/// <summary>
/// Offline detection: once per heartbeat interval, hosts silent for three intervals become
/// <c>unreachable</c> (pages hear it through the notification hub). The next accepted heartbeat makes
/// them <c>active</c> again. Driven by <see cref="TimeProvider"/>, so tests move time by hand.
/// </summary>
public sealed class OfflineHostsWorker(SwarmStore store, IOptions<SwarmOptions> options, TimeProvider time, ILogger<OfflineHostsWorker> logger) : BackgroundService
{
    private int _sweeps;

    /// <summary>Sweeps finished since start (tests wait on it rather than on the clock).</summary>
    public int CompletedSweeps => Volatile.Read(ref _sweeps);

    /// <summary>One pass; returns how many hosts became unreachable.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var silentSince = time.GetUtcNow().UtcDateTime - options.Value.OfflineAfter;
        var changed = await store.MarkSilentHostsUnreachableAsync(silentSince, cancellationToken);
        if (changed > 0)
        {
            logger.LogWarning("{Count} swarm host(s) missed three heartbeats and are now unreachable", changed);
        }
        Interlocked.Increment(ref _sweeps);
        return changed;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await SweepAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "Offline detection pass failed; retrying at the next interval");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
