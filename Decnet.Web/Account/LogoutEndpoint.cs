using Decnet.Core.Users;
using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;

namespace Decnet.Web.Account;

/// <summary>Cookie sign-out for the dashboard: a form post with an antiforgery token.</summary>
public static class LogoutEndpoint
{
    public static IEndpointRouteBuilder MapLogoutEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPost("/account/logout", async (HttpContext http, IAntiforgery antiforgery, UserDirectory users) =>
        {
            await antiforgery.ValidateRequestAsync(http);
            if (http.User.GetUserId() is { } id)
            {
                await users.RevokeSessionsAsync(id, http.RequestAborted);
            }
            await http.SignOutAsync(AuthenticationSetup.CookieScheme);
            return TypedResults.LocalRedirect(AuthenticationSetup.LoginPath);
        }).RequireAuthorization(Policies.SignedIn).DisableAntiforgery().ExcludeFromDescription();
        return app;
    }
}
