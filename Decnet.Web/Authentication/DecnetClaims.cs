using System.Security.Claims;
using Decnet.Core.Users;

namespace Decnet.Web.Authentication;

/// <summary>Claim types carried by dashboard cookies and API tokens.</summary>
public static class DecnetClaims
{
    public const string UserId = "sub";
    public const string Username = "name";
    public const string Role = "role";
    public const string SecurityStamp = "stamp";
    public const string PasswordChangeRequired = "must_change_password";

    /// <summary>When the dashboard session began, for the absolute timeout.</summary>
    public const string SessionStart = "session_start";

    public static Guid? GetUserId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(UserId), out var id) ? id : null;

    public static string GetUsername(this ClaimsPrincipal principal) => principal.FindFirstValue(Username) ?? "unknown";

    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.HasClaim(Role, UserRoles.Admin);

    public static bool MustChangePassword(this ClaimsPrincipal principal) => principal.HasClaim(PasswordChangeRequired, "true");

    public static IEnumerable<Claim> For(UserSnapshot user)
    {
        yield return new Claim(UserId, user.Id.ToString());
        yield return new Claim(Username, user.Username);
        yield return new Claim(Role, user.Role.ToWire());
        yield return new Claim(SecurityStamp, user.SecurityStamp);
        if (user.MustChangePassword)
        {
            yield return new Claim(PasswordChangeRequired, "true");
        }
    }

    public static ClaimsIdentity Identity(UserSnapshot user, string authenticationType, params Claim[] extra) =>
        new(For(user).Concat(extra), authenticationType, Username, Role);
}
