using System.Text.Json;
using System.Text.Json.Serialization;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Protocol;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Swarm.Controller;

/// <summary>
/// The routes of the swarm controller endpoint (UPSTREAM §7.3). No cookie or JWT here: the TLS
/// handshake already demanded a certificate from the swarm CA, and each route pins the exact peer
/// (a worker by its stored fingerprint, the CLI by the master's own identity).
/// </summary>
public static class SwarmControllerApi
{
    public const string FingerprintMismatch = SwarmHeartbeats.FingerprintMismatch;

    public static IEndpointRouteBuilder MapSwarmControllerApi(this IEndpointRouteBuilder app)
    {
        var controller = app.MapGroup("")
            .WithMetadata(new SwarmEndpointMetadata(SwarmPort.Controller))
            // Authenticated by mutual TLS on its own endpoint, never by dashboard credentials.
            .AllowAnonymous()
            .ExcludeFromDescription();

        controller.MapGet("/health", () => TypedResults.Ok(new ControllerHealth("ok", "swarm-controller")));
        controller.MapPost("/swarm/heartbeat", HeartbeatAsync);

        var master = controller.MapGroup("/swarm").AddEndpointFilter(RequireMasterIdentityAsync);
        master.MapPost("/enroll", EnrollAsync);
        master.MapGet("/hosts", ListHostsAsync);
        master.MapGet("/hosts/{uuid:guid}", GetHostAsync);
        master.MapGet("/health", SwarmHealthAsync);
        master.MapSwarmControllerOperations();
        return app;
    }

    /// <summary>
    /// A worker checks in. Transport only here (body size, JSON); the rules are <see cref="SwarmHeartbeats"/>:
    /// 204 when accepted with nothing to do, 200 with the strays to tear down, 403/404 when refused.
    /// </summary>
    public static async Task<Results<NoContent, Ok<HeartbeatAnswer>, ProblemHttpResult>> HeartbeatAsync(
        HttpContext http, SwarmHeartbeats heartbeats, IOptions<SwarmOptions> options, CancellationToken cancellationToken)
    {
        var fingerprint = PeerCertificate.Fingerprint(http);
        if (fingerprint is null)
        {
            return Problem(StatusCodes.Status403Forbidden, "peer cert unavailable");
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.Value.MaxHeartbeatBytes;
        }
        HeartbeatRequest? heartbeat;
        try
        {
            heartbeat = await JsonSerializer.DeserializeAsync<HeartbeatRequest>(http.Request.Body, DeckyConfigJson.Options, cancellationToken);
        }
        catch (JsonException ex)
        {
            return Problem(StatusCodes.Status400BadRequest, "the heartbeat is not valid JSON: " + ex.Message);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"a heartbeat is limited to {options.Value.MaxHeartbeatBytes} bytes");
        }
        var peer = http.Connection.RemoteIpAddress is { } remote ? (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString() : null;
        var verdict = await heartbeats.AcceptAsync(fingerprint, heartbeat, peer, cancellationToken);
        return verdict.Kind switch
        {
            HeartbeatVerdictKind.Accepted when verdict.Teardown.Count == 0 => TypedResults.NoContent(),
            HeartbeatVerdictKind.Accepted => TypedResults.Ok(new HeartbeatAnswer(verdict.Teardown)),
            HeartbeatVerdictKind.Invalid => Problem(StatusCodes.Status400BadRequest, verdict.Detail),
            HeartbeatVerdictKind.UnknownHost => Problem(StatusCodes.Status404NotFound, verdict.Detail),
            _ => Problem(StatusCodes.Status403Forbidden, verdict.Detail),
        };
    }

    /// <summary>CLI enrollment: issues the worker's certificates and records the host (201), 409 when the name is taken.</summary>
    public static async Task<Results<Created<SwarmEnrolledBundle>, ProblemHttpResult>> EnrollAsync(
        SwarmEnrollRequest request, EnrollmentService enrollment, CancellationToken cancellationToken)
    {
        try
        {
            var enrolled = await enrollment.EnrollAsync(
                new WorkerEnrollmentRequest(request.Name ?? "", request.Address ?? "", request.AgentPort ?? AgentHostSettings.DefaultAgentPort, request.Sans, request.Notes, request.IssueUpdaterBundle),
                cancellationToken);
            return TypedResults.Created($"/swarm/hosts/{enrolled.Host.Id}", SwarmEnrolledBundle.From(enrolled));
        }
        catch (SwarmHostNameTakenException ex)
        {
            return Problem(StatusCodes.Status409Conflict, ex.Message);
        }
        catch (EnrollmentRejectedException ex)
        {
            return Problem(StatusCodes.Status400BadRequest, ex.Message);
        }
    }

    public static async Task<Ok<IReadOnlyList<ControllerHostView>>> ListHostsAsync(
        SwarmOverview overview, CancellationToken cancellationToken, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "host_status")] string? hostStatus = null)
    {
        var hosts = await overview.HostRecordsAsync(hostStatus, withShards: true, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ControllerHostView>>([.. hosts.Select(ControllerHostView.From)]);
    }

    public static async Task<Results<Ok<ControllerHostView>, ProblemHttpResult>> GetHostAsync(Guid uuid, SwarmOverview overview, CancellationToken cancellationToken) =>
        await overview.HostAsync(uuid, cancellationToken, withShards: true) is { } host
            ? TypedResults.Ok(ControllerHostView.From(host))
            : Problem(StatusCodes.Status404NotFound, "unknown host");

    public static async Task<Ok<SwarmHealth>> SwarmHealthAsync(SwarmOverview overview, CancellationToken cancellationToken)
    {
        var hosts = await overview.HostRecordsAsync(null, withShards: false, cancellationToken);
        int Count(string status) => hosts.Count(h => h.Status == status);
        return TypedResults.Ok(new SwarmHealth("ok", hosts.Count, Count(SwarmHostStatus.Active), Count(SwarmHostStatus.Unreachable), Count(SwarmHostStatus.Enrolled)));
    }

    /// <summary>Enrollment and host listings answer the master CLI only: the peer must present the master identity.</summary>
    private static async ValueTask<object?> RequireMasterIdentityAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var credentials = http.RequestServices.GetRequiredService<SwarmMasterCredentials>();
        var fingerprint = PeerCertificate.Fingerprint(http);
        if (fingerprint is null || !CertificateFingerprint.AreEqual(fingerprint, credentials.MasterFingerprint))
        {
            return Problem(StatusCodes.Status403Forbidden, "this route requires the master's identity");
        }
        return await next(context);
    }

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}

public sealed record ControllerHealth(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("role")] string Role);

public sealed record SwarmHealth(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("hosts")] int Hosts,
    [property: JsonPropertyName("active")] int Active,
    [property: JsonPropertyName("unreachable")] int Unreachable,
    [property: JsonPropertyName("enrolled")] int Enrolled);

/// <summary>Body of <c>POST /swarm/enroll</c> (the CLI path).</summary>
public sealed record SwarmEnrollRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("address")] string? Address,
    [property: JsonPropertyName("agent_port")] int? AgentPort,
    [property: JsonPropertyName("sans")] IReadOnlyList<string>? Sans,
    [property: JsonPropertyName("notes")] string? Notes,
    [property: JsonPropertyName("issue_updater_bundle")] bool IssueUpdaterBundle = false);

public sealed record SwarmUpdaterBundle(
    [property: JsonPropertyName("fingerprint")] string Fingerprint,
    [property: JsonPropertyName("updater_cert_pem")] string CertificatePem,
    [property: JsonPropertyName("updater_key_pem")] string KeyPem);

/// <summary>What the CLI writes to disk for the operator to copy to the worker.</summary>
public sealed record SwarmEnrolledBundle(
    [property: JsonPropertyName("host_uuid")] Guid HostUuid,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("address")] string? Address,
    [property: JsonPropertyName("agent_port")] int AgentPort,
    [property: JsonPropertyName("fingerprint")] string Fingerprint,
    [property: JsonPropertyName("ca_cert_pem")] string CaCertificatePem,
    [property: JsonPropertyName("worker_cert_pem")] string WorkerCertificatePem,
    [property: JsonPropertyName("worker_key_pem")] string WorkerKeyPem,
    [property: JsonPropertyName("updater")] SwarmUpdaterBundle? Updater)
{
    public static SwarmEnrolledBundle From(EnrolledWorker enrolled) => new(
        enrolled.Host.Id, enrolled.Host.Name, enrolled.Host.Address, enrolled.Host.AgentPort, enrolled.Worker.Fingerprint,
        enrolled.CaCertificatePem, enrolled.Worker.CertificatePem, enrolled.Worker.PrivateKeyPem,
        enrolled.Updater is { } updater ? new SwarmUpdaterBundle(updater.Fingerprint, updater.CertificatePem, updater.PrivateKeyPem) : null);
}

public sealed record SwarmShardView(
    [property: JsonPropertyName("decky_name")] string DeckyName,
    [property: JsonPropertyName("decky_ip")] string? DeckyIp,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("last_error")] string? LastError,
    [property: JsonPropertyName("last_seen")] DateTime? LastSeen);

public sealed record ControllerHostView(
    [property: JsonPropertyName("uuid")] Guid Uuid,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("address")] string? Address,
    [property: JsonPropertyName("agent_port")] int AgentPort,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("last_heartbeat")] DateTime? LastHeartbeat,
    [property: JsonPropertyName("client_cert_fingerprint")] string ClientCertFingerprint,
    [property: JsonPropertyName("updater_cert_fingerprint")] string? UpdaterCertFingerprint,
    [property: JsonPropertyName("enrolled_at")] DateTime EnrolledAt,
    [property: JsonPropertyName("notes")] string? Notes,
    [property: JsonPropertyName("use_ipvlan")] bool UseIpvlan,
    [property: JsonPropertyName("shards")] IReadOnlyList<SwarmShardView> Shards)
{
    public static ControllerHostView From(SwarmHost host) => new(
        host.Id, host.Name, host.Address, host.AgentPort, host.Status, host.LastHeartbeat, host.ClientCertFingerprint,
        host.UpdaterCertFingerprint, host.EnrolledAt, host.Notes, host.UseIpvlan,
        [.. host.Shards.OrderBy(s => s.DeckyName, StringComparer.Ordinal).Select(s => new SwarmShardView(s.DeckyName, s.DeckyIp, s.State, s.LastError, s.LastSeen))]);
}
