using Decnet.Core.Attackers;
using Decnet.Web.Api;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Decnet.Web.Attackers;

public static class AttackersApi
{
    public static IEndpointRouteBuilder MapAttackersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/attackers").WithTags("Attackers").RequireAuthorization(Policies.Viewer);
        group.MapGet("/", ListAsync)
            .WithName("ListAttackers").WithSummary("Attacker profiles: search by IP substring, filter by service, sort by recent, active or traversals.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/{id:guid}", GetAsync)
            .WithName("GetAttacker").WithSummary("One attacker profile with its behaviour.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id:guid}/commands", CommandsAsync)
            .WithName("GetAttackerCommands").WithSummary("Commands the attacker ran, newest first.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id:guid}/artifacts", ArtifactsAsync)
            .WithName("GetAttackerArtifacts").WithSummary("Files the attacker left on deckies (file_captured events), newest first, at most 200.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Results<Ok<AttackerListResponse>, SharedJson<AttackerListResponse>, ProblemHttpResult>> ListAsync(
        AttackerDirectory directory, CancellationToken cancellationToken,
        int limit = 50, int offset = 0, string? search = null, [FromQuery(Name = "sort_by")] string? sortBy = null, string? service = null)
    {
        if (limit is < 1 or > 1000)
        {
            return ApiProblems.Invalid("limit must be between 1 and 1000.");
        }
        if (offset < 0)
        {
            return ApiProblems.Invalid("offset must not be negative.");
        }
        if (!TryFilter(search, sortBy, service, out var sort, out var problem))
        {
            return problem;
        }
        var query = new AttackerQuery(limit, offset, search, sort, service);
        var page = await directory.ListAsync(query, cancellationToken);
        AttackerListResponse Response() => new(page.Total, limit, offset, page.Data.Select(AttackerView.From).ToList());
        // Every page comes from a cache shared by the readers of the same query: serialised once per instance.
        return SharedJson.Of(page, Response);
    }

    /// <summary>The list's filter and order, shared with the export.</summary>
    internal static bool TryFilter(string? search, string? sortBy, string? service, out AttackerSort sort, out ProblemHttpResult problem)
    {
        problem = null!;
        AttackerSort? parsed = (sortBy ?? "recent").ToLowerInvariant() switch
        {
            "recent" => AttackerSort.Recent,
            "active" => AttackerSort.Active,
            "traversals" => AttackerSort.Traversals,
            _ => null,
        };
        sort = parsed ?? AttackerSort.Recent;
        if (parsed is null)
        {
            problem = ApiProblems.Invalid("sort_by must be recent, active or traversals.");
            return false;
        }
        if (search?.Length > 64 || service?.Length > 64)
        {
            problem = ApiProblems.Invalid("search and service are at most 64 characters.");
            return false;
        }
        return true;
    }

    public static async Task<Results<Ok<AttackerView>, ProblemHttpResult>> GetAsync(Guid id, AttackerDirectory directory, CancellationToken cancellationToken)
    {
        var attacker = await directory.GetAsync(id, cancellationToken);
        return attacker is null ? NotFound() : TypedResults.Ok(AttackerView.From(attacker));
    }

    public static async Task<Results<Ok<CommandListResponse>, ProblemHttpResult>> CommandsAsync(
        Guid id, AttackerDirectory directory, CancellationToken cancellationToken, int limit = 50, int offset = 0, string? service = null)
    {
        if (limit is < 1 or > 200)
        {
            return ApiProblems.Invalid("limit must be between 1 and 200.");
        }
        if (offset < 0)
        {
            return ApiProblems.Invalid("offset must not be negative.");
        }
        var page = await directory.CommandsAsync(id, limit, offset, service, cancellationToken);
        return page is null ? NotFound() : TypedResults.Ok(new CommandListResponse(page.Total, limit, offset, page.Data));
    }

    public static async Task<Results<Ok<ArtifactListResponse>, ProblemHttpResult>> ArtifactsAsync(Guid id, AttackerDirectory directory, CancellationToken cancellationToken)
    {
        var rows = await directory.ArtifactsAsync(id, cancellationToken);
        if (rows is null)
        {
            return NotFound();
        }
        var data = rows.Select(r => new ArtifactView(r.Id, DateTime.SpecifyKind(r.Timestamp, DateTimeKind.Utc), r.Decky, r.Service, r.EventType, r.AttackerIp,
            ReadFields(r.Fields))).ToList();
        return TypedResults.Ok(new ArtifactListResponse(data.Count, data));
    }

    private static ProblemHttpResult NotFound() =>
        TypedResults.Problem("No such attacker.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    private static Dictionary<string, string> ReadFields(string json)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
        }
        catch (System.Text.Json.JsonException)
        {
            return [];
        }
    }
}

public sealed record AttackerListResponse(int Total, int Limit, int Offset, IReadOnlyList<AttackerView> Data);

public sealed record CommandListResponse(int Total, int Limit, int Offset, IReadOnlyList<AttackerCommand> Data);

public sealed record ArtifactListResponse(int Total, IReadOnlyList<ArtifactView> Data);

public sealed record ArtifactView(long Id, DateTime Timestamp, string Decky, string Service, string EventType, string? AttackerIp, IReadOnlyDictionary<string, string> Fields);

public sealed record AttackerView(
    Guid Uuid,
    string Ip,
    DateTime FirstSeen,
    DateTime LastSeen,
    int EventCount,
    int ServiceCount,
    int DeckyCount,
    IReadOnlyList<string> Services,
    IReadOnlyList<string> Deckies,
    string? TraversalPath,
    bool IsTraversal,
    int BountyCount,
    int CredentialCount,
    IReadOnlyList<AttackerFingerprint> Fingerprints,
    int CommandCount,
    DateTime UpdatedAt,
    BehaviorView? Behavior)
{
    /// <summary>The list and detail views omit the command list itself: it has its own paged endpoint.</summary>
    public static AttackerView From(Attacker a) => new(
        a.Id, a.Ip, Utc(a.FirstSeen), Utc(a.LastSeen), a.EventCount, a.ServiceCount, a.DeckyCount,
        AttackerJson.ReadList<string>(a.Services), AttackerJson.ReadList<string>(a.Deckies), a.TraversalPath, a.IsTraversal,
        a.BountyCount, a.CredentialCount, AttackerJson.ReadList<AttackerFingerprint>(a.Fingerprints),
        AttackerJson.ReadList<AttackerCommand>(a.Commands).Count, Utc(a.UpdatedAt),
        a.Behavior is null ? null : BehaviorView.From(a.Behavior));

    internal static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);
}

public sealed record BehaviorView(
    string? OsGuess,
    int? HopDistance,
    string? BehaviorClass,
    double? BeaconIntervalS,
    double? BeaconJitterPct,
    IReadOnlyList<string> ToolGuesses,
    TimingStats? TimingStats,
    PhaseSequence? PhaseSequence,
    DateTime UpdatedAt)
{
    public static BehaviorView From(AttackerBehavior b) => new(
        b.OsGuess, b.HopDistance, b.BehaviorClass, b.BeaconIntervalSeconds, b.BeaconJitterPct,
        AttackerJson.ReadList<string>(b.ToolGuesses), AttackerJson.Read<TimingStats>(b.TimingStats),
        AttackerJson.Read<PhaseSequence>(b.PhaseSequence), AttackerView.Utc(b.UpdatedAt));
}
