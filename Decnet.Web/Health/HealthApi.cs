using Decnet.Web.Authentication;
using Decnet.Web.Health;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Decnet.Web.Health;

public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/health", Health)
            .RequireAuthorization(Policies.Viewer)
            .WithTags("Health")
            .WithName("Health")
            .WithSummary("Component health: 503 when a critical component (database, ingestion, docker when used) fails.");

        // Liveness for process supervisors: says nothing about dependencies, needs no login.
        app.MapGet("/alive", () => TypedResults.Text("alive"))
            .AllowAnonymous()
            .ExcludeFromDescription();
        return app;
    }

    public static Results<Ok<HealthReport>, JsonHttpResult<HealthReport>> Health(HealthMonitor monitor)
    {
        var report = monitor.Snapshot();
        return report.Status == "unhealthy"
            ? TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(report);
    }
}
