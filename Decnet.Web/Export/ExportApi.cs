using Decnet.Core.Attackers;
using Decnet.Core.Bounty;
using Decnet.Core.Export;
using Decnet.Core.Search;
using Decnet.Web.Api;
using Decnet.Web.Attackers;
using Decnet.Web.Authentication;
using Decnet.Web.Events;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Decnet.Web.Export;

/// <summary>
/// CSV and JSON exports of Live Logs, the bounty vault and the attacker list, with the same filters as
/// their lists. Each is mapped twice: under /api/v1 for API clients (bearer token) and under
/// /downloads/export for the dashboard's buttons (the signed-in cookie); viewers may export.
/// </summary>
public static class ExportApi
{
    public const string DownloadsPrefix = "/downloads/export";
    public const int MaxBountySearchLength = 256;

    public static IEndpointRouteBuilder MapExportApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization(Policies.Viewer);
        api.MapGet("/logs/export", Logs).WithTags("Logs").WithName("ExportLogs")
            .WithSummary("Every event the search matches, newest first, as CSV (format=csv, the default) or a JSON array (format=json), streamed.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapGet("/bounty/export", Bounty).WithTags("Bounty").WithName("ExportBounty")
            .WithSummary("Every bounty the filter matches, newest first, as CSV or a JSON array, streamed.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapGet("/attackers/export", Attackers).WithTags("Attackers").WithName("ExportAttackers")
            .WithSummary("Every attacker profile the filter matches, in the list's order, as CSV or a JSON array, streamed (no command lists).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status429TooManyRequests);

        var downloads = app.MapGroup(DownloadsPrefix).RequireAuthorization(Policies.Viewer).ExcludeFromDescription();
        downloads.MapGet("/logs", LogsOfPage);
        downloads.MapGet("/bounty", Bounty);
        downloads.MapGet("/attackers", Attackers);
        return app;
    }

    public static Results<ExportResult, ProblemHttpResult> Logs(LogSearch logs, string? format, string? search,
        [FromQuery(Name = "start_time")] string? startTime, [FromQuery(Name = "end_time")] string? endTime)
    {
        if (!ExportFormats.TryParse(format, out var chosen))
        {
            return BadFormat();
        }
        if (!LogsApi.TryFilter(search, startTime, endTime, out var filter, out var problem))
        {
            return problem;
        }
        return LogExport(logs, chosen, filter.Query, filter.Start, filter.End);
    }

    /// <summary>What Live Logs shows: its search (q) over its window (range, resolved now), as in the page's URL.</summary>
    public static Results<ExportResult, ProblemHttpResult> LogsOfPage(LogSearch logs, TimeProvider time, string? format, string? q, string? range)
    {
        if (!ExportFormats.TryParse(format, out var chosen))
        {
            return BadFormat();
        }
        range ??= LogRanges.Default;
        if (!LogRanges.IsKnown(range))
        {
            return ApiProblems.Invalid($"range must be one of {string.Join(", ", LogRanges.All)}.");
        }
        var parsed = LogQuery.Parse(q);
        if (!parsed.Succeeded)
        {
            return ApiProblems.Invalid($"Invalid search: {parsed.Error}");
        }
        return LogExport(logs, chosen, parsed.Query!, LogRanges.Start(range, time.GetUtcNow().UtcDateTime), null);
    }

    public static Results<ExportResult, ProblemHttpResult> Bounty(BountyQuery bounties, string? format,
        [FromQuery(Name = "bounty_type")] string? bountyType, string? search)
    {
        if (!ExportFormats.TryParse(format, out var chosen))
        {
            return BadFormat();
        }
        if (bountyType?.Length > 64 || search?.Length > MaxBountySearchLength)
        {
            return ApiProblems.Invalid($"bounty_type is at most 64 characters, search at most {MaxBountySearchLength}.");
        }
        return new ExportResult("bounty", chosen, ExportTables.BountyColumns, async (writer, cancellationToken) =>
        {
            await foreach (var row in bounties.ExportAsync(bountyType, search, cancellationToken))
            {
                ExportTables.Write(writer, row);
                await writer.FlushIfFullAsync(cancellationToken);
            }
        });
    }

    public static Results<ExportResult, ProblemHttpResult> Attackers(AttackerDirectory directory, string? format, string? search,
        [FromQuery(Name = "sort_by")] string? sortBy, string? service)
    {
        if (!ExportFormats.TryParse(format, out var chosen))
        {
            return BadFormat();
        }
        if (!AttackersApi.TryFilter(search, sortBy, service, out var sort, out var problem))
        {
            return problem;
        }
        var query = new AttackerQuery(Search: search, Sort: sort, Service: service);
        return new ExportResult("attackers", chosen, ExportTables.AttackerColumns, async (writer, cancellationToken) =>
        {
            await foreach (var row in directory.ExportAsync(query, cancellationToken))
            {
                ExportTables.Write(writer, row);
                await writer.FlushIfFullAsync(cancellationToken);
            }
        });
    }

    private static ExportResult LogExport(LogSearch logs, ExportFormat format, LogQuery query, DateTime? start, DateTime? end) =>
        new("logs", format, ExportTables.LogColumns, async (writer, cancellationToken) =>
        {
            await foreach (var row in logs.ExportAsync(query, start, end, cancellationToken))
            {
                ExportTables.Write(writer, row);
                await writer.FlushIfFullAsync(cancellationToken);
            }
        });

    private static ProblemHttpResult BadFormat() => ApiProblems.Invalid("format must be csv or json.");
}
