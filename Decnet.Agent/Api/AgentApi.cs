using System.Text.Json.Serialization;
using Decnet.Agent.SelfDestruct;
using Decnet.Core.Swarm.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Decnet.Agent.Api;

/// <summary>
/// The worker's control API, spoken only with the master (mutual TLS, pinned master identity; see
/// <see cref="Serve.MasterPin"/>). Bodies use the agent protocol records (snake_case JSON); every error
/// is a ProblemDetails with a detail.
/// </summary>
public static class AgentApi
{
    public static IEndpointRouteBuilder MapAgentApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health", () => TypedResults.Ok(new AgentHealth("ok")));
        routes.MapGet("/status", async (WorkerDeckies deckies, CancellationToken ct) => TypedResults.Ok(await deckies.StatusAsync(ct)));
        routes.MapPost("/deploy", DeployAsync);
        routes.MapPost("/teardown", TeardownAsync);
        routes.MapPost("/mutate", MutateAsync);
        routes.MapPost("/self-destruct", SelfDestruct);
        return routes;
    }

    private static async Task<Results<Ok<AgentActionResult>, ProblemHttpResult>> DeployAsync(AgentDeployRequest request, WorkerDeckies deckies, CancellationToken ct)
    {
        if (WorkerDeckies.Validate(request.Config) is { } error)
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, "Invalid deployment", error);
        }
        if (request.DryRun)
        {
            return TypedResults.Ok(new AgentActionResult("dry_run", $"{request.Config.Deckies.Count} decky(ies) would be deployed through the {deckies.RuntimeKind} runtime.", null));
        }
        var status = await deckies.DeployAsync(request.Config, ct);
        return TypedResults.Ok(new AgentActionResult("deployed", $"{request.Config.Deckies.Count} decky(ies) deployed.", status));
    }

    private static async Task<Results<Ok<AgentActionResult>, ProblemHttpResult>> TeardownAsync(AgentTeardownRequest request, WorkerDeckies deckies, CancellationToken ct)
    {
        if (!await deckies.TeardownAsync(request.DeckyId, ct))
        {
            return Problem(StatusCodes.Status404NotFound, "Unknown decky", $"No decky named '{request.DeckyId}' runs on this worker.");
        }
        var detail = request.DeckyId is null ? "Every decky was torn down." : $"{request.DeckyId} was torn down.";
        return TypedResults.Ok(new AgentActionResult("torn_down", detail, await deckies.StatusAsync(ct)));
    }

    private static async Task<Results<Ok<AgentActionResult>, ProblemHttpResult>> MutateAsync(AgentMutateRequest request, WorkerDeckies deckies, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.DeckyId))
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, "Invalid mutation", "decky_id is required.");
        }
        if (request.Services is { } services && WorkerDeckies.ValidateServices(services) is { } error)
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, "Invalid mutation", error);
        }
        if (await deckies.MutateAsync(request.DeckyId, request.Services, ct) is not { } mutated)
        {
            return Problem(StatusCodes.Status404NotFound, "Unknown decky", $"No decky named '{request.DeckyId}' runs on this worker.");
        }
        return TypedResults.Ok(new AgentActionResult("mutated", $"{mutated.Config.Name} now exposes {string.Join(", ", mutated.Config.Services)}.", mutated.Status));
    }

    /// <summary>
    /// The reaper is launched before answering (it waits for this process to end), so the worker is
    /// wiped even when the agent is killed right after the 202; the teardown and unit stops follow.
    /// </summary>
    private static Results<Accepted<AgentActionResult>, ProblemHttpResult> SelfDestruct(HttpContext http, SelfDestructor destructor)
    {
        var launch = destructor.LaunchReaper();
        if (launch.Error is { } error)
        {
            return Problem(StatusCodes.Status500InternalServerError, "Self-destruct failed", error);
        }
        http.Response.OnCompleted(() =>
        {
            destructor.Start();
            return Task.CompletedTask;
        });
        return TypedResults.Accepted((string?)null, new AgentActionResult("self_destruct_scheduled",
            "This worker tears down its deckies, stops its units and removes its install; logs are kept.", null));
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}

/// <summary><c>GET /health</c>.</summary>
public sealed record AgentHealth([property: JsonPropertyName("status")] string Status);
