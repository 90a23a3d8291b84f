using System.Globalization;
using System.Threading.Channels;
using Decnet.Core.Deckies.Docker;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Decnet.Core.Events;
using Decnet.Core.Events.Collection;

namespace Decnet.Core.Ingest.Collection;

/// <summary>Counters of the Docker log collection since its start.</summary>
public sealed record DockerCollectorCounters(int Following, long Attachments, long Lines, long EngineConnections, string? LastError);

/// <summary>
/// Follows the stdout of every DECNET service container (selected by label) and feeds each line to its
/// <see cref="IContainerLineSink"/> (the master's ingest, or a worker's spool) through one bounded channel. The engine's event stream (start/die of our
/// containers) reattaches a container when it starts or restarts, and every (re)connection rescans the
/// labelled containers, stopped ones included, so lines written while nobody listened are read too.
/// <para>
/// Each line carries its container's position (the engine's nanosecond timestamp), which the sink
/// commits with the line (on the master, with the row in <c>pipeline_cursors</c>); a new collector resumes
/// with <c>since</c> from there.
/// The engine includes lines at exactly <c>since</c>, so the last stored line is read again; its
/// idempotency key (container id + engine timestamp + line) makes that re-read insert nothing.
/// </para>
/// </summary>
public sealed partial class DockerLogCollector : IAsyncDisposable
{
    public const string CursorPrefix = "docker:";

    private readonly DockerRuntimeOptions _runtime;
    private readonly DockerLogCollectorOptions _options;
    private readonly IContainerLineSink _sink;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Follower> _followers = new(StringComparer.Ordinal);

    // Last position handed to the channel per container: a reattachment resumes from here, not from the
    // (older) committed cursor, so a restart of a container does not re-read what is still queued.
    private readonly Dictionary<string, long> _positions = new(StringComparer.Ordinal);
    private CancellationTokenSource? _stop;
    private Task _running = Task.CompletedTask;
    private long _attachments;
    private long _lines;
    private long _connections;
    private volatile string? _lastError;

    public DockerLogCollector(
        DockerRuntimeOptions runtime,
        DockerLogCollectorOptions options,
        IContainerLineSink sink,
        ILogger<DockerLogCollector> logger)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(options);
        _runtime = runtime;
        _options = options;
        _sink = sink;
        _logger = logger;
    }

    public DockerCollectorCounters Counters
    {
        get
        {
            int following;
            lock (_gate)
            {
                following = _followers.Count;
            }
            return new(following, Interlocked.Read(ref _attachments), Interlocked.Read(ref _lines), Interlocked.Read(ref _connections), _lastError);
        }
    }

    /// <summary>Starts collecting in the background; <see cref="DisposeAsync"/> stops it.</summary>
    public void Start()
    {
        if (_stop is not null)
        {
            throw new InvalidOperationException("The collector is already running.");
        }
        _stop = new CancellationTokenSource();
        _running = Task.Run(() => RunAsync(_stop.Token));
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop is null)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await _running.ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>Collects until cancelled; then stops reading and lets the lines already read be stored.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<IngestLine>(new BoundedChannelOptions(_options.ChannelCapacity)
        {
            SingleReader = true,
            // Backpressure, not loss: a slow database stops the reads; the lines wait in the engine's files.
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var drain = new CancellationTokenSource();
        var ingest = _sink.ConsumeAsync(channel.Reader, drain.Token);
        using var client = DockerEngine.CreateClient(_runtime);
        try
        {
            await WatchAsync(client, channel.Writer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Task[] followers;
            lock (_gate)
            {
                followers = [.. _followers.Values.Select(f => f.Task)];
            }
            await Task.WhenAll(followers).ConfigureAwait(false);
            channel.Writer.TryComplete();
            drain.CancelAfter(_options.DrainTimeout);
            await ingest.ConfigureAwait(false);
        }
    }

    private async Task WatchAsync(DockerClient client, ChannelWriter<IngestLine> writer, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // Events from a little before the subscription are replayed, so nothing falls between the
                // subscription and the rescan; attaching twice is harmless.
                var since = DateTimeOffset.UtcNow - _options.ReconnectDelay - TimeSpan.FromSeconds(5);
                var events = client.System.MonitorEventsAsync(
                    new ContainerEventsParameters
                    {
                        Since = since.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                        Filters = new Dictionary<string, IDictionary<string, bool>>
                        {
                            ["type"] = new Dictionary<string, bool> { ["container"] = true },
                            ["event"] = new Dictionary<string, bool> { ["start"] = true, ["die"] = true },
                            ["label"] = new Dictionary<string, bool>
                            {
                                [$"{DockerLabels.Managed}=true"] = true,
                                [$"{DockerLabels.Role}={DockerLabels.ServiceRole}"] = true,
                            },
                        },
                    },
                    new EngineEvents(this, client, writer, cancellationToken),
                    cancellationToken);
                Interlocked.Increment(ref _connections);
                await RescanAsync(client, writer, cancellationToken).ConfigureAwait(false);
                await events.ConfigureAwait(false);
                LogEventStreamEnded(_logger);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (IsEngineFailure(ex))
            {
                _lastError = $"{ex.GetType().Name}: {ex.Message}";
                LogEngineUnavailable(_logger, _runtime.Endpoint, ex.Message);
            }
            try
            {
                await Task.Delay(_options.ReconnectDelay, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Every labelled service container, stopped ones too: their unread lines are still in the engine's files.</summary>
    private async Task RescanAsync(DockerClient client, ChannelWriter<IngestLine> writer, CancellationToken cancellationToken)
    {
        var containers = await client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = DockerLabels.Filter($"{DockerLabels.Managed}=true", $"{DockerLabels.Role}={DockerLabels.ServiceRole}"),
        }, cancellationToken).ConfigureAwait(false);
        foreach (var container in containers)
        {
            Follow(client, writer, container.ID, cancellationToken);
        }
        await _sink.ForgetAllButAsync(containers.Select(c => CursorPrefix + c.ID).ToHashSet(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Follows a container unless it is followed already; a follower asked again reattaches once its stream ends.</summary>
    private void Follow(DockerClient client, ChannelWriter<IngestLine> writer, string containerId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            if (_followers.TryGetValue(containerId, out var existing))
            {
                existing.Again = true;
                return;
            }
            var follower = new Follower();
            _followers[containerId] = follower;
            follower.Task = Task.Run(() => FollowAsync(client, writer, containerId, follower, cancellationToken), CancellationToken.None);
        }
    }

    private async Task FollowAsync(DockerClient client, ChannelWriter<IngestLine> writer, string containerId, Follower follower, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                lock (_gate)
                {
                    follower.Again = false;
                }
                bool running;
                try
                {
                    running = await ReadLogAsync(client, writer, containerId, cancellationToken).ConfigureAwait(false);
                }
                catch (DockerContainerNotFoundException)
                {
                    return;
                }
                catch (Exception ex) when (IsEngineFailure(ex) && !cancellationToken.IsCancellationRequested)
                {
                    // Reattached from the last position after a pause; a gone engine is found by the event loop.
                    _lastError = $"{ex.GetType().Name}: {ex.Message}";
                    LogFollowFailed(_logger, Short(containerId), ex.Message);
                    await Task.Delay(_options.ReconnectDelay, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                lock (_gate)
                {
                    // A start that arrived while the old stream was ending, or a container that is running
                    // again already (a quick restart), is followed on; otherwise this follower ends.
                    if (!follower.Again && !running)
                    {
                        // Removed under the same lock that read Again: a start arriving now gets a new follower.
                        _followers.Remove(containerId);
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_gate)
            {
                if (_followers.TryGetValue(containerId, out var current) && ReferenceEquals(current, follower))
                {
                    _followers.Remove(containerId);
                }
            }
        }
    }

    /// <summary>Reads the container's stdout from its last position until the stream ends; returns whether the container runs now.</summary>
    private async Task<bool> ReadLogAsync(DockerClient client, ChannelWriter<IngestLine> writer, string containerId, CancellationToken cancellationToken)
    {
        var since = await PositionAsync(containerId, cancellationToken).ConfigureAwait(false);
        var custom = await CustomSourceAsync(client, containerId, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _attachments);
        LogAttached(_logger, Short(containerId), since is { } s ? DockerTimestamp.ToSince(s) : "the start");
        using var stream = await client.Containers.GetContainerLogsAsync(containerId, new ContainerLogsParameters
        {
            ShowStdout = true,
            ShowStderr = false,
            Follow = true,
            Timestamps = true,
            Since = since is { } position ? DockerTimestamp.ToSince(position) : null,
        }, cancellationToken).ConfigureAwait(false);

        var buffer = new byte[16 * 1024];
        var splitter = new LineSplitter();
        var lines = new List<(string Line, long EndOffset)>();
        var cursor = CursorPrefix + containerId;
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false);
            if (read.EOF)
            {
                break;
            }
            if (read.Target != MultiplexedStream.TargetStream.StandardOut)
            {
                continue;
            }
            splitter.Append(buffer.AsSpan(0, read.Count), lines);
            foreach (var (line, _) in lines)
            {
                // "<engine timestamp> <line>"; anything else is not one of our lines.
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                if (space <= 0 || !DockerTimestamp.TryParse(line.AsSpan(0, space), out var nanos))
                {
                    continue;
                }
                var stamp = line[..space];
                var text = line[(space + 1)..];
                if (custom is { } source)
                {
                    // Same line, same engine timestamp, same event text: a re-read stays idempotent.
                    var time = DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);
                    text = CustomServiceOutput.ToEventLine(text, source.Decky, source.Service, source.Ip, time);
                }
                await writer.WriteAsync(new IngestLine(text, $"{cursor}:{stamp}", new SourcePosition(cursor, nanos, stamp)), cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    _positions[containerId] = nanos;
                }
                Interlocked.Increment(ref _lines);
            }
            lines.Clear();
        }

        try
        {
            var inspected = await client.Containers.InspectContainerAsync(containerId, cancellationToken).ConfigureAwait(false);
            return inspected.State?.Running == true;
        }
        catch (DockerContainerNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// The decky, service and decky address of a bring-your-own service container, whose output is the operator's
    /// program's rather than RFC 5424; null for our own honeypot containers.
    /// </summary>
    private static async Task<(string Decky, string Service, string? Ip)?> CustomSourceAsync(DockerClient client, string containerId, CancellationToken cancellationToken)
    {
        var inspected = await client.Containers.InspectContainerAsync(containerId, cancellationToken).ConfigureAwait(false);
        var labels = inspected.Config?.Labels;
        if (labels is null
            || !labels.TryGetValue(DockerLabels.Custom, out var custom) || custom != "true"
            || !labels.TryGetValue(DockerLabels.Decky, out var decky)
            || !labels.TryGetValue(DockerLabels.Service, out var service))
        {
            return null;
        }
        return (decky, service, labels.TryGetValue(DockerLabels.Ip, out var ip) ? ip : null);
    }

    /// <summary>Where to resume: what this collector already queued, else what the sink committed, else the beginning.</summary>
    private async Task<long?> PositionAsync(string containerId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_positions.TryGetValue(containerId, out var queued))
            {
                return queued;
            }
        }
        return await _sink.PositionAsync(CursorPrefix + containerId, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsEngineFailure(Exception ex) =>
        ex is DockerApiException or HttpRequestException or IOException or TimeoutException or System.Net.Sockets.SocketException
            or OperationCanceledException or InvalidOperationException or DbUpdateException or Microsoft.Data.Sqlite.SqliteException or Npgsql.NpgsqlException;

    private static string Short(string id) => id.Length > 12 ? id[..12] : id;

    private sealed class Follower
    {
        public Task Task { get; set; } = Task.CompletedTask;

        public bool Again { get; set; }
    }

    /// <summary>Engine events arrive on the reader's thread, in order; attaching only starts a task.</summary>
    private sealed class EngineEvents(DockerLogCollector collector, DockerClient client, ChannelWriter<IngestLine> writer, CancellationToken cancellationToken) : IProgress<Message>
    {
        public void Report(Message value)
        {
            if (value.Actor?.ID is not { Length: > 0 } id)
            {
                return;
            }
            if (value.Action == "start")
            {
                collector.Follow(client, writer, id, cancellationToken);
            }
            else
            {
                LogContainerDied(collector._logger, Short(id));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Following container {Container} from {Since}")]
    private static partial void LogAttached(ILogger logger, string container, string since);

    [LoggerMessage(Level = LogLevel.Information, Message = "Container {Container} stopped; its log is read to the end and followed again when it starts")]
    private static partial void LogContainerDied(ILogger logger, string container);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Following container {Container} failed: {Reason}; reattaching from its last position")]
    private static partial void LogFollowFailed(ILogger logger, string container, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Docker engine at {Endpoint} unavailable for log collection: {Reason}")]
    private static partial void LogEngineUnavailable(ILogger logger, string endpoint, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Docker engine's event stream ended; reconnecting")]
    private static partial void LogEventStreamEnded(ILogger logger);
}
