using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Decnet.Core.Bounty;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Notifications;
using Decnet.Core.Ingest.Storage;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Ingest;

/// <summary>
/// Moves events into <c>logs</c>. Every event is stored with its RFC 5424 line, exactly what a SIEM would
/// see. Lines from Docker, spools and syslog go through the parser; an in-process decky's event is taken
/// apart from its fields (<see cref="InProcessEvent"/>), which gives the same row without the parse.
/// Rows are written in batches (size or time bound, whichever comes first), one transaction per batch,
/// by the provider's <see cref="IngestStore"/> (raw commands: EF change tracking costs far more than the
/// inserts themselves here).
/// A unique <c>EventKey</c> makes replays harmless (at-least-once delivery, exactly-once rows).
/// </summary>
public sealed partial class EventIngester(
    ChannelEventSink sink,
    IngestStore store,
    NotificationHub hub,
    BountyWriter bounties,
    SiemFiles siem,
    TimeProvider time,
    ILogger<EventIngester> logger)
{
    public const string ActivitySourceName = "Decnet.Ingest";
    /// <summary>A batch is stored as soon as it holds this many rows (or when <see cref="FlushInterval"/> ends).</summary>
    public const int BatchSize = 500;

    /// <summary>
    /// Lines already waiting join the batch up to this many: under a backlog, transactions grow and commits
    /// (most of a batch's cost on SQLite: the WAL append and its checkpoints) get fewer.
    /// </summary>
    public const int MaxBatchRows = 2000;

    /// <summary>...and up to this many characters of raw lines, so a backlog of 64 KiB lines stays small in memory.</summary>
    public const int MaxBatchChars = 2 * 1024 * 1024;
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How many of a batch's events ride along in <see cref="EventsIngested"/>.</summary>
    public const int NewestInNotification = 20;

    /// <summary>Recent malformed lines kept for diagnosis; older ones are only counted.</summary>
    public const int MalformedKept = 100;

    /// <summary>Each kept malformed line is cut to this length, so the diagnosis ring stays small.</summary>
    public const int MalformedKeptLength = 4096;

    private static readonly ActivitySource Source = new(ActivitySourceName);

    private static readonly TimeSpan[] RetryDelays = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    private readonly Lock _malformedLock = new();
    private readonly Queue<string> _recentMalformed = new();
    private long _ingested;
    private long _duplicates;
    private long _malformed;
    private long _truncated;
    private long _batches;
    private int _running;
    private long _lastBatchTicks;
    private volatile string? _lastError;

    public IngestCounters Counters => new(
        Interlocked.Read(ref _ingested),
        Interlocked.Read(ref _duplicates),
        Interlocked.Read(ref _malformed),
        Interlocked.Read(ref _truncated),
        Interlocked.Read(ref _batches),
        Volatile.Read(ref _running) > 0,
        Interlocked.Read(ref _lastBatchTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null,
        _lastError);

    /// <summary>
    /// Batches committed so far: read caches compare it with the value they loaded at, so a commit makes
    /// the next read fresh without the ingest knowing who caches what.
    /// </summary>
    public long CommittedBatches => Interlocked.Read(ref _batches);

    /// <summary>The last <see cref="MalformedKept"/> lines that did not parse, oldest first.</summary>
    public IReadOnlyList<string> RecentMalformed
    {
        get
        {
            lock (_malformedLock)
            {
                return [.. _recentMalformed];
            }
        }
    }

    /// <summary>Drains the in-process event channel until cancelled or the channel completes.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        RunAsync(sink.Reader, Pending, cancellationToken);

    /// <summary>Drains any other line source (Docker log streams, syslog) the same way.</summary>
    public Task RunAsync(ChannelReader<IngestLine> lines, CancellationToken cancellationToken) =>
        RunAsync(lines, l => new PendingLine(l, null), cancellationToken);

    /// <summary>
    /// An in-process event's line (the raw column and the SIEM files), its occurrence id, and the event
    /// already taken apart, so <see cref="Prepare"/> need not parse the line it just formatted.
    /// </summary>
    internal static PendingLine Pending(HoneypotEvent honeypotEvent)
    {
        var raw = Rfc5424Formatter.Format(honeypotEvent);
        return new PendingLine(new IngestLine(raw, honeypotEvent.Id.ToString("N", CultureInfo.InvariantCulture)), InProcessEvent.Read(honeypotEvent, raw));
    }

    /// <summary>
    /// Two stages one batch apart: while the database stores batch n, the next batch is cut and prepared
    /// (parse, fields JSON, idempotency key, bounty rules) on another thread. At most one prepared batch
    /// waits, plus the one being stored and the one being filled: memory stays bounded whatever the channel holds.
    /// </summary>
    private async Task RunAsync<T>(ChannelReader<T> reader, Func<T, PendingLine> toLine, CancellationToken cancellationToken)
    {
        var prepared = Channel.CreateBounded<PreparedBatch>(new BoundedChannelOptions(1)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        PreparedBatch? leftover = null;
        var producer = Task.Run(async () =>
        {
            var batch = new List<PendingLine>(BatchSize);
            try
            {
                while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    await FillAsync(reader, toLine, batch, cancellationToken).ConfigureAwait(false);
                    await prepared.Writer.WriteAsync(Prepare(batch), cancellationToken).ConfigureAwait(false);
                    batch = new List<PendingLine>(BatchSize);
                }
                prepared.Writer.TryComplete();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Shutting down: the lines in hand are still worth a last attempt by the store stage.
                leftover = batch.Count > 0 ? Prepare(batch) : null;
                prepared.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                prepared.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);

        Interlocked.Increment(ref _running);
        PreparedBatch? current = null;
        try
        {
            while (await prepared.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (prepared.Reader.TryRead(out current))
                {
                    await FlushWithRetryAsync(current, cancellationToken).ConfigureAwait(false);
                    current = null;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // What is already in hand, prepared or not, gets a last attempt.
            await producer.ConfigureAwait(false);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            if (current is not null)
            {
                await TryFlushAsync(current, grace.Token).ConfigureAwait(false);
            }
            while (prepared.Reader.TryRead(out var waiting))
            {
                await TryFlushAsync(waiting, grace.Token).ConfigureAwait(false);
            }
            if (leftover is not null)
            {
                await TryFlushAsync(leftover, grace.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
        await producer.ConfigureAwait(false);
    }

    /// <summary>
    /// Takes what is there (up to <see cref="MaxBatchRows"/> rows or <see cref="MaxBatchChars"/> characters),
    /// then waits for more until the batch holds <see cref="BatchSize"/> rows or the flush interval ends.
    /// </summary>
    private async Task FillAsync<T>(ChannelReader<T> reader, Func<T, PendingLine> toLine, List<PendingLine> batch, CancellationToken cancellationToken)
    {
        using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        window.CancelAfter(FlushInterval);
        var chars = 0L;
        while (true)
        {
            while (batch.Count < MaxBatchRows && chars < MaxBatchChars && reader.TryRead(out var item))
            {
                var pending = toLine(item);
                batch.Add(pending);
                chars += pending.Line.RawLine.Length;
            }
            if (batch.Count >= BatchSize || batch.Count >= MaxBatchRows || chars >= MaxBatchChars)
            {
                return;
            }
            try
            {
                if (!await reader.WaitToReadAsync(window.Token).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// A failed batch is retried, not dropped: the rows are idempotent, and while the database is away the
    /// bounded channel sheds the oldest events instead of this buffer growing.
    /// </summary>
    private async Task FlushWithRetryAsync(PreparedBatch batch, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (await TryFlushAsync(batch, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
            await Task.Delay(RetryDelays[Math.Min(attempt, RetryDelays.Length - 1)], time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> TryFlushAsync(PreparedBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            await StoreAsync(batch, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _lastError = $"{ex.GetType().Name}: {ex.Message}";
            LogBatchFailed(logger, ex, batch.LineCount);
            return false;
        }
    }

    /// <summary>
    /// Parses and inserts one batch in one transaction, then announces it. Public so replays and tests can
    /// write a known batch; returns the number of rows inserted.
    /// </summary>
    public Task<int> WriteBatchAsync(IReadOnlyList<IngestLine> batch, CancellationToken cancellationToken) =>
        batch.Count == 0 ? Task.FromResult(0) : StoreAsync(Prepare([.. batch.Select(l => new PendingLine(l, null))]), cancellationToken);

    /// <summary>
    /// Stores in-process events as <see cref="RunAsync(CancellationToken)"/> does (each taken apart from its
    /// fields, not parsed back); for replays and tests. Returns the number of rows inserted.
    /// </summary>
    public Task<int> WriteEventsAsync(IReadOnlyList<HoneypotEvent> events, CancellationToken cancellationToken) =>
        events.Count == 0 ? Task.FromResult(0) : StoreAsync(Prepare([.. events.Select(Pending)]), cancellationToken);

    /// <summary>The CPU part of a batch, no I/O: parse (lines only), column values, fields JSON, key, bounties, position.</summary>
    private PreparedBatch Prepare(IReadOnlyList<PendingLine> batch)
    {
        var prepared = new PreparedBatch(batch.Count);
        foreach (var (line, taken) in batch)
        {
            if (line.Position is { } position)
            {
                // Lines arrive in source order: the last one of a source is its new resume point.
                (prepared.Positions ??= new Dictionary<string, SourcePosition>(StringComparer.Ordinal))[position.Cursor] = position;
            }
            // An in-process event comes taken apart already; every other line is parsed here.
            var parsed = taken;
            if (parsed is null)
            {
                var result = Rfc5424Parser.Parse(line.RawLine);
                if (result.Truncated)
                {
                    prepared.Truncated++;
                }
                if (result.Event is null)
                {
                    KeepMalformed(result.RawLine);
                    prepared.Rejected.Add(result.RawLine);
                    continue;
                }
                parsed = result.Event;
            }
            prepared.Rows.Add(new IngestRow(
                parsed,
                // Same text format EF uses for DateTime columns, so EF queries sort and compare these rows.
                parsed.TimestampUtc.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
                FieldsJson(parsed.Fields),
                EventKey(line),
                BountyExtractor.Extract(parsed),
                SiemFiles.JsonLine(parsed)));
        }
        return prepared;
    }

    /// <summary>The database part: one transaction for rows, bounties and source positions; then SIEM files and the notification.</summary>
    private async Task<int> StoreAsync(PreparedBatch batch, CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("ingest batch");
        activity?.SetTag("decnet.ingest.batch_size", batch.LineCount);
        var traceId = activity?.TraceId.ToHexString();
        var spanId = activity?.SpanId.ToHexString();

        var positions = (IReadOnlyCollection<SourcePosition>?)batch.Positions?.Values ?? [];
        var stored = await store.StoreAsync(batch.Rows, positions, traceId, spanId, time.GetUtcNow().UtcDateTime, cancellationToken).ConfigureAwait(false);
        bounties.Committed(stored.Bounties);
        var inserted = new List<ParsedEvent>(stored.Inserted.Count);
        var insertedJson = new List<string>(stored.Inserted.Count);
        var rawLines = new List<string>(stored.Inserted.Count + batch.Rejected.Count);
        foreach (var index in stored.Inserted)
        {
            var row = batch.Rows[index];
            inserted.Add(row.Event);
            insertedJson.Add(row.SiemJson);
            rawLines.Add(row.Event.RawLine);
        }
        rawLines.AddRange(batch.Rejected);
        WriteSiemFiles(rawLines, insertedJson);

        var malformed = batch.Rejected.Count;
        Interlocked.Add(ref _ingested, inserted.Count);
        Interlocked.Add(ref _duplicates, batch.LineCount - malformed - inserted.Count);
        Interlocked.Add(ref _malformed, malformed);
        Interlocked.Add(ref _truncated, batch.Truncated);
        Interlocked.Increment(ref _batches);
        Interlocked.Exchange(ref _lastBatchTicks, time.GetUtcNow().UtcTicks);
        _lastError = null;
        activity?.SetTag("decnet.ingest.inserted", inserted.Count);

        if (inserted.Count > 0)
        {
            var newest = new List<EventSummary>(Math.Min(NewestInNotification, inserted.Count));
            for (var i = inserted.Count - 1; i >= 0 && newest.Count < NewestInNotification; i--)
            {
                var e = inserted[i];
                var summaryFields = new Dictionary<string, string>(e.Fields.Count, StringComparer.Ordinal);
                foreach (var (key, value) in e.Fields)
                {
                    summaryFields[key] = value;
                }
                newest.Add(new EventSummary(e.TimestampUtc, e.Decky, e.Service, e.EventType, e.AttackerIp, Fields: summaryFields));
            }
            hub.Publish(new EventsIngested(inserted.Count, stored.LastId, newest));
        }
        return inserted.Count;
    }

    /// <summary>After the commit: a SIEM feed that cannot be written must not undo stored events.</summary>
    private void WriteSiemFiles(List<string> rawLines, List<string> insertedJson)
    {
        try
        {
            siem.Write(rawLines, insertedJson);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not append {Count} event(s) to the SIEM files in {Folder}", rawLines.Count, siem.Folder);
        }
    }

    /// <summary>
    /// SHA-256 of the raw line and the occurrence id: the same event replayed maps to the same key, while
    /// two identical lines from distinct occurrences (two connects in one microsecond) stay distinct.
    /// The bytes hashed are the UTF-8 of <c>RawLine + "\n" + SourceId</c>, encoded into a stack or pooled
    /// buffer: no per-row string, array or stream (this runs for every row of every batch).
    /// </summary>
    public static string EventKey(IngestLine line)
    {
        var raw = line.RawLine ?? string.Empty;
        var source = line.SourceId ?? string.Empty;
        var most = Encoding.UTF8.GetMaxByteCount(raw.Length + 1 + source.Length);
        byte[]? rented = null;
        var buffer = most <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(most));
        try
        {
            // The separator cannot join a surrogate pair across the two parts, so encoding them apart
            // gives the same bytes as encoding the concatenated text (a lone surrogate becomes U+FFFD either way).
            var length = Encoding.UTF8.GetBytes(raw, buffer);
            buffer[length++] = (byte)'\n';
            length += Encoding.UTF8.GetBytes(source, buffer[length..]);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..length], hash);
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// A JSON object of the parameters; a name repeated across SD elements keeps its first value.
    /// Written into a per-thread buffer and writer that are reset, not recreated, for every row.
    /// </summary>
    public static string FieldsJson(IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        if (fields.Count == 0)
        {
            return "{}";
        }
        var writer = JsonScratch.Start();
        writer.WriteStartObject();
        // A handful of fields is the rule: a backwards scan beats a hash set there. An attacker's line with
        // thousands of parameters gets the hash set, so it stays linear.
        var seen = fields.Count > LinearScanFields ? new HashSet<string>(StringComparer.Ordinal) : null;
        for (var i = 0; i < fields.Count; i++)
        {
            var (key, value) = fields[i];
            if (seen is not null ? seen.Add(key) : !SeenBefore(fields, i))
            {
                writer.WriteString(key, value);
            }
        }
        writer.WriteEndObject();
        return JsonScratch.Finish();
    }

    /// <summary>At most this many fields are de-duplicated by scanning, more by a hash set.</summary>
    internal const int LinearScanFields = 16;

    private const int StackBytes = 1024;

    private static bool SeenBefore(IReadOnlyList<KeyValuePair<string, string>> fields, int index)
    {
        var key = fields[index].Key;
        for (var j = 0; j < index; j++)
        {
            if (string.Equals(fields[j].Key, key, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    private void KeepMalformed(string rawLine)
    {
        lock (_malformedLock)
        {
            if (_recentMalformed.Count == MalformedKept)
            {
                _recentMalformed.Dequeue();
            }
            _recentMalformed.Enqueue(rawLine.Length > MalformedKeptLength ? rawLine[..MalformedKeptLength] : rawLine);
        }
    }

    private sealed class PreparedBatch(int lineCount)
    {
        public int LineCount { get; } = lineCount;
        public List<IngestRow> Rows { get; } = new(lineCount);
        public List<string> Rejected { get; } = [];
        public Dictionary<string, SourcePosition>? Positions { get; set; }
        public int Truncated { get; set; }
    }

    /// <summary>A line to store and, for an in-process event, the event already taken apart (else null: parse the line).</summary>
    internal readonly record struct PendingLine(IngestLine Line, ParsedEvent? Event);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ingest batch of {Count} line(s) failed; it will be retried")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);
}
