using System.ComponentModel.DataAnnotations;

namespace Decnet.Core.Users;

public sealed class UserOptions
{
    public const string Section = "Decnet:Users";

    /// <summary>Seeded administrator (DECNET_ADMIN_USER). Created on first start; must change its password.</summary>
    [Required, MaxLength(UsernameRules.MaximumLength)]
    public string AdminUser { get; set; } = "admin";

    /// <summary>Initial password of the seeded administrator (DECNET_ADMIN_PASSWORD).</summary>
    [Required, MaxLength(72)]
    public string AdminPassword { get; set; } = "admin";

    /// <summary>bcrypt cost. 12 in production; tests may lower it to stay fast.</summary>
    [Range(4, 31)]
    public int BcryptWorkFactor { get; set; } = 12;

    /// <summary>How long a user lookup is served from memory (every authenticated request needs one).</summary>
    public TimeSpan LookupCacheDuration { get; set; } = TimeSpan.FromSeconds(10);

    [Range(1, 1000)]
    public int MaxFailuresPerUsername { get; set; } = 5;

    [Range(1, 100_000)]
    public int MaxFailuresPerAddress { get; set; } = 30;

    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Usernames and addresses the login throttle remembers at once. Every key is at most 65 characters
    /// of name or one address, so this bounds its memory whatever a flood of names or addresses sends.
    /// </summary>
    [Range(100, 10_000_000)]
    public int MaxThrottleKeys { get; set; } = 50_000;
}
