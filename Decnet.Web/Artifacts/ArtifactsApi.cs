using Decnet.Core.Artifacts;
using Decnet.Web.Api;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Decnet.Web.Artifacts;

public static class ArtifactsApi
{
    public static IEndpointRouteBuilder MapArtifactsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/artifacts/{decky}/{service}/{storedAs}", Download)
            .RequireAuthorization(Policies.Admin)
            .WithTags("Artifacts").WithName("DownloadArtifact")
            .WithSummary("Download a captured file (admin only). The name must be exactly as stored.")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        // The dashboard's artifact drawer links here: the same checks on the cookie session (/api paths take bearer tokens only).
        app.MapGet("/downloads/artifacts/{decky}/{service}/{storedAs}", Download).RequireAuthorization(Policies.Admin).ExcludeFromDescription();
        return app;
    }

    public static Results<PhysicalFileHttpResult, ProblemHttpResult> Download(string decky, string service, string storedAs,
        HttpContext http, ArtifactVault vault, ILoggerFactory loggers)
    {
        var found = vault.Find(decky, service, storedAs);
        switch (found.Status)
        {
            case ArtifactLookupStatus.Invalid:
                return ApiProblems.Invalid(found.Error!);
            case ArtifactLookupStatus.NotFound:
                return TypedResults.Problem(found.Error, statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }
        loggers.CreateLogger("Decnet.Artifacts").LogInformation("Artifact {Decky}/{Service}/{StoredAs} downloaded by {User}", decky, service, storedAs, http.User.GetUsername());
        // Always a download, never rendered: attacker files must not run in the operator's browser.
        return TypedResults.PhysicalFile(found.Path!, "application/octet-stream", ArtifactVault.OriginalName(storedAs));
    }
}
