using System.Net.Security;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Swarm.Shipping;

/// <summary>Where a forwarder reads, where it ships to, and its pacing.</summary>
public sealed record LogForwarderSettings
{
    /// <summary>The spool file, <c>{log-directory}/decnet.log</c>.</summary>
    public required string SpoolPath { get; init; }

    /// <summary>The acknowledged position, <c>{state-dir}/forwarder.offset</c>.</summary>
    public required string CheckpointPath { get; init; }

    public required string MasterHost { get; init; }

    public required int MasterPort { get; init; }

    /// <summary>Fresh client TLS options per connection: the worker identity, pinned on the master (<c>PinnedTls.CreateClientOptions</c>).</summary>
    public required Func<SslClientAuthenticationOptions> Tls { get; init; }

    public int MaxBatchLines { get; init; } = ShippingProtocol.MaxBatchLines;

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The master acknowledges after its database commit; a slow database is waited for this long.</summary>
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>An idle connection is closed by the forwarder before the listener's idle timeout does it.</summary>
    public TimeSpan IdleClose { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Tails the worker's spool and ships it to the master's log listener: batches of at most 500 lines,
/// a poll every 0.5 s when there is nothing new, reconnection with backoff (1 s doubling to 30 s), and
/// the byte offset saved only after the master acknowledged the batch as stored. Because the master
/// keys rows by (worker, file, offset), a batch sent twice is stored once: nothing is lost and nothing
/// is duplicated across restarts of either side.
/// </summary>
public sealed partial class LogForwarder(LogForwarderSettings settings, ILogger<LogForwarder> logger, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long _linesShipped;
    private long _batchesShipped;
    private long _failures;

    public long LinesShipped => Interlocked.Read(ref _linesShipped);

    public long BatchesShipped => Interlocked.Read(ref _batchesShipped);

    public long Failures => Interlocked.Read(ref _failures);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var checkpoint = ForwarderCheckpoint.Load(settings.CheckpointPath);
        LogStarting(logger, settings.SpoolPath, checkpoint.Offset, settings.MasterHost, settings.MasterPort);
        var backoff = settings.MinBackoff;
        LogShippingConnection? connection = null;
        var lastUse = _time.GetTimestamp();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                SpoolBatch batch;
                try
                {
                    batch = SpoolFile.Read(settings.SpoolPath, checkpoint, settings.MaxBatchLines);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    LogSpoolUnreadable(logger, settings.SpoolPath, ex.Message);
                    await Task.Delay(settings.PollInterval, _time, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (batch.Reset)
                {
                    LogReset(logger, settings.SpoolPath, checkpoint.Offset);
                }
                if (batch.Lines.Count == 0)
                {
                    if (connection is not null && _time.GetElapsedTime(lastUse) > settings.IdleClose)
                    {
                        await connection.DisposeAsync().ConfigureAwait(false);
                        connection = null;
                    }
                    await Task.Delay(settings.PollInterval, _time, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                try
                {
                    connection ??= await LogShippingConnection.ConnectAsync(settings.MasterHost, settings.MasterPort, settings.Tls(), settings.ConnectTimeout, cancellationToken).ConfigureAwait(false);
                    await connection.SendBatchAsync(batch, settings.AckTimeout, cancellationToken).ConfigureAwait(false);
                    checkpoint = new ForwarderCheckpoint(batch.FileId, batch.End);
                    checkpoint.Save(settings.CheckpointPath);
                    lastUse = _time.GetTimestamp();
                    Interlocked.Add(ref _linesShipped, batch.Lines.Count);
                    Interlocked.Increment(ref _batchesShipped);
                    backoff = settings.MinBackoff;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException or OperationCanceledException or UnauthorizedAccessException)
                {
                    Interlocked.Increment(ref _failures);
                    LogShipFailed(logger, settings.MasterHost, settings.MasterPort, backoff.TotalSeconds, ex.Message);
                    if (connection is not null)
                    {
                        await connection.DisposeAsync().ConfigureAwait(false);
                        connection = null;
                    }
                    await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, settings.MaxBackoff.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shipping {Spool} from byte {Offset} to {Host}:{Port}")]
    private static partial void LogStarting(ILogger logger, string spool, long offset, string host, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Spool} was rotated or truncated (saved offset {Offset}); shipping it again from the start")]
    private static partial void LogReset(ILogger logger, string spool, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read {Spool}: {Reason}")]
    private static partial void LogSpoolUnreadable(ILogger logger, string spool, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shipping to {Host}:{Port} failed, retrying in {Seconds} s: {Reason}")]
    private static partial void LogShipFailed(ILogger logger, string host, int port, double seconds, string reason);
}
