using System.Threading.Channels;
using Decnet.Core.Attackers;
using Decnet.Core.Events;
using Decnet.Core.Notifications;

namespace Decnet.Web.Attackers;

/// <summary>
/// Keeps attacker profiles current: a pass runs at start, whenever an ingest batch commits (bursts coalesce
/// into one pending pass, and passes start at most every <see cref="MinInterval"/>) and every
/// <see cref="PollInterval"/> as a safety net for rows written by other paths.
/// </summary>
public sealed class ProfilerWorker(AttackerProfiler profiler, NotificationHub hub, TimeProvider time, ILogger<ProfilerWorker> logger) : BackgroundService
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);

    /// <summary>Capacity one, extra writes dropped: any number of batches during a pass means one more pass.</summary>
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = hub.Subscribe<EventsIngested>(_ =>
        {
            _wake.Writer.TryWrite(true);
            return Task.CompletedTask;
        });
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var pass = await profiler.RunOnceAsync(stoppingToken);
                if (pass.Ips.Count > 0)
                {
                    hub.Publish(new AttackerUpdated(pass.Ips));
                }
                await Task.Delay(MinInterval, time, stoppingToken);
                await WaitForWorkAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A failed pass commits nothing (batch and cursor are one transaction); the next one retries.
                logger.LogError(ex, "Attacker profiler pass failed");
                await Task.Delay(MinInterval, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task WaitForWorkAsync(CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(PollInterval);
        try
        {
            await _wake.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // The poll interval elapsed without an ingest: run anyway.
        }
    }
}
