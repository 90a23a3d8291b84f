using Decnet.Web.Authentication;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace Decnet.Web.Components;

/// <summary>
/// Re-checks a live circuit's user every minute: a logout elsewhere, a password or role change, or a
/// deleted account ends the dashboard session without waiting for the next page load.
/// </summary>
public sealed class SessionRevalidator(ILoggerFactory loggerFactory, SessionValidator validator)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken) =>
        await validator.RefreshAsync(authenticationState.User, AuthenticationSetup.CookieScheme, cancellationToken) is not null;
}
