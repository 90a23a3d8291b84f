using System.Globalization;
using System.Text.Json;
using Decnet.Core.Caching;
using Decnet.Core.Events;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Decnet.Core.Ingest;

namespace Decnet.Core.Search;

/// <summary>
/// Searches <c>logs</c> with a <see cref="LogQuery"/>: pages (by offset or by keyset cursor), time
/// histograms and the live tail. The unfiltered first page, the unfiltered total and the default histogram
/// are what every open page and API poll asks for: each is loaded by one caller at a time and shared briefly
/// (until the lifetime ends or an ingest batch commits). Any other page, count or histogram is cached the
/// same way under its query for <see cref="QueryLifetime"/>, so operators polling the same search share one
/// database load. Queries run through <see cref="DatabaseReaders"/>.
/// </summary>
public sealed class LogSearch
{
    public const int DefaultLimit = 50;
    public const int DefaultIntervalMinutes = 15;
    public const int MaxLimit = 1000;
    public const int MaxAfterLimit = 500;

    /// <summary>Rows an export reads per query.</summary>
    public const int ExportChunk = 500;

    /// <summary>Different searches (pages, counts, histograms each) kept at once.</summary>
    public const int QueryCacheCapacity = 256;

    /// <summary>
    /// Estimated bytes the cached pages may hold together, and the histograms likewise: rows carry
    /// attacker-written raw lines and fields (up to 64 KiB a line), so 256 pages of 1,000 rows would
    /// otherwise be gigabytes. A page larger than this is served but not kept.
    /// </summary>
    public const long QueryCacheBytes = 16L * 1024 * 1024;

    /// <summary>Counting all of <c>logs</c> is the expensive part of any unfiltered page: shared this long.</summary>
    public static readonly TimeSpan UnfilteredTotalLifetime = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan FirstPageLifetime = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan HistogramLifetime = TimeSpan.FromSeconds(5);

    /// <summary>How long a filtered page, count or histogram is shared under its query.</summary>
    public static readonly TimeSpan QueryLifetime = TimeSpan.FromSeconds(2);

    private readonly DatabaseReaders _readers;
    private readonly SqlDialect _dialect;
    private readonly SingleFlightCache<long> _total;
    private readonly SingleFlightCache<LogPage> _firstPage;
    private readonly SingleFlightCache<IReadOnlyList<HistogramBucket>> _histogram;
    private readonly QueryCache<PageKey, LogPage> _pages;
    private readonly QueryCache<FilterKey, long> _counts;
    private readonly QueryCache<HistogramKey, IReadOnlyList<HistogramBucket>> _histograms;

    public LogSearch(DatabaseReaders readers, IOptions<StorageOptions> storage, EventIngester ingester, TimeProvider time)
    {
        _readers = readers;
        _dialect = SqlDialect.For(storage);
        Func<long> committed = () => ingester.CommittedBatches;
        _total = new SingleFlightCache<long>(time, UnfilteredTotalLifetime, CountAllAsync, committed);
        _firstPage = new SingleFlightCache<LogPage>(time, FirstPageLifetime,
            ct => LoadPageAsync(new PageKey(LogQuery.Empty, null, null, DefaultLimit, 0, null), ct), committed);
        _histogram = new SingleFlightCache<IReadOnlyList<HistogramBucket>>(time, HistogramLifetime,
            ct => LoadHistogramAsync(new HistogramKey(LogQuery.Empty, null, null, DefaultIntervalMinutes), ct), committed);
        _pages = new QueryCache<PageKey, LogPage>(time, QueryLifetime, QueryCacheCapacity, LoadPageAsync, committed, SizeOf, QueryCacheBytes);
        _counts = new QueryCache<FilterKey, long>(time, QueryLifetime, QueryCacheCapacity, CountAsync, committed);
        _histograms = new QueryCache<HistogramKey, IReadOnlyList<HistogramBucket>>(time, QueryLifetime, QueryCacheCapacity, LoadHistogramAsync, committed,
            SizeOf, QueryCacheBytes);
    }

    /// <summary>Loads started by the shared entries (diagnostics and tests): first page, total, histogram.</summary>
    public (long FirstPage, long Total, long Histogram) CacheLoads => (_firstPage.Loads, _total.Loads, _histogram.Loads);

    /// <summary>Loads started by the per-query caches (diagnostics and tests): pages, counts, histograms.</summary>
    public (long Pages, long Counts, long Histograms) QueryCacheLoads => (_pages.Loads, _counts.Loads, _histograms.Loads);

    /// <summary>What the per-query caches hold now (diagnostics and tests): keys and estimated bytes of pages and histograms.</summary>
    public (int Pages, long PageBytes, int Histograms, long HistogramBytes) QueryCacheHeld =>
        (_pages.Count, _pages.Bytes, _histograms.Count, _histograms.Bytes);

    /// <summary>Estimated memory of a cached page: its rows' text and parsed fields.</summary>
    public static long SizeOf(LogPage page)
    {
        var bytes = CacheSize.RowOverhead + CacheSize.Of(page.NextCursor);
        foreach (var row in page.Data)
        {
            bytes += CacheSize.RowOverhead + CacheSize.Of(row.Decky, row.Service, row.EventType, row.AttackerIp, row.RawLine, row.Msg, row.TraceId, row.SpanId);
            foreach (var (key, value) in row.Fields)
            {
                bytes += CacheSize.RowOverhead + CacheSize.Of(key, value);
            }
        }
        return bytes;
    }

    private static long SizeOf(IReadOnlyList<HistogramBucket> buckets) => CacheSize.RowOverhead + (48L * buckets.Count);

    /// <summary>One page, newest first, with the number of rows matching in all.</summary>
    public Task<LogPage> SearchAsync(LogQuery query, DateTime? start, DateTime? end, int limit, int offset, CancellationToken cancellationToken) =>
        SearchAsync(query, start, end, limit, offset, null, cancellationToken);

    /// <summary>
    /// One page, newest first: the rows after <paramref name="offset"/> others, or (keyset) the rows older
    /// than <paramref name="before"/>, the cursor of the previous page's last row. A keyset page costs the
    /// same however deep it is and never shows a row twice while new rows arrive.
    /// </summary>
    public Task<LogPage> SearchAsync(LogQuery query, DateTime? start, DateTime? end, int limit, int offset, LogCursor? before, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (before is not null && offset != 0)
        {
            throw new ArgumentException("A keyset page has no offset.", nameof(offset));
        }
        if (before is null && IsSharedPage(query, start, end, limit, offset))
        {
            return _firstPage.GetAsync(cancellationToken);
        }
        return _pages.GetAsync(new PageKey(query, start, end, limit, offset, before), cancellationToken);
    }

    private async Task<LogPage> LoadPageAsync(PageKey key, CancellationToken cancellationToken)
    {
        var filter = LogFilterSql.Build(_dialect, key.Query, key.Start, key.End, before: key.Before);
        var rows = await _readers.ReadAsync((db, ct) => Filtered(db, filter)
            .OrderByDescending(l => l.Timestamp).ThenByDescending(l => l.Id)
            .Skip(key.Offset).Take(key.Limit)
            .ToListAsync(ct), cancellationToken).ConfigureAwait(false);
        var total = IsUnfiltered(key.Query, key.Start, key.End)
            ? await _total.GetAsync(cancellationToken).ConfigureAwait(false)
            : await _counts.GetAsync(new FilterKey(key.Query, key.Start, key.End), cancellationToken).ConfigureAwait(false);
        var next = rows.Count == key.Limit ? new LogCursor(DateTime.SpecifyKind(rows[^1].Timestamp, DateTimeKind.Utc), rows[^1].Id).ToString() : null;
        return new LogPage(total, key.Limit, key.Offset, [.. rows.Select(LogRow.From)], next);
    }

    private Task<long> CountAsync(FilterKey key, CancellationToken cancellationToken)
    {
        var filter = LogFilterSql.Build(_dialect, key.Parsed, key.Start, key.End);
        return _readers.ReadAsync((db, ct) => Filtered(db, filter).LongCountAsync(ct), cancellationToken);
    }

    private static bool IsUnfiltered(LogQuery query, DateTime? start, DateTime? end) => query.IsEmpty && start is null && end is null;

    /// <summary>The page every reader shares (unfiltered, default size, first): the same instance until it expires.</summary>
    public static bool IsSharedPage(LogQuery query, DateTime? start, DateTime? end, int limit, int offset) =>
        IsUnfiltered(query, start, end) && limit == DefaultLimit && offset == 0;

    /// <summary>The histogram every reader shares (unfiltered, default interval).</summary>
    public static bool IsSharedHistogram(LogQuery query, DateTime? start, DateTime? end, int intervalMinutes) =>
        IsUnfiltered(query, start, end) && intervalMinutes == DefaultIntervalMinutes;

    /// <summary>The newest row's id (0 when empty): where a live tail starts.</summary>
    public Task<long> LatestIdAsync(CancellationToken cancellationToken) =>
        _readers.ReadAsync(async (db, ct) => await db.Logs.MaxAsync(l => (long?)l.Id, ct).ConfigureAwait(false) ?? 0, cancellationToken);

    /// <summary>Rows inserted after <paramref name="lastId"/> that match, oldest first: the live tail's increment.</summary>
    public async Task<IReadOnlyList<LogRow>> AfterIdAsync(long lastId, LogQuery query, int limit, CancellationToken cancellationToken)
    {
        limit = Math.Clamp(limit, 1, MaxAfterLimit);
        var filter = LogFilterSql.Build(_dialect, query, null, null, afterId: lastId);
        var rows = await _readers.ReadAsync((db, ct) => Filtered(db, filter).OrderBy(l => l.Id).Take(limit).ToListAsync(ct), cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(LogRow.From)];
    }

    /// <summary>
    /// Every matching row, newest first, for an export of any size: read in chunks of
    /// <see cref="ExportChunk"/> rows, each a short query resuming after the last row sent (keyset on the
    /// time index), so neither memory nor a database read is held for the whole export.
    /// </summary>
    public async IAsyncEnumerable<LogEntry> ExportAsync(LogQuery query, DateTime? start, DateTime? end,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        LogCursor? cursor = null;
        while (true)
        {
            var filter = LogFilterSql.Build(_dialect, query, start, end, before: cursor);
            var chunk = await _readers.ReadAsync((db, ct) => Filtered(db, filter)
                .OrderByDescending(l => l.Timestamp).ThenByDescending(l => l.Id)
                .Take(ExportChunk).ToListAsync(ct), cancellationToken).ConfigureAwait(false);
            foreach (var entry in chunk)
            {
                yield return entry;
            }
            if (chunk.Count < ExportChunk)
            {
                yield break;
            }
            cursor = new LogCursor(DateTime.SpecifyKind(chunk[^1].Timestamp, DateTimeKind.Utc), chunk[^1].Id);
        }
    }

    /// <summary>Matching rows per <paramref name="intervalMinutes"/> bucket (aligned to the Unix epoch), oldest first; empty buckets are absent.</summary>
    public Task<IReadOnlyList<HistogramBucket>> HistogramAsync(LogQuery query, DateTime? start, DateTime? end, int intervalMinutes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(intervalMinutes, 1);
        if (IsSharedHistogram(query, start, end, intervalMinutes))
        {
            return _histogram.GetAsync(cancellationToken);
        }
        return _histograms.GetAsync(new HistogramKey(query, start, end, intervalMinutes), cancellationToken);
    }

    private async Task<IReadOnlyList<HistogramBucket>> LoadHistogramAsync(HistogramKey key, CancellationToken cancellationToken)
    {
        var seconds = (long)key.IntervalMinutes * 60;
        // Placeholder {0} is the bucket width; the filter's placeholders follow it.
        var filter = LogFilterSql.Build(_dialect, key.Query, key.Start, key.End, firstParameter: 1);
        var sql = $"SELECT ({_dialect.EpochSeconds("\"Timestamp\"")} / {{0}}) * {{0}} AS \"Bucket\", COUNT(*) AS \"Count\" FROM logs WHERE "
                  + filter.Where + " GROUP BY 1 ORDER BY 1";
        // EF1003: sql is fixed text plus LogFilterSql's placeholders; the width and every value are bound parameters.
#pragma warning disable EF1003
        var rows = await _readers.ReadAsync((db, ct) => db.Database.SqlQueryRaw<BucketRow>(sql, [seconds, .. filter.Parameters]).ToListAsync(ct), cancellationToken)
            .ConfigureAwait(false);
#pragma warning restore EF1003
        return [.. rows.Select(r => new HistogramBucket(DateTime.UnixEpoch.AddSeconds(r.Bucket), r.Count))];
    }

    // EF1003: the concatenated SQL is LogFilterSql's fixed fragments and placeholders; every value is a bound parameter.
#pragma warning disable EF1003
    private static IQueryable<LogEntry> Filtered(DecnetDbContext db, LogFilterSql filter) =>
        db.Logs.FromSqlRaw("SELECT * FROM logs WHERE " + filter.Where, [.. filter.Parameters]).AsNoTracking();
#pragma warning restore EF1003

    private Task<long> CountAllAsync(CancellationToken cancellationToken) =>
        _readers.ReadAsync((db, ct) => db.Logs.LongCountAsync(ct), cancellationToken);

    /// <summary>Shape of the histogram SQL's rows (EF Core maps the columns by name).</summary>
    private sealed class BucketRow
    {
        public long Bucket { get; set; }
        public long Count { get; set; }
    }

    // LogQuery compares by reference; its normalised key is what identifies a search.
    private readonly record struct FilterKey(string Text, DateTime? Start, DateTime? End)
    {
        public FilterKey(LogQuery query, DateTime? start, DateTime? end)
            : this(query.Key, start, end)
        {
            Parsed = query;
        }

        public LogQuery Parsed { get; init; } = LogQuery.Empty;

        public bool Equals(FilterKey other) => Text == other.Text && Start == other.Start && End == other.End;

        public override int GetHashCode() => HashCode.Combine(Text, Start, End);
    }

    private readonly record struct PageKey(FilterKey Filter, int Limit, int Offset, LogCursor? Before)
    {
        public PageKey(LogQuery query, DateTime? start, DateTime? end, int limit, int offset, LogCursor? before)
            : this(new FilterKey(query, start, end), limit, offset, before)
        {
        }

        public LogQuery Query => Filter.Parsed;
        public DateTime? Start => Filter.Start;
        public DateTime? End => Filter.End;
    }

    private readonly record struct HistogramKey(FilterKey Filter, int IntervalMinutes)
    {
        public HistogramKey(LogQuery query, DateTime? start, DateTime? end, int intervalMinutes)
            : this(new FilterKey(query, start, end), intervalMinutes)
        {
        }

        public LogQuery Query => Filter.Parsed;
        public DateTime? Start => Filter.Start;
        public DateTime? End => Filter.End;
    }
}

/// <summary>
/// Where a keyset page starts: the time and id of the last row of the page before. Opaque to clients as
/// text <c>ticks.id</c>; anything else does not parse.
/// </summary>
public sealed record LogCursor(DateTime Timestamp, long Id)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Timestamp.Ticks}.{Id}");

    public static bool TryParse(string? text, out LogCursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(text) || text.Length > 40)
        {
            return false;
        }
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0
            || !long.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || !long.TryParse(text.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || ticks > DateTime.MaxValue.Ticks)
        {
            return false;
        }
        cursor = new LogCursor(new DateTime(ticks, DateTimeKind.Utc), id);
        return true;
    }
}

/// <summary>One page of a search.</summary>
/// <param name="NextCursor">The keyset cursor of the page after this one; null when this page is not full.</param>
public sealed record LogPage(long Total, int Limit, int Offset, IReadOnlyList<LogRow> Data, string? NextCursor = null);

/// <summary>A bucket of the histogram: its start (UTC) and how many rows fall in it.</summary>
public sealed record HistogramBucket(DateTime Time, long Count);

/// <summary>A log row as lists and the API show it; <see cref="Fields"/> is the parsed structured data.</summary>
public sealed record LogRow(
    long Id, DateTime Timestamp, string Decky, string Service, string EventType, string? AttackerIp,
    string RawLine, IReadOnlyDictionary<string, string> Fields, string? Msg, string? TraceId, string? SpanId)
{
    /// <summary>The field that names a captured artifact (a dropped file stored by the decky).</summary>
    public const string StoredAsField = "stored_as";

    public bool HasArtifact => Fields.ContainsKey(StoredAsField);

    public static LogRow From(LogEntry entry) => new(
        entry.Id, DateTime.SpecifyKind(entry.Timestamp, DateTimeKind.Utc), entry.Decky, entry.Service, entry.EventType, entry.AttackerIp,
        entry.RawLine, ParseFields(entry.Fields), entry.Msg, entry.TraceId, entry.SpanId);

    /// <summary>String values as they are, other JSON values as their JSON text; unreadable JSON is no fields.</summary>
    public static IReadOnlyDictionary<string, string> ParseFields(string? json)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(json))
        {
            return fields;
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return fields;
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                fields[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
            }
        }
        catch (JsonException)
        {
            // A row written by an older or foreign writer; its raw line still shows everything.
        }
        return fields;
    }
}
