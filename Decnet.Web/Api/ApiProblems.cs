using Decnet.Core.Users;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Decnet.Web.Api;

/// <summary>Maps domain outcomes onto ProblemDetails responses.</summary>
internal static class ApiProblems
{
    public static ProblemHttpResult From(UserOperation operation) => operation.Status switch
    {
        UserOperationStatus.NotFound => TypedResults.Problem(string.Join(" ", operation.Errors), statusCode: StatusCodes.Status404NotFound, title: "Not found"),
        UserOperationStatus.Conflict => TypedResults.Problem(string.Join(" ", operation.Errors), statusCode: StatusCodes.Status409Conflict, title: "Conflict"),
        UserOperationStatus.Forbidden => TypedResults.Problem(string.Join(" ", operation.Errors), statusCode: StatusCodes.Status403Forbidden, title: "Forbidden"),
        UserOperationStatus.Unauthorized => TypedResults.Problem(string.Join(" ", operation.Errors), statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized"),
        _ => Invalid(operation.Errors),
    };

    public static ProblemHttpResult Invalid(params IEnumerable<string> errors) =>
        TypedResults.Problem(string.Join(" ", errors), statusCode: StatusCodes.Status400BadRequest, title: "Invalid request");
}
