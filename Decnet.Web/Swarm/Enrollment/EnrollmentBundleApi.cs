using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Swarm.Enrollment;

/// <summary>
/// The wizard's API face: admins create a one-shot bundle; the worker fetches <c>{token}.sh</c> and
/// <c>{token}.tgz</c> anonymously (the token is the capability), once each, rate limited per address.
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
            .WithSummary("Enrolls a worker and returns its one-shot bootstrap command (valid 5 minutes).");
        // The only anonymous API routes besides login: the unguessable token is the credential.
        group.MapGet("/{token}.sh", (string token, EnrollmentBundleStore store) => Download(token, BundlePart.Script, store))
            .AllowAnonymous()
            .RequireRateLimiting(DownloadRateLimit)
            .WithName("DownloadEnrollmentScript")
            .WithSummary("The bootstrap script, served once.");
        group.MapGet("/{token}.tgz", (string token, EnrollmentBundleStore store) => Download(token, BundlePart.Archive, store))
            .AllowAnonymous()
            .RequireRateLimiting(DownloadRateLimit)
            .WithName("DownloadEnrollmentBundle")
            .WithSummary("The worker bundle, served once.");
        return app;
    }

    public static async Task<Results<Created<EnrollmentBundleResponse>, ProblemHttpResult>> CreateAsync(
        EnrollmentBundleRequest request, HttpContext http, EnrollmentService enrollment, CancellationToken cancellationToken)
    {
        try
        {
            var publicBase = new Uri($"{http.Request.Scheme}://{http.Request.Host.Value}");
            var ticket = await enrollment.CreateBundleAsync(
                new BundleEnrollmentRequest(request.MasterHost ?? "", request.AgentName ?? "", request.WithUpdater, request.UseIpvlan, request.ServicesIni),
                publicBase, cancellationToken);
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

    private static Results<FileStreamHttpResult, ProblemHttpResult> Download(string token, BundlePart part, EnrollmentBundleStore store)
    {
        return store.TryTake(token, part, out var content) switch
        {
            BundleTakeStatus.Served => TypedResults.Stream(content!,
                part == BundlePart.Script ? "text/x-shellscript; charset=utf-8" : "application/gzip",
                part == BundlePart.Script ? null : "decnet-worker.tgz"),
            BundleTakeStatus.Gone => TypedResults.Problem(detail: "This enrollment link was already used or has expired.", statusCode: StatusCodes.Status410Gone),
            _ => TypedResults.Problem(detail: "No such enrollment link.", statusCode: StatusCodes.Status404NotFound),
        };
    }
}

public sealed record EnrollmentBundleRequest(
    [property: JsonPropertyName("master_host")] string? MasterHost,
    [property: JsonPropertyName("agent_name")] string? AgentName,
    [property: JsonPropertyName("with_updater")] bool WithUpdater = false,
    [property: JsonPropertyName("use_ipvlan")] bool UseIpvlan = false,
    [property: JsonPropertyName("services_ini")] string? ServicesIni = null);

public sealed record EnrollmentBundleResponse(
    [property: JsonPropertyName("host_uuid")] Guid HostUuid,
    [property: JsonPropertyName("agent_name")] string AgentName,
    [property: JsonPropertyName("command")] string Command,
    [property: JsonPropertyName("script_url")] string ScriptUrl,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt)
{
    public static EnrollmentBundleResponse From(EnrollmentTicket ticket) =>
        new(ticket.HostId, ticket.AgentName, ticket.Command, ticket.ScriptUrl.AbsoluteUri, ticket.ExpiresAt);
}
