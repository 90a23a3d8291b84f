using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Web.Api;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Decnet.Web.Deckies;

public static class DeckiesApi
{
    /// <summary>The INI cap (512 KiB) plus room for the JSON envelope.</summary>
    private const long MaxDeployBody = (512 * 1024 * 2) + 4096;

    public static IEndpointRouteBuilder MapDeckiesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/deckies").WithTags("Deckies");
        group.MapGet("/", ListAsync).RequireAuthorization(Policies.Viewer)
            .WithName("ListDeckies").WithSummary("Deployed deckies, local and on swarm workers (host names the worker), with their configuration and live state; a decky on a silent worker is unreachable.");
        group.MapPost("/deploy", DeployAsync).RequireAuthorization(Policies.Admin)
            .WithMetadata(new RequestSizeLimitAttribute(MaxDeployBody))
            .WithName("DeployDeckies").WithSummary("Deploy an INI. Replaces the previous decky set; invalid INI changes nothing.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity).ProducesProblem(StatusCodes.Status502BadGateway);
        group.MapPost("/{name}/mutate", MutateAsync).RequireAuthorization(Policies.Admin)
            .WithName("MutateDecky").WithSummary("Rotate the decky's services now (on its worker for a swarm decky).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status502BadGateway);
        group.MapPut("/{name}/mutate-interval", SetIntervalAsync).RequireAuthorization(Policies.Admin)
            .WithName("SetDeckyMutateInterval").WithSummary("Set the decky's mutation interval (e.g. 30m, 2d) or null for the global one.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{name}", TeardownAsync).RequireAuthorization(Policies.Admin)
            .WithName("TeardownDecky").WithSummary("Tear down one decky: 200 when local, 202 when it runs on a swarm worker (its shard shows tearing_down until the worker answers).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);

        app.MapGet("/api/v1/system/deployment-mode", DeploymentMode).RequireAuthorization(Policies.Viewer)
            .WithTags("System").WithName("DeploymentMode").WithSummary("Where the next deploy goes: locally, or sharded across swarm hosts.");
        return app;
    }

    public static async Task<Ok<IReadOnlyList<DeckyView>>> ListAsync(DeckyFleet fleet, CancellationToken cancellationToken) =>
        TypedResults.Ok((IReadOnlyList<DeckyView>)(await fleet.ListAsync(cancellationToken)).Select(DeckyView.From).ToList());

    public static async Task<Results<Ok<DeployResponse>, ProblemHttpResult>> DeployAsync(
        [FromBody] DeployRequest request, HttpContext http, DeckyFleet fleet, CancellationToken cancellationToken)
    {
        if (request.IniContent is null)
        {
            return ApiProblems.Invalid("ini_content is required.");
        }
        var result = await fleet.DeployAsync(http.User.GetUsername(), request.IniContent, cancellationToken);
        return result.Status switch
        {
            FleetOperationStatus.Ok => TypedResults.Ok(new DeployResponse(result.Message, result.Mode, fleet.RuntimeKind,
                result.Runtime!.Deckies.Select(d => new DeckyStateView(d.Name, Wire(d.State), d.Services.Select(ServiceView.From).ToList())).ToList())),
            FleetOperationStatus.Invalid => IniProblem(result),
            FleetOperationStatus.LimitExceeded or FleetOperationStatus.Busy =>
                TypedResults.Problem(result.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict"),
            _ => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status502BadGateway, title: "Runtime failure"),
        };
    }

    public static async Task<Results<Ok<MessageResponse>, Accepted<MessageResponse>, ProblemHttpResult>> MutateAsync(
        string name, HttpContext http, DeckyFleet fleet, CancellationToken cancellationToken)
    {
        if (!DeploymentIniLoader.IsDeckyName(name))
        {
            return ApiProblems.Invalid("Decky names have 1-128 letters, digits, '-', '_' or '.'.");
        }
        var result = await fleet.MutateAsync(http.User.GetUsername(), name, cancellationToken);
        return Map(result);
    }

    public static async Task<Results<Ok<MessageResponse>, Accepted<MessageResponse>, ProblemHttpResult>> SetIntervalAsync(
        string name, [FromBody] MutateIntervalRequest request, HttpContext http, DeckyFleet fleet, CancellationToken cancellationToken)
    {
        if (!DeploymentIniLoader.IsDeckyName(name))
        {
            return ApiProblems.Invalid("Decky names have 1-128 letters, digits, '-', '_' or '.'.");
        }
        return Map(await fleet.SetMutateIntervalAsync(http.User.GetUsername(), name, request.MutateInterval, cancellationToken));
    }

    public static async Task<Results<Ok<MessageResponse>, Accepted<MessageResponse>, ProblemHttpResult>> TeardownAsync(
        string name, HttpContext http, DeckyFleet fleet, CancellationToken cancellationToken)
    {
        if (!DeploymentIniLoader.IsDeckyName(name))
        {
            return ApiProblems.Invalid("Decky names have 1-128 letters, digits, '-', '_' or '.'.");
        }
        return Map(await fleet.TeardownAsync(http.User.GetUsername(), name, cancellationToken));
    }

    public static async Task<Ok<DeploymentModeResponse>> DeploymentMode(HttpContext http, DeckyFleet fleet, SwarmDeploymentMode swarm, CancellationToken cancellationToken)
    {
        var mode = await swarm.GetAsync(cancellationToken);
        return TypedResults.Ok(new DeploymentModeResponse(mode.Mode, http.User.IsAdmin() ? "admin" : "viewer", mode.LiveHostCount, fleet.RuntimeKind,
            mode.Banner(fleet.RuntimeKind)));
    }

    private static Results<Ok<MessageResponse>, Accepted<MessageResponse>, ProblemHttpResult> Map(FleetOperation result) => result.Status switch
    {
        FleetOperationStatus.Ok => TypedResults.Ok(new MessageResponse(result.Message)),
        FleetOperationStatus.Accepted => TypedResults.Accepted("/api/v1/deckies", new MessageResponse(result.Message)),
        FleetOperationStatus.NotFound => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status404NotFound, title: "Not found"),
        FleetOperationStatus.Failed => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status502BadGateway, title: "Worker failure"),
        _ => ApiProblems.Invalid(result.Message),
    };

    private static ProblemHttpResult IniProblem(FleetOperation result) =>
        TypedResults.Problem(result.Message, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Invalid INI",
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = (result.Errors ?? []).Select(e => new { line = e.Line, section = e.Section, key = e.Key, message = e.Message, text = e.ToString() }).ToList(),
            });

    internal static string Wire(DeckyRunState state) => state.ToString().ToLowerInvariant();
}

public sealed record DeployRequest(string? IniContent);

public sealed record MutateIntervalRequest(string? MutateInterval);

public sealed record ServiceView(string Service, string State, string? Error, IReadOnlyList<string> Endpoints)
{
    public static ServiceView From(ServiceStatus status) =>
        new(status.Service, status.State.ToString().ToLowerInvariant(), status.Error, status.Endpoints ?? []);
}

public sealed record DeckyStateView(string Name, string State, IReadOnlyList<ServiceView> Services);

public sealed record DeployResponse(string Message, string Mode, string Runtime, IReadOnlyList<DeckyStateView> Deckies);

public sealed record DeploymentModeResponse(string Mode, string Role, int SwarmHostCount, string Runtime, string Banner);

/// <summary>
/// A decky as the API lists it. <see cref="Host"/> names the swarm worker it runs on (null: this master);
/// for those, <see cref="State"/> is the shard state (unreachable when the worker is silent) and each
/// service carries it too, since heartbeats report deckies, not services.
/// </summary>
public sealed record DeckyView(
    string Name, string Ip, string Hostname, string Distro, string? Archetype, string NmapOs, IReadOnlyList<string> Services,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> ServiceConfig, int? MutateInterval, int EffectiveMutateInterval,
    DateTime? LastMutated, string State, IReadOnlyList<ServiceView> Runtime, string? Host = null, Guid? HostUuid = null)
{
    public static DeckyView From(FleetDecky decky) => new(
        decky.Config.Name, decky.Config.Ip, decky.Config.Hostname, decky.Config.Distro, decky.Config.Archetype, decky.Config.NmapOs,
        decky.Config.Services, decky.Config.ServiceConfig, decky.Config.MutateInterval, decky.EffectiveMutateInterval, decky.Config.LastMutated,
        decky.Placement?.State ?? (decky.Status is null ? "absent" : DeckiesApi.Wire(decky.Status.State)),
        decky.Status?.Services.Select(ServiceView.From).ToList()
            ?? decky.Config.Services.Select(s => new ServiceView(s, decky.Placement?.State ?? "absent", decky.Placement?.Error, [])).ToList(),
        decky.Placement?.HostName, decky.Placement?.HostId);
}
