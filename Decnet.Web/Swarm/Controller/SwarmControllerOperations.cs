using System.Text.Json.Serialization;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Decnet.Web.Swarm.Controller;

/// <summary>
/// The master CLI's operations on the controller (UPSTREAM §7.3): deploy, teardown, deckies, check and
/// decommission. They run the same services as the dashboard and <c>/api/v1/swarm</c>; the route group
/// they are mapped on already requires the master's own identity.
/// </summary>
public static class SwarmControllerOperations
{
    public const string Actor = "swarm-cli";

    public static RouteGroupBuilder MapSwarmControllerOperations(this RouteGroupBuilder master)
    {
        master.MapPost("/deploy", DeployAsync);
        master.MapPost("/teardown", TeardownAsync);
        // The same listing as the dashboard API's, on the controller's identity rule.
        master.MapGet("/deckies", SwarmApi.DeckiesAsync);
        master.MapPost("/check", CheckAsync);
        master.MapDelete("/hosts/{uuid:guid}", DecommissionAsync);
        return master;
    }

    /// <summary>Shards a swarm-mode deployment over the live workers (a decky may name its host) and dispatches it.</summary>
    public static async Task<Results<Ok<SwarmDeployResponse>, ProblemHttpResult>> DeployAsync(
        SwarmDeployRequest request, SwarmDispatcher dispatcher, SwarmOverview overview, CancellationToken cancellationToken)
    {
        if (request.Config is not { } config)
        {
            return Problem(StatusCodes.Status400BadRequest, "config is required");
        }
        if (config.Mode != DeploymentMode.Swarm)
        {
            return Problem(StatusCodes.Status400BadRequest, "config.mode must be 'swarm' on the swarm controller");
        }
        if (request.DryRun)
        {
            return Problem(StatusCodes.Status400BadRequest, "dry_run is not available here: preview the INI in the dashboard's deploy dialog");
        }
        var hosts = (await overview.HostRecordsAsync(null, withShards: false, cancellationToken)).ToDictionary(h => h.Id);
        if (config.Deckies.FirstOrDefault(d => d.HostUuid is { } id && !hosts.ContainsKey(id)) is { } orphan)
        {
            return Problem(StatusCodes.Status404NotFound, $"decky '{orphan.Name}' names unknown host {orphan.HostUuid}");
        }
        if (!hosts.Values.Any(ShardPlanner.IsLive))
        {
            return Problem(StatusCodes.Status400BadRequest, "no live swarm host to deploy to");
        }
        var result = await dispatcher.DispatchAsync(config, cancellationToken);
        return TypedResults.Ok(new SwarmDeployResponse([.. result.Hosts.Select(h => new SwarmDeployHostResult(h.HostId, h.HostName, h.Ok, h.Detail))]));
    }

    /// <summary>Tears down one decky, one host, or every host that runs shards; 202 at once, like the dashboard.</summary>
    public static async Task<Results<Accepted<SwarmTeardownResponse>, ProblemHttpResult>> TeardownAsync(
        ControllerTeardownRequest request, ShardTeardownQueue queue, SwarmOverview overview, CancellationToken cancellationToken)
    {
        IEnumerable<Guid> targets = request.HostUuid is { } one
            ? [one]
            : (await overview.ShardsAsync(null, cancellationToken)).Select(s => s.HostId).Distinct().ToList();
        var accepted = new List<string>();
        foreach (var hostId in targets)
        {
            var outcome = await queue.EnqueueAsync(Actor, hostId, request.DeckyId, cancellationToken);
            switch (outcome.Status)
            {
                case TeardownRequestStatus.HostNotFound:
                case TeardownRequestStatus.DeckyNotFound when request.HostUuid is not null:
                    return Problem(StatusCodes.Status404NotFound, outcome.Message);
                case TeardownRequestStatus.Accepted:
                    accepted.AddRange(outcome.Deckies);
                    break;
            }
        }
        return TypedResults.Accepted("/swarm/deckies", new SwarmTeardownResponse("tearing_down", accepted));
    }

    /// <summary>Probes every enrolled agent's <c>/health</c>: reachable hosts become active, the others unreachable.</summary>
    public static async Task<Ok<SwarmCheckResponse>> CheckAsync(
        SwarmOverview overview, SwarmStore store, AgentClientFactory clients, CancellationToken cancellationToken)
    {
        var hosts = (await overview.HostRecordsAsync(null, withShards: false, cancellationToken)).Where(h => !string.IsNullOrWhiteSpace(h.Address)).ToList();
        var results = await Task.WhenAll(hosts.Select(async host =>
        {
            try
            {
                await clients.For(host).HealthAsync(cancellationToken);
                await store.MarkActiveAsync(host.Id, cancellationToken);
                return new SwarmCheckResult(host.Id, host.Name, host.Address, true, "ok");
            }
            catch (AgentCallException ex)
            {
                await store.MarkUnreachableAsync(host.Id, cancellationToken);
                return new SwarmCheckResult(host.Id, host.Name, host.Address, false, ex.Message);
            }
        }));
        return TypedResults.Ok(new SwarmCheckResponse(results));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DecommissionAsync(Guid uuid, SwarmDecommissioner decommissioner, CancellationToken cancellationToken)
    {
        var result = await decommissioner.DecommissionAsync(Actor, uuid, cancellationToken);
        return result.Found ? TypedResults.NoContent() : Problem(StatusCodes.Status404NotFound, result.Message);
    }

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}

public sealed record SwarmDeployRequest(
    [property: JsonPropertyName("config")] DecnetConfig? Config,
    [property: JsonPropertyName("dry_run")] bool DryRun = false);

public sealed record SwarmDeployResponse([property: JsonPropertyName("results")] IReadOnlyList<SwarmDeployHostResult> Results);

public sealed record SwarmDeployHostResult(
    [property: JsonPropertyName("host_uuid")] Guid HostUuid,
    [property: JsonPropertyName("host_name")] string HostName,
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("detail")] string Detail);

public sealed record ControllerTeardownRequest(
    [property: JsonPropertyName("host_uuid")] Guid? HostUuid,
    [property: JsonPropertyName("decky_id")] string? DeckyId);

public sealed record SwarmTeardownResponse(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("deckies")] IReadOnlyList<string> Deckies);

public sealed record SwarmCheckResponse([property: JsonPropertyName("results")] IReadOnlyList<SwarmCheckResult> Results);

public sealed record SwarmCheckResult(
    [property: JsonPropertyName("host_uuid")] Guid HostUuid,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("address")] string? Address,
    [property: JsonPropertyName("reachable")] bool Reachable,
    [property: JsonPropertyName("detail")] string Detail);
