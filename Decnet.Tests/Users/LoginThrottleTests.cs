using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Users;

[Trait("Category", TestCategories.Unit)]
public sealed class LoginThrottleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    private readonly UserOptions _options = new() { MaxFailuresPerUsername = 3, MaxFailuresPerAddress = 5, FailureWindow = TimeSpan.FromMinutes(10) };

    private LoginThrottle Create() => new(Options.Create(_options), _time);

    [Fact]
    public void A_username_is_locked_after_its_limit_of_failures_and_says_when_to_retry()
    {
        var throttle = Create();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(throttle.Check("10.0.0.1", "root").IsAllowed);
            throttle.RecordFailure("10.0.0.1", "root");
        }
        var decision = throttle.Check("10.0.0.9", "ROOT");
        Assert.False(decision.IsAllowed);
        Assert.Equal(TimeSpan.FromMinutes(10), decision.RetryAfter);
        Assert.Contains("username", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_lock_lifts_when_the_oldest_failure_leaves_the_window()
    {
        var throttle = Create();
        for (var i = 0; i < 3; i++)
        {
            throttle.RecordFailure("10.0.0.1", "root");
            _time.Advance(TimeSpan.FromMinutes(1));
        }
        Assert.False(throttle.Check("10.0.0.1", "root").IsAllowed);
        _time.Advance(TimeSpan.FromMinutes(7));
        Assert.True(throttle.Check("10.0.0.2", "root").IsAllowed);
    }

    [Fact]
    public void An_address_spraying_many_usernames_is_locked_by_its_own_limit()
    {
        var throttle = Create();
        for (var i = 0; i < 5; i++)
        {
            throttle.RecordFailure("203.0.113.7", $"user{i}");
        }
        var decision = throttle.Check("203.0.113.7", "someone-else");
        Assert.False(decision.IsAllowed);
        Assert.Contains("address", decision.Reason, StringComparison.Ordinal);
        Assert.True(throttle.Check("203.0.113.8", "someone-else").IsAllowed);
    }

    [Fact]
    public void A_successful_login_clears_the_username_count()
    {
        var throttle = Create();
        throttle.RecordFailure("10.0.0.1", "alice");
        throttle.RecordFailure("10.0.0.1", "alice");
        throttle.RecordSuccess("alice");
        throttle.RecordFailure("10.0.0.1", "alice");
        throttle.RecordFailure("10.0.0.1", "alice");
        Assert.True(throttle.Check("10.0.0.1", "alice").IsAllowed);
    }

    [Fact]
    public void Memory_stays_bounded_under_a_flood_of_distinct_keys()
    {
        var throttle = Create();
        for (var i = 0; i < _options.MaxThrottleKeys + 5_000; i++)
        {
            throttle.RecordFailure($"198.51.{i / 256 % 256}.{i % 256}-{i}", $"u{i}");
        }
        Assert.True(throttle.TrackedKeys <= _options.MaxThrottleKeys + 2, $"tracked {throttle.TrackedKeys}");
    }
}
