using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Honeypots.Hosting;

public sealed class SessionGuardTests
{
    private static readonly SessionLimits Limits = new() { IdleTimeout = TimeSpan.FromSeconds(30), MaxSessionDuration = TimeSpan.FromMinutes(5) };

    [Fact]
    [Trait("Category", "Unit")]
    public void Silence_for_the_idle_timeout_cuts_the_session_and_aborts_the_socket()
    {
        var time = new FakeTimeProvider();
        var aborted = 0;
        using var guard = new SessionGuard(Limits, time, () => aborted++, CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(guard.IsCut);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(guard.IsCut);
        Assert.Equal(SessionEndReason.IdleTimeout, guard.EndReason);
        Assert.True(guard.Token.IsCancellationRequested);
        Assert.Equal(1, aborted);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Activity_restarts_the_idle_clock_but_not_the_duration_clock()
    {
        var time = new FakeTimeProvider();
        using var guard = new SessionGuard(Limits, time, () => { }, CancellationToken.None);
        for (var i = 0; i < 14; i++)
        {
            time.Advance(TimeSpan.FromSeconds(20));
            guard.Touch();
            Assert.False(guard.IsCut);
        }
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(SessionEndReason.MaxDuration, guard.EndReason);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void A_session_that_ended_on_its_own_is_never_cut_afterwards()
    {
        var time = new FakeTimeProvider();
        var aborted = 0;
        using var guard = new SessionGuard(Limits, time, () => aborted++, CancellationToken.None);
        Assert.True(guard.MarkEnded(SessionEndReason.Closed));
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.False(guard.IsCut);
        Assert.Equal(SessionEndReason.Closed, guard.EndReason);
        Assert.Equal(0, aborted);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void The_first_cut_wins_and_a_later_fault_does_not_overwrite_it()
    {
        using var host = new CancellationTokenSource();
        using var guard = new SessionGuard(Limits, new FakeTimeProvider(), () => { }, host.Token);
        host.Cancel();
        Assert.Equal(SessionEndReason.HostStopped, guard.EndReason);
        Assert.False(guard.MarkEnded(SessionEndReason.Fault));
        guard.Cut(SessionEndReason.ByteCap);
        Assert.Equal(SessionEndReason.HostStopped, guard.EndReason);
    }
}
