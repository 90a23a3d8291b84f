using System.Text;

namespace Decnet.Core.Users;

/// <summary>Rules every new password must meet (ASVS 2.1): length, not bcrypt-truncated, not blank.</summary>
public static class PasswordPolicy
{
    public const int MinimumLength = 12;

    /// <summary>bcrypt only reads the first 72 bytes; anything beyond would silently not count.</summary>
    public const int MaximumBytes = 72;

    public static IReadOnlyList<string> Validate(string? password)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(password))
        {
            errors.Add("Password must not be empty.");
            return errors;
        }
        if (password.Length < MinimumLength)
        {
            errors.Add($"Password must be at least {MinimumLength} characters long (it has {password.Length}).");
        }
        var bytes = Encoding.UTF8.GetByteCount(password);
        if (bytes > MaximumBytes)
        {
            errors.Add($"Password must be at most {MaximumBytes} bytes in UTF-8 (it has {bytes}): bcrypt ignores everything past byte {MaximumBytes}.");
        }
        return errors;
    }

    /// <summary>Login input is bounded too, so an attacker cannot make us hash megabytes.</summary>
    public static bool IsAcceptableLoginInput(string? username, string? password) =>
        !string.IsNullOrEmpty(username) && username.Length <= UsernameRules.MaximumLength
        && !string.IsNullOrEmpty(password) && Encoding.UTF8.GetByteCount(password) <= MaximumBytes;
}

public static class UsernameRules
{
    public const int MaximumLength = 64;

    public static string? Validate(string? username)
    {
        if (string.IsNullOrWhiteSpace(username))
        {
            return "Username must not be empty.";
        }
        if (username.Length > MaximumLength)
        {
            return $"Username must be at most {MaximumLength} characters.";
        }
        foreach (var c in username)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@'))
            {
                return "Username may contain only letters, digits and . _ - @.";
            }
        }
        return null;
    }
}
