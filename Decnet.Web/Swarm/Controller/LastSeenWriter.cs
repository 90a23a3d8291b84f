using Decnet.Core.Swarm;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Swarm.Controller;

/// <summary>
/// Writes the times of heartbeats the master answered from memory every
/// <see cref="SwarmOptions.LastSeenFlushSeconds"/>, and what is left when the master stops
/// (<see cref="SwarmStore.FlushLastSeenAsync"/>). Driven by <see cref="TimeProvider"/>.
/// </summary>
public sealed class LastSeenWriter(SwarmStore store, IOptions<SwarmOptions> options, TimeProvider time, ILogger<LastSeenWriter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.LastSeenFlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await store.FlushLastSeenAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The times stay pending (and reads still see them); the next tick retries.
                    logger.LogError(ex, "Writing heartbeat times failed; retrying at the next flush");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await store.FlushLastSeenAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Writing the last heartbeat times at shutdown failed");
        }
    }
}
