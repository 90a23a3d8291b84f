using System.Text.Json;
using Decnet.Core.Caching;
using Decnet.Core.Events;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Search;

/// <summary>
/// Searches <c>logs</c> with a <see cref="LogQuery"/>: pages, time histograms and the live tail.
/// The unfiltered first page, the unfiltered total and the default histogram are what every open page
/// and API poll asks for: each is loaded by one caller at a time and shared briefly (until the lifetime
/// ends or an ingest batch commits). Filtered requests always go to the database.
/// </summary>
public sealed class LogSearch
{
    public const int DefaultLimit = 50;
    public const int DefaultIntervalMinutes = 15;
    public const int MaxLimit = 1000;
    public const int MaxAfterLimit = 500;

    /// <summary>Rows an export reads per query.</summary>
    public const int ExportChunk = 500;

    /// <summary>Counting all of <c>logs</c> is the expensive part of any unfiltered page: shared this long.</summary>
    public static readonly TimeSpan UnfilteredTotalLifetime = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan FirstPageLifetime = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan HistogramLifetime = TimeSpan.FromSeconds(5);

    private readonly IDbContextFactory<DecnetDbContext> _dbFactory;
    private readonly SingleFlightCache<long> _total;
    private readonly SingleFlightCache<LogPage> _firstPage;
    private readonly SingleFlightCache<IReadOnlyList<HistogramBucket>> _histogram;

    public LogSearch(IDbContextFactory<DecnetDbContext> dbFactory, EventIngester ingester, TimeProvider time)
    {
        _dbFactory = dbFactory;
        Func<long> committed = () => ingester.CommittedBatches;
        _total = new SingleFlightCache<long>(time, UnfilteredTotalLifetime, CountAllAsync, committed);
        _firstPage = new SingleFlightCache<LogPage>(time, FirstPageLifetime,
            ct => LoadPageAsync(LogQuery.Empty, null, null, DefaultLimit, 0, ct), committed);
        _histogram = new SingleFlightCache<IReadOnlyList<HistogramBucket>>(time, HistogramLifetime,
            ct => LoadHistogramAsync(LogQuery.Empty, null, null, DefaultIntervalMinutes, ct), committed);
    }

    /// <summary>Loads started by the shared entries (diagnostics and tests): first page, total, histogram.</summary>
    public (long FirstPage, long Total, long Histogram) CacheLoads => (_firstPage.Loads, _total.Loads, _histogram.Loads);

    /// <summary>One page, newest first, with the number of rows matching in all.</summary>
    public Task<LogPage> SearchAsync(LogQuery query, DateTime? start, DateTime? end, int limit, int offset, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (IsSharedPage(query, start, end, limit, offset))
        {
            return _firstPage.GetAsync(cancellationToken);
        }
        return LoadPageAsync(query, start, end, limit, offset, cancellationToken);
    }

    private async Task<LogPage> LoadPageAsync(LogQuery query, DateTime? start, DateTime? end, int limit, int offset, CancellationToken cancellationToken)
    {
        var filter = LogFilterSql.Build(query, start, end);
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await Filtered(db, filter)
            .OrderByDescending(l => l.Timestamp).ThenByDescending(l => l.Id)
            .Skip(offset).Take(limit)
            .ToListAsync(cancellationToken);
        var total = IsUnfiltered(query, start, end)
            ? await _total.GetAsync(cancellationToken)
            : await Filtered(db, filter).LongCountAsync(cancellationToken);
        return new LogPage(total, limit, offset, [.. rows.Select(LogRow.From)]);
    }

    private static bool IsUnfiltered(LogQuery query, DateTime? start, DateTime? end) => query.IsEmpty && start is null && end is null;

    /// <summary>The page every reader shares (unfiltered, default size, first): the same instance until it expires.</summary>
    public static bool IsSharedPage(LogQuery query, DateTime? start, DateTime? end, int limit, int offset) =>
        IsUnfiltered(query, start, end) && limit == DefaultLimit && offset == 0;

    /// <summary>The histogram every reader shares (unfiltered, default interval).</summary>
    public static bool IsSharedHistogram(LogQuery query, DateTime? start, DateTime? end, int intervalMinutes) =>
        IsUnfiltered(query, start, end) && intervalMinutes == DefaultIntervalMinutes;

    /// <summary>The newest row's id (0 when empty): where a live tail starts.</summary>
    public async Task<long> LatestIdAsync(CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Logs.MaxAsync(l => (long?)l.Id, cancellationToken) ?? 0;
    }

    /// <summary>Rows inserted after <paramref name="lastId"/> that match, oldest first: the live tail's increment.</summary>
    public async Task<IReadOnlyList<LogRow>> AfterIdAsync(long lastId, LogQuery query, int limit, CancellationToken cancellationToken)
    {
        limit = Math.Clamp(limit, 1, MaxAfterLimit);
        var filter = LogFilterSql.Build(query, null, null, afterId: lastId);
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await Filtered(db, filter).OrderBy(l => l.Id).Take(limit).ToListAsync(cancellationToken);
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
        (DateTime Timestamp, long Id)? cursor = null;
        while (true)
        {
            var filter = LogFilterSql.Build(query, start, end, before: cursor);
            List<LogEntry> chunk;
            await using (var db = await _dbFactory.CreateDbContextAsync(cancellationToken))
            {
                chunk = await Filtered(db, filter).OrderByDescending(l => l.Timestamp).ThenByDescending(l => l.Id)
                    .Take(ExportChunk).ToListAsync(cancellationToken);
            }
            foreach (var entry in chunk)
            {
                yield return entry;
            }
            if (chunk.Count < ExportChunk)
            {
                yield break;
            }
            cursor = (chunk[^1].Timestamp, chunk[^1].Id);
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
        return LoadHistogramAsync(query, start, end, intervalMinutes, cancellationToken);
    }

    private async Task<IReadOnlyList<HistogramBucket>> LoadHistogramAsync(LogQuery query, DateTime? start, DateTime? end, int intervalMinutes, CancellationToken cancellationToken)
    {
        var seconds = (long)intervalMinutes * 60;
        // Placeholder {0} is the bucket width; the filter's placeholders follow it.
        var filter = LogFilterSql.Build(query, start, end, firstParameter: 1);
        var sql = "SELECT (CAST(strftime('%s', Timestamp) AS INTEGER) / {0}) * {0} AS Bucket, COUNT(*) AS Count FROM logs WHERE "
                  + filter.Where + " GROUP BY Bucket ORDER BY Bucket";
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        // EF1003: sql is fixed text plus LogFilterSql's placeholders; the width and every value are bound parameters.
#pragma warning disable EF1003
        var rows = await db.Database.SqlQueryRaw<BucketRow>(sql, [seconds, .. filter.Parameters]).ToListAsync(cancellationToken);
#pragma warning restore EF1003
        return [.. rows.Select(r => new HistogramBucket(DateTime.UnixEpoch.AddSeconds(r.Bucket), r.Count))];
    }

    // EF1003: the concatenated SQL is LogFilterSql's fixed fragments and placeholders; every value is a bound parameter.
#pragma warning disable EF1003
    private static IQueryable<LogEntry> Filtered(DecnetDbContext db, LogFilterSql filter) =>
        db.Logs.FromSqlRaw("SELECT * FROM logs WHERE " + filter.Where, [.. filter.Parameters]).AsNoTracking();
#pragma warning restore EF1003

    private async Task<long> CountAllAsync(CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Logs.LongCountAsync(cancellationToken);
    }

    /// <summary>Shape of the histogram SQL's rows (EF Core maps the columns by name).</summary>
    private sealed class BucketRow
    {
        public long Bucket { get; set; }
        public long Count { get; set; }
    }
}

/// <summary>One page of a search.</summary>
public sealed record LogPage(long Total, int Limit, int Offset, IReadOnlyList<LogRow> Data);

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
