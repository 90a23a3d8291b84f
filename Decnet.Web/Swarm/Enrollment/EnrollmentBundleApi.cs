using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Web.Authentication;
using Decnet.Web.Swarm.Controller;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Swarm.Enrollment;

/// <summary>
/// The wizard's API face: admins create a bundle on the dashboard; the worker fetches <c>{token}.sh</c>
/// and <c>{token}.tgz</c> from the enrollment endpoint only (HTTPS with the master identity, whose key the
/// command pins), anonymously (the token is the capability), rate limited per address, as often as a
/// failed install needs until the token ends (see <see cref="EnrollmentBundleStore"/>).
/// </summary>
public static class EnrollmentBundleApi
{
    public const string DownloadRateLimit = "enroll-bundle-download";

    public static IServiceCollection AddSwarmEnrollment(this IServiceCollection services)
    {
        services.AddHostedService<BundleSweeper>();
        services.Configure<RateLimiterOptions>(o => o.AddPolicy(DownloadRateLimit, context =>
        {
            var perMinute = context.RequestServices.GetRequiredService<IOptions<SwarmOptions>>().Value.BundleDownloadsPerMinute;
            return RateLimitPartition.GetFixedWindowLimiter(
                "bundle:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"),
                _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
        }));
        return services;
    }

    public static IEndpointRouteBuilder MapEnrollmentBundleApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(EnrollmentService.BundleRoute).WithTags("Swarm");
        group.MapPost("", CreateAsync)
            .RequireAuthorization(Policies.Admin)
            .WithName("CreateEnrollmentBundle")
            .WithSummary("Enrolls a worker and returns its bootstrap command (pinned HTTPS, valid until expires_at or the first heartbeat), the ports workers must reach and any warnings.");
        // On the enrollment endpoint only, never over the dashboard's (possibly plain HTTP) listener. The only
        // anonymous routes besides login: the unguessable token is the credential.
        var downloads = app.MapGroup(EnrollmentService.DownloadRoute)
            .WithMetadata(new SwarmEndpointMetadata(SwarmPort.Enrollment))
            .AllowAnonymous()
            .RequireRateLimiting(DownloadRateLimit)
            .ExcludeFromDescription();
        downloads.MapGet("/{token}.sh", (string token, EnrollmentBundleStore store, CancellationToken ct) => DownloadAsync(token, BundlePart.Script, store, ct))
            .WithName("DownloadEnrollmentScript");
        downloads.MapGet("/{token}.tgz", (string token, EnrollmentBundleStore store, CancellationToken ct) => DownloadAsync(token, BundlePart.Archive, store, ct))
            .WithName("DownloadEnrollmentBundle");
        return app;
    }

    public static async Task<Results<Created<EnrollmentBundleResponse>, ProblemHttpResult>> CreateAsync(
        EnrollmentBundleRequest request, EnrollmentService enrollment, CancellationToken cancellationToken)
    {
        try
        {
            var ticket = await enrollment.CreateBundleAsync(
                new BundleEnrollmentRequest(request.MasterHost ?? "", request.AgentName ?? "", request.WithUpdater, request.UseIpvlan, request.ServicesIni, request.AgentAddress),
                cancellationToken);
            return TypedResults.Created($"/api/v1/swarm/hosts/{ticket.HostId}", EnrollmentBundleResponse.From(ticket));
        }
        catch (SwarmHostNameTakenException ex)
        {
            return TypedResults.Problem(detail: ex.Message, statusCode: StatusCodes.Status409Conflict);
        }
        catch (EnrollmentRejectedException ex)
        {
            return TypedResults.Problem(detail: ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }
    }

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> DownloadAsync(string token, BundlePart part, EnrollmentBundleStore store, CancellationToken cancellationToken)
    {
        var (status, content) = await store.TakeAsync(token, part, cancellationToken);
        return status switch
        {
            BundleTakeStatus.Served => TypedResults.Stream(content!,
                part == BundlePart.Script ? "text/x-shellscript; charset=utf-8" : "application/gzip",
                part == BundlePart.Script ? null : "decnet-worker.tgz"),
            BundleTakeStatus.Gone => TypedResults.Problem(detail: "This enrollment link has expired or was downloaded too often; generate a new command.", statusCode: StatusCodes.Status410Gone),
            _ => TypedResults.Problem(detail: "No such enrollment link.", statusCode: StatusCodes.Status404NotFound),
        };
    }
}

public sealed record EnrollmentBundleRequest(
    [property: JsonPropertyName("master_host")] string? MasterHost,
    [property: JsonPropertyName("agent_name")] string? AgentName,
    [property: JsonPropertyName("with_updater")] bool WithUpdater = false,
    [property: JsonPropertyName("use_ipvlan")] bool UseIpvlan = false,
    [property: JsonPropertyName("services_ini")] string? ServicesIni = null,
    [property: JsonPropertyName("agent_address")] string? AgentAddress = null);

public sealed record WorkerReachResponse(
    [property: JsonPropertyName("purpose")] string Purpose,
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("port")] int Port);

public sealed record EnrollmentBundleResponse(
    [property: JsonPropertyName("host_uuid")] Guid HostUuid,
    [property: JsonPropertyName("agent_name")] string AgentName,
    [property: JsonPropertyName("command")] string Command,
    [property: JsonPropertyName("script_url")] string ScriptUrl,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt,
    [property: JsonPropertyName("archive_url")] string ArchiveUrl,
    [property: JsonPropertyName("public_key_pin")] string PublicKeyPin,
    [property: JsonPropertyName("reach")] IReadOnlyList<WorkerReachResponse> Reach,
    [property: JsonPropertyName("warnings")] IReadOnlyList<string> Warnings)
{
    public static EnrollmentBundleResponse From(EnrollmentTicket ticket) =>
        new(ticket.HostId, ticket.AgentName, ticket.Command, ticket.ScriptUrl.AbsoluteUri, ticket.ExpiresAt, ticket.ArchiveUrl.AbsoluteUri,
            ticket.PublicKeyPin, [.. ticket.Reach.Select(r => new WorkerReachResponse(r.Purpose, r.Host, r.Port))], ticket.Warnings);
}
