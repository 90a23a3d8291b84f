using System.Globalization;
using Decnet.Core.Events;
using Decnet.Core.Overview;
using Decnet.Core.Search;
using Decnet.Web.Api;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Decnet.Web.Events;

/// <summary>Log search, its time histogram and the headline statistics.</summary>
public static class LogsApi
{
    public const int DefaultLimit = LogSearch.DefaultLimit;
    public const int DefaultIntervalMinutes = LogSearch.DefaultIntervalMinutes;

    /// <summary>A week of minutes: wider buckets say nothing a week does not.</summary>
    public const int MaxIntervalMinutes = 7 * 24 * 60;

    public static IEndpointRouteBuilder MapLogsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1").WithTags("Logs");
        group.MapGet("/logs", SearchAsync).RequireAuthorization(Policies.Viewer)
            .WithName("SearchLogs")
            .WithSummary("Captured events, newest first, filtered by a search (decky:, service:, event:, attacker:, any field:, or words). " +
                         "Page by offset, or by cursor: pass the previous page's next_cursor to get the rows after it.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/logs/histogram", HistogramAsync).RequireAuthorization(Policies.Viewer)
            .WithName("LogHistogram").WithSummary("Matching events per time bucket of interval_minutes, oldest first.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/stats", StatsAsync).RequireAuthorization(Policies.Viewer)
            .WithName("Stats").WithSummary("Total events, unique attackers and active deckies.");
        return app;
    }

    public static async Task<Results<Ok<LogPageResponse>, SharedJson<LogPageResponse>, ProblemHttpResult>> SearchAsync(
        LogSearch logs,
        [FromQuery] int? limit,
        [FromQuery] int? offset,
        [FromQuery(Name = "search")] string? search,
        [FromQuery(Name = "start_time")] string? startTime,
        [FromQuery(Name = "end_time")] string? endTime,
        [FromQuery(Name = "cursor")] string? cursor,
        CancellationToken cancellationToken)
    {
        var take = limit ?? DefaultLimit;
        if (take is < 1 or > LogSearch.MaxLimit)
        {
            return ApiProblems.Invalid($"limit must be between 1 and {LogSearch.MaxLimit}.");
        }
        var skip = offset ?? 0;
        if (skip < 0)
        {
            return ApiProblems.Invalid("offset must be 0 or more.");
        }
        LogCursor? before = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            if (!LogCursor.TryParse(cursor, out before))
            {
                return ApiProblems.Invalid("cursor is not a next_cursor this API returned.");
            }
            if (skip != 0)
            {
                return ApiProblems.Invalid("cursor and offset cannot be combined: a cursor page starts after the cursor's row.");
            }
        }
        if (!TryFilter(search, startTime, endTime, out var filter, out var problem))
        {
            return problem;
        }
        var page = await logs.SearchAsync(filter.Query, filter.Start, filter.End, take, skip, before, cancellationToken);
        // Every page comes from a cache shared by the readers of the same search: serialised once per instance.
        return SharedJson.Of(page, () => new LogPageResponse(page.Total, page.Limit, page.Offset, page.Data, page.NextCursor));
    }

    public static async Task<Results<Ok<IReadOnlyList<HistogramBucket>>, SharedJson<IReadOnlyList<HistogramBucket>>, ProblemHttpResult>> HistogramAsync(
        LogSearch logs,
        [FromQuery(Name = "search")] string? search,
        [FromQuery(Name = "start_time")] string? startTime,
        [FromQuery(Name = "end_time")] string? endTime,
        [FromQuery(Name = "interval_minutes")] int? intervalMinutes,
        CancellationToken cancellationToken)
    {
        var interval = intervalMinutes ?? DefaultIntervalMinutes;
        if (interval is < 1 or > MaxIntervalMinutes)
        {
            return ApiProblems.Invalid($"interval_minutes must be between 1 and {MaxIntervalMinutes}.");
        }
        if (!TryFilter(search, startTime, endTime, out var filter, out var problem))
        {
            return problem;
        }
        var buckets = await logs.HistogramAsync(filter.Query, filter.Start, filter.End, interval, cancellationToken);
        return SharedJson.Of(buckets, () => buckets);
    }

    public static async Task<SharedJson<StatsResponse>> StatsAsync(EventStatistics statistics, CancellationToken cancellationToken)
    {
        var summary = await statistics.GetSummaryAsync(cancellationToken);
        return SharedJson.Of(summary, () => new StatsResponse(summary.TotalInteractions, summary.UniqueAttackers, summary.ActiveDeckies));
    }

    internal static bool TryFilter(string? search, string? startTime, string? endTime, out SearchFilter filter, out ProblemHttpResult problem)
    {
        filter = default;
        problem = null!;
        var parsed = LogQuery.Parse(search);
        if (!parsed.Succeeded)
        {
            problem = ApiProblems.Invalid($"Invalid search: {parsed.Error}");
            return false;
        }
        if (!TryTime(startTime, out var start) || !TryTime(endTime, out var end))
        {
            problem = ApiProblems.Invalid("start_time and end_time must be ISO 8601 times (UTC unless an offset is given).");
            return false;
        }
        filter = new SearchFilter(parsed.Query!, start, end);
        return true;
    }

    /// <summary>Browsers' query builders send "null" or "undefined" for an unset time: both mean absent, as does "".</summary>
    internal static bool TryTime(string? text, out DateTime? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text) || text is "null" or "undefined")
        {
            return true;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            value = parsed.UtcDateTime;
            return true;
        }
        return false;
    }

    internal readonly record struct SearchFilter(LogQuery Query, DateTime? Start, DateTime? End);
}

/// <param name="NextCursor">Pass as <c>cursor</c> for the rows after this page; null on a page that is not full.</param>
public sealed record LogPageResponse(long Total, int Limit, int Offset, IReadOnlyList<LogRow> Data, string? NextCursor);

public sealed record StatsResponse(long TotalLogs, int UniqueAttackers, int ActiveDeckies);
