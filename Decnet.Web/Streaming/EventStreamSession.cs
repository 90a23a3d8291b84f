using System.Diagnostics;
using System.Threading.Channels;
using Decnet.Core.Events;
using Decnet.Core.Notifications;
using Decnet.Core.Search;
using Decnet.Core.Users;

namespace Decnet.Web.Streaming;

/// <summary>One message of the stream: a stored event, the statistics, or why the stream ends.</summary>
public sealed record StreamMessage(string Type, long? Id, object Data, LogRow? Row = null);

/// <summary>
/// One open event stream. A producer wakes on every committed ingest batch, reads the new rows that
/// match the stream's query (after the last one it sent) and queues them; the HTTP response drains the
/// queue. The queue is bounded: a client that leaves it full too long is dropped instead of making
/// the master hold its backlog. Every few seconds the user is re-checked, so logout, a password or role
/// change, or deletion ends the stream.
/// </summary>
public sealed class EventStreamSession : IDisposable
{
    public const string ActivitySourceName = "Decnet.Stream";
    public const int RowsPerQuery = 100;

    private static readonly ActivitySource Source = new(ActivitySourceName);

    private readonly LogQuery _query;
    private readonly StreamTicket _ticket;
    private readonly LogSearch _search;
    private readonly EventStreamHub _hub;
    private readonly UserDirectory _users;
    private readonly EventStreamOptions _options;
    private readonly TimeProvider _time;
    private readonly Channel<StreamMessage> _out;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly IDisposable _subscription;
    private long _lastId;
    private long _notifiedLastId;
    private volatile bool _dropped;

    public EventStreamSession(LogQuery query, long startAfterId, StreamTicket ticket, LogSearch search, EventStreamHub hub,
        NotificationHub notifications, UserDirectory users, EventStreamOptions options, TimeProvider time)
    {
        _query = query;
        _ticket = ticket;
        _search = search;
        _hub = hub;
        _users = users;
        _options = options;
        _time = time;
        _lastId = startAfterId;
        _notifiedLastId = startAfterId;
        _out = Channel.CreateBounded<StreamMessage>(new BoundedChannelOptions(options.BufferSize) { SingleReader = true, SingleWriter = true });
        _subscription = notifications.Subscribe<EventsIngested>(ingested =>
        {
            OnIngested(ingested);
            return Task.CompletedTask;
        });
    }

    /// <summary>What the response writes, in order.</summary>
    public ChannelReader<StreamMessage> Messages => _out.Reader;

    /// <summary>True once the client fell <see cref="EventStreamOptions.BufferSize"/> messages behind.</summary>
    public bool Dropped => _dropped;

    /// <summary>Why the producer stopped: "dropped", "revoked", or null while running / on disconnect.</summary>
    public string? EndReason { get; private set; }

    /// <summary>Produces until the client goes, falls too far behind, or its user is revoked.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!await EnqueueAsync(await StatsMessageAsync(cancellationToken), cancellationToken))
            {
                return;
            }
            var nextStats = _time.GetUtcNow() + _options.StatsInterval;
            var nextCheck = _time.GetUtcNow() + _options.RevalidateInterval;
            while (!cancellationToken.IsCancellationRequested)
            {
                var now = _time.GetUtcNow();
                var wait = (nextStats < nextCheck ? nextStats : nextCheck) - now;
                if (wait > TimeSpan.Zero)
                {
                    await WaitAsync(wait, cancellationToken);
                }
                if (_wake.Reader.TryRead(out _) && !await SendNewRowsAsync(cancellationToken))
                {
                    return;
                }
                now = _time.GetUtcNow();
                if (now >= nextCheck)
                {
                    nextCheck = now + _options.RevalidateInterval;
                    if (!await StillAllowedAsync(cancellationToken))
                    {
                        EndReason = "revoked";
                        _out.Writer.TryWrite(new StreamMessage("end", null, new { reason = "revoked" }));
                        return;
                    }
                }
                if (now >= nextStats)
                {
                    nextStats = now + _options.StatsInterval;
                    if (!await EnqueueAsync(await StatsMessageAsync(cancellationToken), cancellationToken))
                    {
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            _out.Writer.TryComplete();
        }
    }

    /// <summary>
    /// Starts the span of one pushed event, linked to the span of the ingest batch that stored the row:
    /// a trace viewer follows an event from the decky's line to the analyst's screen.
    /// </summary>
    public static Activity? StartPushActivity(LogRow row)
    {
        ActivityLink[]? links = null;
        if (TryContext(row.TraceId, row.SpanId, out var stored))
        {
            links = [new ActivityLink(stored)];
        }
        var activity = Source.StartActivity("stream push event", ActivityKind.Producer, parentContext: default, links: links);
        activity?.SetTag("decnet.log.id", row.Id);
        activity?.SetTag("decnet.log.event_type", row.EventType);
        return activity;
    }

    private static bool TryContext(string? traceId, string? spanId, out ActivityContext context)
    {
        context = default;
        if (traceId is not { Length: 32 } || spanId is not { Length: 16 } || !IsHex(traceId) || !IsHex(spanId))
        {
            return false;
        }
        context = new ActivityContext(ActivityTraceId.CreateFromString(traceId), ActivitySpanId.CreateFromString(spanId), ActivityTraceFlags.Recorded);
        return true;
    }

    private static bool IsHex(string text) => text.All(char.IsAsciiHexDigitLower);

    private void OnIngested(EventsIngested ingested)
    {
        InterlockedMax(ref _notifiedLastId, ingested.LastId);
        _wake.Writer.TryWrite(true);
    }

    private async Task WaitAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(wait, _time, timer.Token);
        var woken = _wake.Reader.WaitToReadAsync(timer.Token).AsTask();
        await Task.WhenAny(delay, woken);
        await timer.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task<bool> SendNewRowsAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // Every row up to the notified id was committed before the notification: once a query returns
            // less than a full page, nothing matching remains up to that id.
            var horizon = Interlocked.Read(ref _notifiedLastId);
            var rows = await _search.AfterIdAsync(_lastId, _query, RowsPerQuery, cancellationToken);
            foreach (var row in rows)
            {
                if (!await EnqueueAsync(new StreamMessage("log", row.Id, row, row), cancellationToken))
                {
                    return false;
                }
                _lastId = row.Id;
            }
            if (rows.Count < RowsPerQuery)
            {
                _lastId = Math.Max(_lastId, horizon);
                return true;
            }
        }
    }

    private async Task<StreamMessage> StatsMessageAsync(CancellationToken cancellationToken)
    {
        var stats = await _hub.StatsAsync(cancellationToken);
        return new StreamMessage("stats", null, new { total_logs = stats.TotalInteractions, unique_attackers = stats.UniqueAttackers, active_deckies = stats.ActiveDeckies });
    }

    private async Task<bool> StillAllowedAsync(CancellationToken cancellationToken)
    {
        var user = await _users.FindAsync(_ticket.UserId, cancellationToken);
        return user is not null && !user.MustChangePassword
            && string.Equals(user.SecurityStamp, _ticket.SecurityStamp, StringComparison.Ordinal);
    }

    /// <summary>
    /// Queues a message. A burst may fill the queue for a moment; a client that leaves it full for
    /// <see cref="EventStreamOptions.SlowClientTimeout"/> is too slow, and it is dropped.
    /// </summary>
    private async Task<bool> EnqueueAsync(StreamMessage message, CancellationToken cancellationToken)
    {
        if (_out.Writer.TryWrite(message))
        {
            return true;
        }
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(_options.SlowClientTimeout);
        try
        {
            while (await _out.Writer.WaitToWriteAsync(patience.Token))
            {
                if (_out.Writer.TryWrite(message))
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The queue stayed full for the whole timeout.
        }
        _dropped = true;
        EndReason = "dropped";
        return false;
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }

    public void Dispose() => _subscription.Dispose();
}
