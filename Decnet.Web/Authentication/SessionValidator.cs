using System.Security.Claims;
using Decnet.Core.Users;

namespace Decnet.Web.Authentication;

/// <summary>
/// Checks a cookie or token principal against the (cached) current user: a deleted user, a rotated
/// security stamp (logout, password or role change) or an expired absolute session is refused. The
/// role and must-change flag always come from the database, never from an old claim.
/// </summary>
public sealed class SessionValidator(UserDirectory users)
{
    public async Task<ClaimsPrincipal?> RefreshAsync(ClaimsPrincipal principal, string authenticationType, CancellationToken cancellationToken)
    {
        if (principal.GetUserId() is not { } id)
        {
            return null;
        }
        var user = await users.FindAsync(id, cancellationToken);
        if (user is null || !string.Equals(user.SecurityStamp, principal.FindFirst(DecnetClaims.SecurityStamp)?.Value, StringComparison.Ordinal))
        {
            return null;
        }
        var extra = principal.FindFirst(DecnetClaims.SessionStart) is { } start ? new[] { new Claim(start.Type, start.Value) } : [];
        return new ClaimsPrincipal(DecnetClaims.Identity(user, authenticationType, extra));
    }
}
