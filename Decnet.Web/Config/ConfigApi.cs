using Decnet.Core.Deckies;
using Decnet.Core.Events.Retention;
using Decnet.Core.Settings;
using Decnet.Core.Users;
using Decnet.Web.Api;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Decnet.Web.Config;

public static class ConfigApi
{
    public static RouteGroupBuilder MapConfigApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/config").WithTags("Config");

        group.MapGet("/", GetAsync).RequireAuthorization(Policies.Viewer)
            .WithName("GetConfig").WithSummary("Limits and globals; admins also get the user list.");
        group.MapPut("/deployment-limit", SetDeploymentLimitAsync).RequireAuthorization(Policies.Admin)
            .WithName("SetDeploymentLimit").WithSummary("Maximum deckies per deployment (1-500).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapPut("/global-mutation-interval", SetGlobalMutationIntervalAsync).RequireAuthorization(Policies.Admin)
            .WithName("SetGlobalMutationInterval").WithSummary("Mutation interval for deckies without their own, e.g. 30m, 2d.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapPut("/log-retention", SetLogRetentionAsync).RequireAuthorization(Policies.Admin)
            .WithName("SetLogRetention").WithSummary("How long (1-3650 days) and how many rows (1,000-1,000,000,000) the logs table keeps; a purge runs at once.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapPost("/users", CreateUserAsync).RequireAuthorization(Policies.Admin)
            .WithName("CreateUser").WithSummary("Create a user; it must change its password at first login.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/users/{id:guid}", DeleteUserAsync).RequireAuthorization(Policies.Admin)
            .WithName("DeleteUser").WithSummary("Delete a user (never yourself).")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/users/{id:guid}/role", SetRoleAsync).RequireAuthorization(Policies.Admin)
            .WithName("SetUserRole").WithSummary("Change a user's role (never your own).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/users/{id:guid}/reset-password", ResetPasswordAsync).RequireAuthorization(Policies.Admin)
            .WithName("ResetUserPassword").WithSummary("Set a temporary password; the user must change it at next login.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public static async Task<Ok<ConfigResponse>> GetAsync(HttpContext http, SystemSettingsService settings, UserDirectory users, LogPurger purger, CancellationToken cancellationToken)
    {
        var current = await settings.GetAsync(cancellationToken);
        IReadOnlyList<UserResponse>? list = null;
        if (http.User.IsAdmin())
        {
            list = (await users.ListAsync(cancellationToken)).Select(UserResponse.From).ToList();
        }
        var retention = LogRetentionPolicy.From(current);
        return TypedResults.Ok(new ConfigResponse(
            http.User.IsAdmin() ? UserRoles.Admin : UserRoles.Viewer,
            current.DeploymentLimit,
            MutationInterval.Format(current.GlobalMutationIntervalMinutes),
            list,
            retention.Days,
            retention.MaxRows,
            purger.LastResult is { } last ? new LogPurgeResponse(last.At, last.RemovedByAge, last.RemovedByCount, last.Remaining) : null));
    }

    public static async Task<Results<Ok<MessageResponse>, ProblemHttpResult>> SetLogRetentionAsync(
        [FromBody] LogRetentionRequest request, HttpContext http, SystemSettingsService settings, CancellationToken cancellationToken)
    {
        if (request.Days is not { } days || request.MaxRows is not { } maxRows)
        {
            return ApiProblems.Invalid("days and max_rows are required.");
        }
        var result = await settings.SetLogRetentionAsync(http.User.GetUsername(), days, maxRows, cancellationToken);
        return result.Succeeded
            ? TypedResults.Ok(new MessageResponse(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Logs are kept {days} days, at most {maxRows} rows.")))
            : ApiProblems.Invalid(result.Error!);
    }

    public static async Task<Results<Ok<MessageResponse>, ProblemHttpResult>> SetDeploymentLimitAsync(
        [FromBody] DeploymentLimitRequest request, HttpContext http, SystemSettingsService settings, CancellationToken cancellationToken)
    {
        if (request.DeploymentLimit is not { } limit)
        {
            return ApiProblems.Invalid("deployment_limit is required.");
        }
        var result = await settings.SetDeploymentLimitAsync(http.User.GetUsername(), limit, cancellationToken);
        return result.Succeeded ? TypedResults.Ok(new MessageResponse($"Deployment limit set to {limit}.")) : ApiProblems.Invalid(result.Error!);
    }

    public static async Task<Results<Ok<MessageResponse>, ProblemHttpResult>> SetGlobalMutationIntervalAsync(
        [FromBody] GlobalMutationIntervalRequest request, HttpContext http, SystemSettingsService settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.GlobalMutationInterval))
        {
            return ApiProblems.Invalid("global_mutation_interval is required.");
        }
        var result = await settings.SetGlobalMutationIntervalAsync(http.User.GetUsername(), request.GlobalMutationInterval, cancellationToken);
        return result.Succeeded
            ? TypedResults.Ok(new MessageResponse($"Global mutation interval set to {MutationInterval.Format(result.Settings!.GlobalMutationIntervalMinutes)}."))
            : ApiProblems.Invalid(result.Error!);
    }

    public static async Task<Results<Created<UserResponse>, ProblemHttpResult>> CreateUserAsync(
        [FromBody] CreateUserRequest request, HttpContext http, UserDirectory users, CancellationToken cancellationToken)
    {
        var role = UserRole.Viewer;
        if (request.Role is not null && !UserRoles.TryParse(request.Role, out role))
        {
            return ApiProblems.Invalid("role must be 'admin' or 'viewer'.");
        }
        var result = await users.CreateAsync(http.User.GetUsername(), request.Username ?? "", request.Password ?? "", role, cancellationToken);
        if (!result.Succeeded)
        {
            return ApiProblems.From(result);
        }
        var user = UserResponse.From(result.User!);
        return TypedResults.Created($"/api/v1/config/users/{user.Uuid}", user);
    }

    public static async Task<Results<Ok<MessageResponse>, ProblemHttpResult>> DeleteUserAsync(
        Guid id, HttpContext http, UserDirectory users, CancellationToken cancellationToken)
    {
        var result = await users.DeleteAsync(http.User.GetUserId()!.Value, http.User.GetUsername(), id, cancellationToken);
        return result.Succeeded ? TypedResults.Ok(new MessageResponse($"User '{result.User!.Username}' deleted.")) : ApiProblems.From(result);
    }

    public static async Task<Results<Ok<MessageResponse>, ProblemHttpResult>> SetRoleAsync(
        Guid id, [FromBody] RoleRequest request, HttpContext http, UserDirectory users, CancellationToken cancellationToken)
    {
        if (!UserRoles.TryParse(request.Role, out var role))
        {
            return ApiProblems.Invalid("role must be 'admin' or 'viewer'.");
        }
        var result = await users.SetRoleAsync(http.User.GetUserId()!.Value, http.User.GetUsername(), id, role, cancellationToken);
        return result.Succeeded ? TypedResults.Ok(new MessageResponse($"User '{result.User!.Username}' is now {role.ToWire()}.")) : ApiProblems.From(result);
    }

    public static async Task<Results<Ok<MessageResponse>, ProblemHttpResult>> ResetPasswordAsync(
        Guid id, [FromBody] ResetPasswordRequest request, HttpContext http, UserDirectory users, CancellationToken cancellationToken)
    {
        var result = await users.ResetPasswordAsync(http.User.GetUserId()!.Value, http.User.GetUsername(), id, request.NewPassword ?? "", cancellationToken);
        return result.Succeeded
            ? TypedResults.Ok(new MessageResponse($"Password of '{result.User!.Username}' reset; it must be changed at next login."))
            : ApiProblems.From(result);
    }
}

public sealed record ConfigResponse(
    string Role, int DeploymentLimit, string GlobalMutationInterval, IReadOnlyList<UserResponse>? Users,
    int LogRetentionDays, long LogRetentionMaxRows, LogPurgeResponse? LastLogPurge);

/// <summary>The last retention pass: when, rows removed for their age and for the row limit, rows kept.</summary>
public sealed record LogPurgeResponse(DateTimeOffset At, long RemovedByAge, long RemovedByCount, long Remaining);

public sealed record LogRetentionRequest(int? Days, long? MaxRows);

public sealed record UserResponse(Guid Uuid, string Username, string Role, bool MustChangePassword, DateTime CreatedAt, DateTime? LastLoginAt)
{
    public static UserResponse From(User user) =>
        new(user.Id, user.Username, user.Role.ToWire(), user.MustChangePassword, user.CreatedAt, user.LastLoginAt);
}

public sealed record DeploymentLimitRequest(int? DeploymentLimit);

public sealed record GlobalMutationIntervalRequest(string? GlobalMutationInterval);

public sealed record CreateUserRequest(string? Username, string? Password, string? Role);

public sealed record RoleRequest(string? Role);

public sealed record ResetPasswordRequest(string? NewPassword);
