using Decnet.Core.Swarm.Updates;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Decnet.Web.Swarm.Updates;

/// <summary>
/// <c>/api/v1/swarm-updates</c> (admin only): the workers' updaters with their release slots, pushing
/// the worker build to some or all of them (optionally the updaters themselves), and rolling one back.
/// </summary>
public static class SwarmUpdatesApi
{
    public static IEndpointRouteBuilder MapSwarmUpdatesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/swarm-updates").WithTags("Swarm updates").RequireAuthorization(Policies.Admin);
        group.MapGet("/hosts", HostsAsync)
            .WithName("ListSwarmUpdateHosts").WithSummary("Every enrolled host with an updater, probed: reachable, current and previous release.");
        group.MapPost("/push", PushAsync)
            .WithName("PushSwarmUpdate").WithSummary("Ship the worker build to host_uuids or all hosts (minus exclude); include_self also updates each updater after its agent.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/push-self", PushSelfAsync)
            .WithName("PushSwarmUpdaterSelf").WithSummary("Ship the worker build to the updaters only (/update-self).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/rollback", RollbackAsync)
            .WithName("RollbackSwarmHost").WithSummary("Swap a host back to its previous release; 404 when it has none, 400 when it has no updater.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Ok<UpdateHostsResponse>> HostsAsync(SwarmUpdates updates, CancellationToken cancellationToken) =>
        TypedResults.Ok(new UpdateHostsResponse(await updates.HostsAsync(cancellationToken)));

    public static Task<Results<Ok<PushOutcome>, ProblemHttpResult>> PushAsync(PushRequest request, SwarmUpdates updates, CancellationToken cancellationToken) =>
        PushCoreAsync(request, updates, selfOnly: false, cancellationToken);

    public static Task<Results<Ok<PushOutcome>, ProblemHttpResult>> PushSelfAsync(PushRequest request, SwarmUpdates updates, CancellationToken cancellationToken) =>
        PushCoreAsync(request, updates, selfOnly: true, cancellationToken);

    public static async Task<Results<Ok<HostUpdateResult>, ProblemHttpResult>> RollbackAsync(RollbackRequest request, SwarmUpdates updates, CancellationToken cancellationToken)
    {
        if (request.HostUuid is not { } hostId)
        {
            return TypedResults.Problem("host_uuid is required.", statusCode: StatusCodes.Status400BadRequest, title: "Invalid request");
        }
        var (result, problem, detail) = await updates.RollbackAsync(hostId, cancellationToken);
        return problem switch
        {
            RollbackProblem.None => TypedResults.Ok(result!),
            RollbackProblem.NoUpdater => TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "No updater"),
            RollbackProblem.NoPrevious => TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "No previous release"),
            _ => TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found"),
        };
    }

    private static async Task<Results<Ok<PushOutcome>, ProblemHttpResult>> PushCoreAsync(PushRequest request, SwarmUpdates updates, bool selfOnly, CancellationToken cancellationToken)
    {
        var (outcome, problem, detail) = await updates.PushAsync(new PushTarget(request.HostUuids, request.All, request.Exclude), request.IncludeSelf, selfOnly, cancellationToken);
        return problem switch
        {
            PushProblem.None => TypedResults.Ok(outcome!),
            PushProblem.NoBuild => TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "No worker build"),
            _ => TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid request"),
        };
    }
}

public sealed record UpdateHostsResponse(IReadOnlyList<HostReleaseInfo> Hosts);

public sealed record PushRequest(IReadOnlyList<Guid>? HostUuids, bool All, bool IncludeSelf, IReadOnlyList<Guid>? Exclude);

public sealed record RollbackRequest(Guid? HostUuid);
