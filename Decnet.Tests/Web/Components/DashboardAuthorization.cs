using System.Security.Claims;
using Bunit;
using Decnet.Core.Users;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Decnet.Tests.Web.Components;

/// <summary>
/// The product's own authorization in a bUnit context: its policy definitions and handler
/// (<see cref="Policies.AddDecnetPolicies"/>) evaluated against the claims the real session cookie
/// carries. bUnit's stand-in would grant whatever policy names a test lists; here a viewer is
/// refused an admin AuthorizeView because the admin policy says so.
/// </summary>
public static class DashboardAuthorization
{
    public static void SignIn(BunitContext context, User user) =>
        SignIn(context, new ClaimsPrincipal(DecnetClaims.Identity(UserSnapshot.From(user), "test")));

    public static void SignIn(BunitContext context, ClaimsPrincipal principal)
    {
        if (context.Services.FirstOrDefault(d => d.ServiceType == typeof(AuthenticationStateProvider))?.ImplementationInstance is SignedInState signedIn)
        {
            signedIn.Principal = principal;
            return;
        }
        context.Services.RemoveAll<IAuthorizationService>();
        context.Services.RemoveAll<IAuthorizationPolicyProvider>();
        context.Services.RemoveAll<AuthenticationStateProvider>();
        context.Services.AddDecnetPolicies();
        context.Services.AddSingleton<AuthenticationStateProvider>(new SignedInState(principal));
        context.Services.AddCascadingAuthenticationState();
    }

    private sealed class SignedInState(ClaimsPrincipal principal) : AuthenticationStateProvider
    {
        public ClaimsPrincipal Principal { get; set; } = principal;

        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(Principal));
    }
}
