using System.Threading.Channels;
using Decnet.Core.Notifications;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Attackers;

/// <summary>
/// Keeps attacker profiles current: a pass runs at start, whenever an ingest batch commits (bursts coalesce
/// into one pending pass, and passes start at most every <see cref="MinInterval"/>) and every
/// <see cref="PollInterval"/> as a safety net for rows written by other paths. Each pass that changed
/// profiles announces them (<see cref="AttackerUpdated"/>). The web process hosts it for its lifetime.
/// </summary>
public sealed class ProfilerLoop(AttackerProfiler profiler, NotificationHub hub, TimeProvider time, ILogger<ProfilerLoop> logger)
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);

    /// <summary>Capacity one, extra writes dropped: any number of batches during a pass means one more pass.</summary>
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Runs passes until cancelled; a failed pass is logged and retried, never ends the loop.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var subscription = hub.Subscribe<EventsIngested>(_ =>
        {
            _wake.Writer.TryWrite(true);
            return Task.CompletedTask;
        });
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var pass = await profiler.RunOnceAsync(cancellationToken).ConfigureAwait(false);
                if (pass.Ips.Count > 0)
                {
                    hub.Publish(new AttackerUpdated(pass.Ips));
                }
                await Task.Delay(MinInterval, time, cancellationToken).ConfigureAwait(false);
                await WaitForWorkAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A failed pass commits nothing (batch and cursor are one transaction); the next one retries.
                logger.LogError(ex, "Attacker profiler pass failed");
                await Task.Delay(MinInterval, time, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    private async Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PollInterval);
        try
        {
            await _wake.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The poll interval elapsed without an ingest: run anyway.
        }
    }
}
