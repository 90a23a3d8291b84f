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
    public const string FingerprintMismatch = "cert fingerprint mismatch";

    public static IEndpointRouteBuilder MapSwarmControllerApi(this IEndpointRouteBuilder app)
    {
        var controller = app.MapGroup("")
            .WithMetadata(new SwarmControllerEndpointMetadata())
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
    /// A worker checks in: the certificate it connected with must be the one stored for the host it
    /// claims to be, and never a tombstoned one. Accepted heartbeats refresh the host and its shards.
    /// </summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> HeartbeatAsync(
        HttpContext http, SwarmRegistry registry, IOptions<SwarmControlOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger("Decnet.Swarm.Heartbeat");
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
        if (heartbeat?.Status is null || heartbeat.HostUuid == Guid.Empty)
        {
            return Problem(StatusCodes.Status400BadRequest, "host_uuid and status are required");
        }

        if (await registry.IsRevokedAsync(fingerprint, cancellationToken))
        {
            logger.LogWarning("Refused a heartbeat for {HostId}: certificate {Fingerprint} is revoked", heartbeat.HostUuid, fingerprint[..16]);
            return Problem(StatusCodes.Status403Forbidden, "certificate revoked");
        }
        var host = await registry.GetHostAsync(heartbeat.HostUuid, cancellationToken);
        if (host is null)
        {
            return Problem(StatusCodes.Status404NotFound, "unknown host");
        }
        if (host.Status == SwarmHostStatus.Decommissioned)
        {
            return Problem(StatusCodes.Status403Forbidden, "host decommissioned");
        }
        if (!CertificateFingerprint.AreEqual(fingerprint, host.ClientCertFingerprint))
        {
            logger.LogWarning("Refused a heartbeat claiming to be {Name} ({HostId}): certificate {Fingerprint} is not its own", host.Name, host.Id, fingerprint[..16]);
            return Problem(StatusCodes.Status403Forbidden, FingerprintMismatch);
        }
        var peer = http.Connection.RemoteIpAddress is { } remote ? (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString() : null;
        await registry.RecordHeartbeatAsync(host.Id, heartbeat.Status, peer, cancellationToken);
        return TypedResults.NoContent();
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

    public static async Task<Ok<IReadOnlyList<SwarmHostView>>> ListHostsAsync(
        SwarmRegistry registry, CancellationToken cancellationToken, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "host_status")] string? hostStatus = null)
    {
        var hosts = await registry.ListHostsAsync(hostStatus, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<SwarmHostView>>([.. hosts.Select(SwarmHostView.From)]);
    }

    public static async Task<Results<Ok<SwarmHostView>, ProblemHttpResult>> GetHostAsync(Guid uuid, SwarmRegistry registry, CancellationToken cancellationToken) =>
        await registry.GetHostAsync(uuid, cancellationToken) is { } host
            ? TypedResults.Ok(SwarmHostView.From(host))
            : Problem(StatusCodes.Status404NotFound, "unknown host");

    public static async Task<Ok<SwarmHealth>> SwarmHealthAsync(SwarmRegistry registry, CancellationToken cancellationToken)
    {
        var hosts = await registry.ListHostsAsync(null, cancellationToken);
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

public sealed record SwarmHostView(
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
    public static SwarmHostView From(SwarmHost host) => new(
        host.Id, host.Name, host.Address, host.AgentPort, host.Status, host.LastHeartbeat, host.ClientCertFingerprint,
        host.UpdaterCertFingerprint, host.EnrolledAt, host.Notes, host.UseIpvlan,
        [.. host.Shards.OrderBy(s => s.DeckyName, StringComparer.Ordinal).Select(s => new SwarmShardView(s.DeckyName, s.DeckyIp, s.State, s.LastError, s.LastSeen))]);
}
