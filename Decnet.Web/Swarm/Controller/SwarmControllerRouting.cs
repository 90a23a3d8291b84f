using Microsoft.AspNetCore.Routing.Matching;

namespace Decnet.Web.Swarm.Controller;

/// <summary>
/// Keeps the two faces apart: controller routes match only on controller connections, and nothing
/// else matches there. A dashboard page and a controller route may share a path without ambiguity.
/// </summary>
internal sealed class SwarmControllerMatcherPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    public override int Order => 0;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) =>
        endpoints.Any(e => e.Metadata.GetMetadata<SwarmEndpointMetadata>() is not null);

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var arrivedOn = SwarmConnection.Of(httpContext);
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i)
                && candidates[i].Endpoint.Metadata.GetMetadata<SwarmEndpointMetadata>()?.Port != arrivedOn)
            {
                candidates.SetValidity(i, false);
            }
        }
        return Task.CompletedTask;
    }
}

/// <summary>
/// On a swarm connection only that endpoint's paths exist (the controller's, or the enrollment
/// downloads): the dashboard, its API, static assets and the Blazor hub answer 404 there, before
/// routing or authentication run.
/// </summary>
internal sealed class SwarmControllerGuard : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            var port = SwarmConnection.Of(context);
            if ((port == SwarmPort.Controller && !IsControllerPath(context.Request.Path))
                || (port == SwarmPort.Enrollment && !IsEnrollmentPath(context.Request.Path)))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            return nextMiddleware(context);
        });
        next(app);
    };

    internal static bool IsEnrollmentPath(PathString path) =>
        path.StartsWithSegments(Decnet.Core.Swarm.Enrollment.EnrollmentService.DownloadRoute, StringComparison.Ordinal);

    internal static bool IsControllerPath(PathString path) =>
        path.Equals("/health", StringComparison.Ordinal) || path.StartsWithSegments("/swarm", StringComparison.Ordinal);
}
