using System.Text.Json.Serialization;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Core.Swarm.Security;
using Decnet.Web.Api;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Decnet.Web.Swarm;

/// <summary>
/// The dashboard's REST face of the swarm (JWT or cookie, not the mTLS controller): hosts and shards for
/// viewers; asynchronous teardown and decommission for admins.
/// </summary>
public static class SwarmApi
{
    public static IEndpointRouteBuilder MapSwarmApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/swarm").WithTags("Swarm");
        group.MapGet("/hosts", HostsAsync).RequireAuthorization(Policies.Viewer)
            .WithName("ListSwarmHosts").WithSummary("Enrolled workers with status, last heartbeat, fingerprint, decky count and the deckies each still runs that the master placed elsewhere (stray_deckies).");
        group.MapGet("/deckies", DeckiesAsync).RequireAuthorization(Policies.Viewer)
            .WithName("ListSwarmDeckies").WithSummary("Shards joined with their hosts; the IP comes from the stored snapshot, \"—\" when unknown.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/security-events", SecurityEvents).RequireAuthorization(Policies.Viewer)
            .WithName("ListSwarmSecurityEvents").WithSummary("Refused mutual-TLS attempts on the controller and log listener since the master started (no certificate, self-signed, foreign CA, not allowed, revoked, pin mismatch, unknown host), newest first; repeats counted.");
        group.MapPost("/hosts/{uuid:guid}/teardown", TeardownAsync).RequireAuthorization(Policies.Admin)
            .WithName("TeardownSwarmHost").WithSummary("Tear down one decky (decky_id) or every decky (null) on a worker. 202 at once; the shards are tearing_down until the worker answers.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/hosts/{uuid:guid}", DecommissionAsync).RequireAuthorization(Policies.Admin)
            .WithName("DecommissionSwarmHost").WithSummary("Ask the worker to self-destruct (best effort), forget it and revoke its certificates.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Ok<IReadOnlyList<SwarmHostResponse>>> HostsAsync(SwarmOverview overview, CancellationToken cancellationToken) =>
        TypedResults.Ok((IReadOnlyList<SwarmHostResponse>)(await overview.HostsAsync(cancellationToken)).Select(SwarmHostResponse.From).ToList());

    public static Ok<IReadOnlyList<SwarmSecurityEventResponse>> SecurityEvents(SwarmSecurityEvents events) =>
        TypedResults.Ok((IReadOnlyList<SwarmSecurityEventResponse>)events.Recent().Select(SwarmSecurityEventResponse.From).ToList());

    public static async Task<Results<Ok<IReadOnlyList<SwarmDeckyResponse>>, ProblemHttpResult>> DeckiesAsync(
        SwarmOverview overview, CancellationToken cancellationToken,
        [FromQuery(Name = "host_uuid")] Guid? hostUuid = null, string? state = null)
    {
        if (state is not null && !DeckyShardState.All.Contains(state))
        {
            return ApiProblems.Invalid($"state must be one of {string.Join(", ", DeckyShardState.All)}.");
        }
        var deckies = await overview.DeckiesAsync(hostUuid, state, cancellationToken);
        return TypedResults.Ok((IReadOnlyList<SwarmDeckyResponse>)deckies.Select(SwarmDeckyResponse.From).ToList());
    }

    public static async Task<Results<Accepted<TeardownAcceptedResponse>, ProblemHttpResult>> TeardownAsync(
        Guid uuid, [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] SwarmTeardownRequest? request,
        HttpContext http, ShardTeardownQueue teardowns, CancellationToken cancellationToken)
    {
        var deckyId = request?.DeckyId;
        if (deckyId is not null && !DeploymentIniLoader.IsDeckyName(deckyId))
        {
            return ApiProblems.Invalid("Decky names have 1-128 letters, digits, '-', '_' or '.'.");
        }
        var result = await teardowns.EnqueueAsync(http.User.GetUsername(), uuid, deckyId, cancellationToken);
        return result.Status switch
        {
            TeardownRequestStatus.Accepted => TypedResults.Accepted($"/api/v1/swarm/deckies?host_uuid={uuid}",
                new TeardownAcceptedResponse(result.Message, uuid, deckyId, result.Deckies)),
            _ => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status404NotFound, title: "Not found"),
        };
    }

    public static async Task<Results<Ok<DecommissionResponse>, ProblemHttpResult>> DecommissionAsync(
        Guid uuid, HttpContext http, SwarmDecommissioner decommissioner, CancellationToken cancellationToken)
    {
        var result = await decommissioner.DecommissionAsync(http.User.GetUsername(), uuid, cancellationToken);
        return result.Found
            ? TypedResults.Ok(new DecommissionResponse(result.Message, result.SelfDestructScheduled))
            : TypedResults.Problem(result.Message, statusCode: StatusCodes.Status404NotFound, title: "Not found");
    }
}

public sealed record SwarmTeardownRequest(string? DeckyId);

public sealed record SwarmSecurityEventResponse(
    [property: JsonPropertyName("endpoint")] string Endpoint,
    [property: JsonPropertyName("remote")] string Remote,
    [property: JsonPropertyName("refusal")] SwarmRefusal Refusal,
    [property: JsonPropertyName("subject")] string? Subject,
    [property: JsonPropertyName("fingerprint")] string? Fingerprint,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("first_seen")] DateTimeOffset FirstSeen,
    [property: JsonPropertyName("last_seen")] DateTimeOffset LastSeen,
    [property: JsonPropertyName("count")] long Count)
{
    public static SwarmSecurityEventResponse From(SwarmSecurityEvent e) =>
        new(e.Endpoint, e.Remote, e.Refusal, e.Subject, e.Fingerprint, e.Detail, e.FirstSeen, e.LastSeen, e.Count);
}

public sealed record TeardownAcceptedResponse(string Message, Guid HostUuid, string? DeckyId, IReadOnlyList<string> TearingDown);

public sealed record DecommissionResponse(string Message, bool SelfDestructScheduled);

public sealed record SwarmHostResponse(
    Guid Uuid, string Name, string? Address, int AgentPort, string Status, DateTime? LastHeartbeat,
    string ClientCertFingerprint, DateTime EnrolledAt, bool UseIpvlan, int DeckyCount, IReadOnlyList<string> StrayDeckies, DateTime? StraysSince)
{
    public static SwarmHostResponse From(SwarmHostView h) =>
        new(h.Id, h.Name, h.Address, h.AgentPort, h.Status, h.LastHeartbeat, h.ClientCertFingerprint, h.EnrolledAt, h.UseIpvlan, h.DeckyCount,
            h.StrayDeckies, h.StraysSince);
}

/// <remarks>The decky's own hostname is <c>hostname</c>; the worker's name is <c>host_name</c>.</remarks>
public sealed record SwarmDeckyResponse(
    string Name, Guid HostUuid, string HostName, string? HostAddress, string HostStatus, string Ip, string State, string? LastError,
    DateTime? LastSeen, IReadOnlyList<string> Services,
    [property: JsonPropertyName("hostname")] string? DeckyHostname, string? Distro, string? Archetype,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? ServiceConfig, int? MutateInterval, DateTime? LastMutated)
{
    public static SwarmDeckyResponse From(SwarmDeckyView d) => new(
        d.Name, d.HostId, d.HostName, d.HostAddress, d.HostStatus, d.Ip, d.State, d.LastError, d.LastSeen, d.Services,
        d.Config?.Hostname, d.Config?.Distro, d.Config?.Archetype, d.Config?.ServiceConfig, d.Config?.MutateInterval, d.Config?.LastMutated);
}
