using System.ComponentModel.DataAnnotations;
using Decnet.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Users;

public sealed class UserOptions : IValidatableObject
{
    public const string Section = "Decnet:Users";

    /// <summary>Seeded administrator (DECNET_ADMIN_USER). Created on first start; must change its password.</summary>
    [Required, MaxLength(UsernameRules.MaximumLength)]
    public string AdminUser { get; set; } = "admin";

    /// <summary>The well-known seed password: fine on loopback for a first sign-in, never beyond it.</summary>
    public const string DefaultAdminPassword = "admin";

    /// <summary>Initial password of the seeded administrator (DECNET_ADMIN_PASSWORD).</summary>
    [Required, MaxLength(72)]
    public string AdminPassword { get; set; } = DefaultAdminPassword;

    /// <summary>bcrypt cost. 12 in production; tests may lower it to stay fast.</summary>
    [Range(4, 31)]
    public int BcryptWorkFactor { get; set; } = 12;

    /// <summary>How long a user lookup is served from memory (every authenticated request needs one).</summary>
    public TimeSpan LookupCacheDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Failed logins of one username (from any address) before further tries are slowed.</summary>
    [Range(1, 1000)]
    public int UsernameFailuresBeforeDelay { get; set; } = 5;

    /// <summary>The first wait once a username is slowed; it doubles with each further failure.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan UsernameDelayBase { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between tries of a slowed username (from addresses that failed).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan UsernameDelayMax { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Failed logins from one address that refuse it outright until they leave the window.</summary>
    [Range(1, 100_000)]
    public int MaxFailuresPerAddress { get; set; } = 30;

    /// <summary>How long a failure counts.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Usernames and addresses the login throttle remembers at once. Every key is at most 65 characters
    /// of name or one address, so this bounds its memory whatever a flood of names or addresses sends.
    /// </summary>
    [Range(100, 10_000_000)]
    public int MaxThrottleKeys { get; set; } = 50_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (UsernameDelayMax < UsernameDelayBase)
        {
            yield return new ValidationResult(
                $"Decnet:Users:UsernameDelayMax ({UsernameDelayMax}) must be at least UsernameDelayBase ({UsernameDelayBase}).",
                [nameof(UsernameDelayMax)]);
        }
    }
}

/// <summary>Every problem with <c>Decnet:Users</c> at once, each with its key.</summary>
public sealed class UserOptionsValidator : IValidateOptions<UserOptions>
{
    public ValidateOptionsResult Validate(string? name, UserOptions options) =>
        new OptionsProblems(UserOptions.Section).Annotations(options).Result();
}
