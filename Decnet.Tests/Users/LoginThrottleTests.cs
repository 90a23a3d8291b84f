using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Users;

[Trait("Category", TestCategories.Unit)]
public sealed class LoginThrottleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    private readonly UserOptions _options = new()
    {
        UsernameFailuresBeforeDelay = 3,
        UsernameDelayBase = TimeSpan.FromSeconds(1),
        UsernameDelayMax = TimeSpan.FromSeconds(8),
        MaxFailuresPerAddress = 5,
        FailureWindow = TimeSpan.FromMinutes(10),
        MaxThrottleKeys = 1_000,
    };

    private LoginThrottle Create() => new(Options.Create(_options), _time);

    /// <summary>A failed attempt: admitted attempts count as failures unless they succeed.</summary>
    private static void Fail(LoginThrottle throttle, string address, string username) =>
        Assert.True(throttle.Check(address, username).IsAllowed, $"{address} {username} was refused");

    [Fact]
    public void Each_failure_past_the_free_ones_doubles_the_wait_up_to_the_cap()
    {
        _options.MaxFailuresPerAddress = 100;
        var throttle = Create();
        for (var i = 0; i < 4; i++)
        {
            Fail(throttle, "203.0.113.7", "admin");
        }
        var waits = new List<TimeSpan>();
        for (var round = 0; round < 5; round++)
        {
            var refused = throttle.Check("203.0.113.7", "ADMIN");
            Assert.False(refused.IsAllowed);
            Assert.Contains("username", refused.Reason, StringComparison.Ordinal);
            waits.Add(refused.RetryAfter);
            _time.Advance(refused.RetryAfter);
            Fail(throttle, "203.0.113.7", "admin");
        }
        Assert.Equal([1, 2, 4, 8, 8], waits.Select(w => w.TotalSeconds));
    }

    [Fact]
    public void An_address_that_never_failed_is_not_slowed_by_someone_elses_guessing()
    {
        var throttle = Create();
        for (var i = 0; i < 4; i++)
        {
            Fail(throttle, "203.0.113.7", "admin");
        }
        Assert.False(throttle.Check("203.0.113.7", "admin").IsAllowed);

        var admin = throttle.Check("10.0.0.2", "admin");
        Assert.True(admin.IsAllowed);
        throttle.RecordSuccess(admin);
        // A success starts the username afresh and refunds the address, which stays clean.
        Assert.True(throttle.Check("10.0.0.2", "admin").IsAllowed);
    }

    [Fact]
    public void A_clean_address_gets_one_exempt_try_and_then_waits_like_everyone()
    {
        var throttle = Create();
        for (var i = 0; i < 4; i++)
        {
            Fail(throttle, "203.0.113.7", "admin");
        }
        // Two concurrent guesses from a fresh address: the first is exempt, the second already sees its charge.
        Assert.True(throttle.Check("198.51.100.9", "admin").IsAllowed);
        var second = throttle.Check("198.51.100.9", "admin");
        Assert.False(second.IsAllowed);
        Assert.Contains("username", second.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_address_spraying_many_usernames_is_refused_by_its_own_limit()
    {
        var throttle = Create();
        for (var i = 0; i < 5; i++)
        {
            Fail(throttle, "203.0.113.7", $"user{i}");
        }
        var decision = throttle.Check("203.0.113.7", "someone-else");
        Assert.False(decision.IsAllowed);
        Assert.Contains("address", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromMinutes(10), decision.RetryAfter);
        Assert.True(throttle.Check("203.0.113.8", "someone-else").IsAllowed);
    }

    [Fact]
    public void Successful_logins_never_use_up_the_address_limit()
    {
        var throttle = Create();
        for (var i = 0; i < 20; i++)
        {
            var attempt = throttle.Check("10.0.0.1", "alice");
            Assert.True(attempt.IsAllowed);
            throttle.RecordSuccess(attempt);
        }
    }

    [Fact]
    public void Failures_leave_the_window_and_the_username_is_free_again()
    {
        var throttle = Create();
        for (var i = 0; i < 4; i++)
        {
            Fail(throttle, "203.0.113.7", "root");
        }
        Assert.False(throttle.Check("203.0.113.7", "root").IsAllowed);
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.True(throttle.Check("203.0.113.7", "root").IsAllowed);
    }

    [Fact]
    public void Memory_stays_bounded_under_a_flood_of_distinct_keys()
    {
        var throttle = Create();
        for (var i = 0; i < _options.MaxThrottleKeys + 5_000; i++)
        {
            throttle.Check($"198.51.{i / 256 % 256}.{i % 256}-{i}", $"u{i}");
        }
        Assert.True(throttle.TrackedKeys <= _options.MaxThrottleKeys + 2, $"tracked {throttle.TrackedKeys}");
    }
}
