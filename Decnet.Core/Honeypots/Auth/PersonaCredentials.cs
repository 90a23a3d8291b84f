namespace Decnet.Core.Honeypots.Auth;

/// <summary>The <c>users</c> persona key shared by the login services: <c>user:pass,user2:pass2</c>.</summary>
public static class PersonaCredentials
{
    /// <summary>
    /// Accepted logins from the persona value, or <paramref name="defaults"/> when the key is absent.
    /// Entries without a colon or with an empty user are ignored; a password may itself contain colons.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Parse(string? value, IReadOnlyDictionary<string, string>? defaults = null)
    {
        if (value is null)
        {
            return defaults ?? new Dictionary<string, string>(StringComparer.Ordinal);
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                result[entry[..colon]] = entry[(colon + 1)..];
            }
        }
        return result;
    }

    public static bool Accepts(this IReadOnlyDictionary<string, string> credentials, string username, string password) =>
        credentials.TryGetValue(username, out var expected) && string.Equals(expected, password, StringComparison.Ordinal);
}
