namespace Decnet.Core.Users;

/// <summary>An operator account of the dashboard and the REST API.</summary>
public sealed class User
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string Username { get; set; }
    public required string PasswordHash { get; set; }
    public UserRole Role { get; set; } = UserRole.Viewer;
    public bool MustChangePassword { get; set; }

    /// <summary>
    /// Rotated on every password change, role change and logout. Cookies and JWTs carry the stamp they
    /// were issued with; a mismatch revokes them.
    /// </summary>
    public string SecurityStamp { get; set; } = NewStamp();

    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public DateTime? PasswordChangedAt { get; set; }
    public DateTime? LastLoginAt { get; set; }

    /// <summary>The dashboard in its light palette instead of the default dark one (the user's own choice, kept across sign-ins and browsers).</summary>
    public bool LightTheme { get; set; }

    public static string NewStamp() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
}

public enum UserRole
{
    Viewer = 0,
    Admin = 1,
}

public static class UserRoles
{
    public const string Admin = "admin";
    public const string Viewer = "viewer";

    public static string ToWire(this UserRole role) => role == UserRole.Admin ? Admin : Viewer;

    public static bool TryParse(string? value, out UserRole role)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case Admin: role = UserRole.Admin; return true;
            case Viewer: role = UserRole.Viewer; return true;
            default: role = UserRole.Viewer; return false;
        }
    }
}
