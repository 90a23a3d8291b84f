using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Updates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Decnet.Agent.Updater;

/// <summary>The updater's routes (behind the master pin): health, releases, update, update-self, rollback.</summary>
public static class UpdaterApi
{
    public static IEndpointRouteBuilder MapUpdaterApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health", (ReleaseTree tree) => TypedResults.Ok(new UpdaterHealth("ok", UpdaterProtocol.RoleName, tree.Slots())));
        routes.MapGet("/releases", (ReleaseTree tree) => TypedResults.Ok(new UpdaterReleases(tree.Slots())));
        routes.MapPost("/update", UpdateAsync).DisableAntiforgery();
        routes.MapPost("/update-self", UpdateSelfAsync).DisableAntiforgery();
        routes.MapPost("/rollback", RollbackAsync);
        return routes;
    }

    public static async Task<Results<Ok<UpdaterResult>, ProblemHttpResult>> UpdateAsync(HttpRequest request, ReleaseInstaller installer, ReleaseTree tree, CancellationToken cancellationToken)
    {
        var (form, problem) = await ReadReleaseAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        await using var tarball = form!.Value.Tarball.OpenReadStream();
        return Answer(await installer.UpdateAsync(tarball, form.Value.Sha, cancellationToken), tree);
    }

    public static async Task<Results<Ok<UpdaterResult>, ProblemHttpResult>> UpdateSelfAsync(HttpRequest request, ReleaseInstaller installer, ReleaseTree tree, CancellationToken cancellationToken)
    {
        var (form, problem) = await ReadReleaseAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        if (!string.Equals(form!.Value.Form[UpdaterProtocol.ConfirmSelfField].ToString(), "true", StringComparison.OrdinalIgnoreCase))
        {
            return Problem(StatusCodes.Status400BadRequest, "Confirmation required", "update-self replaces the updater itself: send confirm_self=true.");
        }
        await using var tarball = form.Value.Tarball.OpenReadStream();
        return Answer(await installer.UpdateSelfAsync(tarball, form.Value.Sha, cancellationToken), tree);
    }

    public static async Task<Results<Ok<UpdaterResult>, ProblemHttpResult>> RollbackAsync(ReleaseInstaller installer, ReleaseTree tree) =>
        Answer(await installer.RollbackAsync(), tree);

    private static Results<Ok<UpdaterResult>, ProblemHttpResult> Answer(InstallResult result, ReleaseTree tree) => result.Outcome switch
    {
        InstallOutcome.Updated => TypedResults.Ok(new UpdaterResult("updated", result.Sha, result.Detail, tree.Slots())),
        InstallOutcome.RolledBack => TypedResults.Ok(new UpdaterResult("rolled-back", result.Sha, result.Detail, tree.Slots())),
        InstallOutcome.SelfUpdateScheduled => TypedResults.Ok(new UpdaterResult("self-update-scheduled", result.Sha, result.Detail, tree.Slots())),
        InstallOutcome.Busy => Problem(StatusCodes.Status409Conflict, "Busy", result.Detail),
        InstallOutcome.Rejected => Problem(StatusCodes.Status400BadRequest, "Release rejected", result.Detail),
        InstallOutcome.NoPrevious => Problem(StatusCodes.Status404NotFound, "No previous release", result.Detail),
        InstallOutcome.FailedRolledBack => Failure(StatusCodes.Status409Conflict, result.Detail, rolledBack: true),
        _ => Failure(StatusCodes.Status500InternalServerError, result.Detail, rolledBack: false),
    };

    private static ProblemHttpResult Failure(int status, string error, bool rolledBack) =>
        TypedResults.Problem(error, statusCode: status, title: rolledBack ? "Update failed, rolled back" : "Update failed",
            extensions: new Dictionary<string, object?> { ["error"] = error, ["rolled_back"] = rolledBack });

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title);

    private static async Task<((IFormCollection Form, IFormFile Tarball, string Sha)? Form, ProblemHttpResult? Problem)> ReadReleaseAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "Release required", "Send multipart/form-data with a tarball file and its sha."));
        }
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException or IOException)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "Release required", $"The form could not be read: {ex.Message}"));
        }
        var tarball = form.Files.GetFile(UpdaterProtocol.TarballField);
        var sha = CertificateFingerprint.Normalize(form[UpdaterProtocol.ShaField].ToString());
        if (tarball is null || sha is null)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "Release required", "The form needs a 'tarball' file and a 'sha' (64 hex digits)."));
        }
        return ((form, tarball, sha), null);
    }
}
