using Microsoft.Extensions.Options;

namespace Decnet.Web.Authentication;

public sealed class AuthOptions
{
    public const string Section = "Decnet:Auth";

    /// <summary>
    /// HMAC key for API tokens (DECNET_JWT_SECRET), at least 32 characters. When absent, a random key
    /// is generated once and kept in the data folder (mode 0600).
    /// </summary>
    public string? JwtSecret { get; set; }

    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>A dashboard session unused for this long ends.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>No dashboard session lives longer than this, active or not.</summary>
    public TimeSpan SessionAbsoluteTimeout { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Login calls per client address per minute (bursts up to twice that), right or wrong.</summary>
    public int LoginAttemptsPerMinute { get; set; } = 10;

    public const string Issuer = "decnet";
    public const string Audience = "decnet-api";
}

/// <summary>Collects every problem with the auth settings at start-up.</summary>
public sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    private static readonly string[] s_knownBadSecrets = ["fallback-secret-key-change-me", "admin", "secret", "password", "changeme"];

    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var errors = new List<string>();
        if (options.JwtSecret is { } secret)
        {
            if (secret.Length < 32)
            {
                errors.Add("Decnet:Auth:JwtSecret (DECNET_JWT_SECRET) must be at least 32 characters.");
            }
            if (s_knownBadSecrets.Contains(secret, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add("Decnet:Auth:JwtSecret (DECNET_JWT_SECRET) is a well-known default; choose a random one.");
            }
        }
        if (options.TokenLifetime <= TimeSpan.Zero || options.TokenLifetime > TimeSpan.FromHours(24))
        {
            errors.Add("Decnet:Auth:TokenLifetime must be between 0 and 24 hours.");
        }
        if (options.SessionIdleTimeout <= TimeSpan.Zero)
        {
            errors.Add("Decnet:Auth:SessionIdleTimeout must be positive.");
        }
        if (options.SessionAbsoluteTimeout < options.SessionIdleTimeout)
        {
            errors.Add("Decnet:Auth:SessionAbsoluteTimeout must be at least the idle timeout.");
        }
        if (options.LoginAttemptsPerMinute is < 1 or > 100_000)
        {
            errors.Add("Decnet:Auth:LoginAttemptsPerMinute must be between 1 and 100000.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
