using Decnet.Core.Recordings;
using Decnet.Web.Api;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Decnet.Web.Recordings;

/// <summary>An attacker's recorded shell sessions (asciicast v2), for replay.</summary>
public static class RecordingsApi
{
    public const string ContentType = "application/x-asciicast";

    public static IEndpointRouteBuilder MapRecordingsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/attackers/{id:guid}/sessions").WithTags("Attackers").RequireAuthorization(Policies.Viewer);
        group.MapGet("/", ListAsync)
            .WithName("ListAttackerSessions").WithSummary("The attacker's recorded shell sessions (session_recorded events), newest first, at most 200.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{decky}/{service}/{recording}", GetAsync)
            .WithName("GetAttackerSessionRecording")
            .WithSummary("One recording as asciicast v2 (a download). Only recordings stored events tie to this attacker are served.")
            .Produces(StatusCodes.Status200OK, contentType: ContentType)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Results<Ok<SessionListResponse>, ProblemHttpResult>> ListAsync(Guid id, SessionRecordings recordings, CancellationToken cancellationToken)
    {
        var list = await recordings.ListAsync(id, cancellationToken);
        return list is null
            ? TypedResults.Problem("No such attacker.", statusCode: StatusCodes.Status404NotFound, title: "Not found")
            : TypedResults.Ok(new SessionListResponse(list.Count, list));
    }

    public static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> GetAsync(Guid id, string decky, string service, string recording,
        SessionRecordings recordings, CancellationToken cancellationToken)
    {
        var found = await recordings.FindAsync(id, decky, service, recording, cancellationToken);
        return found.Status switch
        {
            RecordingLookupStatus.Found => TypedResults.PhysicalFile(found.Path!, ContentType, recording),
            RecordingLookupStatus.Invalid => ApiProblems.Invalid(found.Error!),
            _ => TypedResults.Problem(found.Error, statusCode: StatusCodes.Status404NotFound, title: "Not found"),
        };
    }
}

public sealed record SessionListResponse(int Total, IReadOnlyList<SessionRecording> Data);
