using Decnet.Core.Users;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Decnet.Web.Authentication;

/// <summary>Authorization policies shared by pages and endpoints.</summary>
public static class Policies
{
    /// <summary>Read access: admin or viewer, password already changed.</summary>
    public const string Viewer = "viewer";

    /// <summary>Write access: admin, password already changed.</summary>
    public const string Admin = "admin";

    /// <summary>Any signed-in user, even one that must still change its password (change-password, logout).</summary>
    public const string SignedIn = "signed-in";

    /// <summary>
    /// The policies and the handler they depend on. The product and the component tests register
    /// exactly this, so a page's AuthorizeView decides in a test as it does in the dashboard.
    /// </summary>
    public static IServiceCollection AddDecnetPolicies(this IServiceCollection services)
    {
        services.AddAuthorizationCore(Add);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, PasswordChangedHandler>());
        return services;
    }

    public static void Add(AuthorizationOptions options)
    {
        options.AddPolicy(SignedIn, p => p.RequireAuthenticatedUser());
        options.AddPolicy(Viewer, p => p.RequireAuthenticatedUser()
            .RequireClaim(DecnetClaims.Role, UserRoles.Viewer, UserRoles.Admin)
            .AddRequirements(new PasswordChangedRequirement()));
        options.AddPolicy(Admin, p => p.RequireAuthenticatedUser()
            .RequireClaim(DecnetClaims.Role, UserRoles.Admin)
            .AddRequirements(new PasswordChangedRequirement()));
        options.DefaultPolicy = options.GetPolicy(Viewer)!;
        // Anything that forgets to declare a policy is still protected.
        options.FallbackPolicy = options.GetPolicy(Viewer);
    }
}

/// <summary>While a user must change its password, nothing but change-password works.</summary>
public sealed class PasswordChangedRequirement : IAuthorizationRequirement;

public sealed class PasswordChangedHandler : AuthorizationHandler<PasswordChangedRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PasswordChangedRequirement requirement)
    {
        if (context.User.Identity?.IsAuthenticated == true && !context.User.MustChangePassword())
        {
            context.Succeed(requirement);
        }
        else if (context.User.MustChangePassword())
        {
            context.Fail(new AuthorizationFailureReason(this, "Password change required."));
        }
        return Task.CompletedTask;
    }
}
