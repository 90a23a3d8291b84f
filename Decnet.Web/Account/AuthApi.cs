using Decnet.Core.Users;
using Decnet.Web.Api;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Decnet.Web.Account;

public static class AuthApi
{
    public const string LoginRateLimit = "login";

    /// <summary>
    /// Largest login or password-change request body (API and dashboard forms). A real one is a few
    /// hundred bytes; nobody gets to make the server read megabytes before it refuses a guess.
    /// </summary>
    public const long MaxCredentialRequestBytes = 4096;

    public static RouteGroupBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/auth").WithTags("Auth");

        group.MapPost("/login", LoginAsync)
            .AllowAnonymous()
            .RequireRateLimiting(LoginRateLimit)
            .WithMetadata(new RequestSizeLimitAttribute(MaxCredentialRequestBytes))
            .WithName("Login")
            .WithSummary("Exchange a username and password for a short-lived bearer token.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        group.MapPost("/change-password", ChangePasswordAsync)
            .RequireAuthorization(Policies.SignedIn)
            .WithMetadata(new RequestSizeLimitAttribute(MaxCredentialRequestBytes))
            .WithName("ChangePassword")
            .WithSummary("Change your password; the only call allowed while a change is required. Revokes your other tokens.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        group.MapPost("/logout", LogoutAsync)
            .RequireAuthorization(Policies.SignedIn)
            .WithName("Logout")
            .WithSummary("Revoke every token and dashboard session of the caller.")
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        return group;
    }

    public static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> LoginAsync(
        [FromBody] LoginRequest request, HttpContext http, UserDirectory users, TokenService tokens, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.Username) || string.IsNullOrEmpty(request.Password))
        {
            return ApiProblems.Invalid("username and password are required.");
        }
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var result = await users.LoginAsync(request.Username, request.Password, address, cancellationToken);
        switch (result.Outcome)
        {
            case LoginOutcome.Throttled:
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(result.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return TypedResults.Problem($"Too many failed logins ({result.Reason}); try again later.", statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests");
            case LoginOutcome.InvalidCredentials:
                return TypedResults.Problem("Invalid username or password.", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }
        var token = tokens.Issue(UserSnapshot.From(result.User!));
        return TypedResults.Ok(new LoginResponse(token.AccessToken, "bearer", token.ExpiresIn, token.MustChangePassword));
    }

    public static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> ChangePasswordAsync(
        [FromBody] ChangePasswordRequest request, HttpContext http, UserDirectory users, TokenService tokens, CancellationToken cancellationToken)
    {
        if (http.User.GetUserId() is not { } id)
        {
            return TypedResults.Problem("A valid bearer token is required.", statusCode: StatusCodes.Status401Unauthorized);
        }
        if (request.OldPassword is null || request.NewPassword is null)
        {
            return ApiProblems.Invalid("old_password and new_password are required.");
        }
        var result = await users.ChangePasswordAsync(id, request.OldPassword, request.NewPassword, cancellationToken);
        if (!result.Succeeded)
        {
            return ApiProblems.From(result);
        }
        // The stamp rotated, so the caller's token is dead: hand back a fresh one.
        var token = tokens.Issue(UserSnapshot.From(result.User!));
        return TypedResults.Ok(new LoginResponse(token.AccessToken, "bearer", token.ExpiresIn, false));
    }

    public static async Task<NoContent> LogoutAsync(HttpContext http, UserDirectory users, CancellationToken cancellationToken)
    {
        if (http.User.GetUserId() is { } id)
        {
            await users.RevokeSessionsAsync(id, cancellationToken);
        }
        return TypedResults.NoContent();
    }
}

public sealed record LoginRequest(string? Username, string? Password);

public sealed record LoginResponse(string AccessToken, string TokenType, int ExpiresIn, bool MustChangePassword);

public sealed record ChangePasswordRequest(string? OldPassword, string? NewPassword);
