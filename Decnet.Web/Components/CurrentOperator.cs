using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Components.Authorization;

namespace Decnet.Web.Components;

/// <summary>The signed-in operator, as components need it.</summary>
public sealed class CurrentOperator(AuthenticationStateProvider authentication, SessionValidator sessions)
{
    /// <summary>What a page says when an admin action is refused because the rights are gone.</summary>
    public const string AdminRightsGone =
        "Refused: you are no longer an administrator here (role changed, password reset or signed out). Reload the page.";

    /// <summary>The operator as the circuit knows it: good for what to show, not for what to allow.</summary>
    public async Task<OperatorInfo> GetAsync()
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        return new OperatorInfo(user.GetUserId() ?? Guid.Empty, user.GetUsername(), user.IsAdmin());
    }

    /// <summary>
    /// The operator as an administrator right now, read from the user store at the moment of the click;
    /// null when it no longer is one. A circuit keeps the claims it was opened with, so a page left open
    /// by an admin who was demoted, reset or signed out must ask here before every admin action.
    /// </summary>
    public async Task<OperatorInfo?> AuthorizeAdminAsync(CancellationToken cancellationToken = default)
    {
        var principal = (await authentication.GetAuthenticationStateAsync()).User;
        var current = await sessions.RefreshAsync(principal, AuthenticationSetup.CookieScheme, cancellationToken);
        if (current is null || !current.IsAdmin() || current.MustChangePassword() || current.GetUserId() is not { } id)
        {
            return null;
        }
        return new OperatorInfo(id, current.GetUsername(), true);
    }
}

public sealed record OperatorInfo(Guid Id, string Username, bool IsAdmin);
