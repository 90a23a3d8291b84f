namespace Decnet.Core.Honeypots.Hosting;

/// <summary>Why a session ended. Serialised into the <c>disconnect</c> event's <c>reason</c> field.</summary>
public enum SessionEndReason
{
    Closed,
    IdleTimeout,
    MaxDuration,
    ByteCap,
    Fault,
    HostStopped,
}

public static class SessionEndReasonNames
{
    public static string ToWire(this SessionEndReason reason) => reason switch
    {
        SessionEndReason.Closed => "closed",
        SessionEndReason.IdleTimeout => "idle_timeout",
        SessionEndReason.MaxDuration => "max_duration",
        SessionEndReason.ByteCap => "byte_cap",
        SessionEndReason.Fault => "fault",
        SessionEndReason.HostStopped => "host_stopped",
        _ => "closed",
    };
}

/// <summary>
/// Enforces one session's time limits. Cutting cancels the session token and runs the abort action
/// (closing the socket), so a service blocked in a read or write returns at once even if it ignored the
/// token. The first cut wins: its reason is the one reported.
/// </summary>
public sealed class SessionGuard : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly ITimer _idleTimer;
    private readonly ITimer _durationTimer;
    private readonly TimeSpan _idleTimeout;
    private readonly Action _abort;
    private readonly CancellationTokenRegistration _hostRegistration;
    private int _endReason = -1;
    private int _cut;

    public SessionGuard(SessionLimits limits, TimeProvider time, Action abort, CancellationToken hostToken)
    {
        _abort = abort;
        _idleTimeout = TimerSpan(limits.IdleTimeout);
        _cts = CancellationTokenSource.CreateLinkedTokenSource(hostToken);
        // Timers do not capture the execution context: a session's AsyncLocals must not leak into them.
        _idleTimer = time.CreateTimer(static state => ((SessionGuard)state!).Cut(SessionEndReason.IdleTimeout), this, _idleTimeout, Timeout.InfiniteTimeSpan);
        _durationTimer = time.CreateTimer(static state => ((SessionGuard)state!).Cut(SessionEndReason.MaxDuration), this, TimerSpan(limits.MaxSessionDuration), Timeout.InfiniteTimeSpan);
        _hostRegistration = hostToken.Register(static state => ((SessionGuard)state!).Cut(SessionEndReason.HostStopped), this);
    }

    /// <summary>Zero, negative or beyond-timer-range limits mean "no limit" rather than an exception at accept time.</summary>
    private static TimeSpan TimerSpan(TimeSpan limit) =>
        limit <= TimeSpan.Zero || limit.TotalMilliseconds >= uint.MaxValue - 1 ? Timeout.InfiniteTimeSpan : limit;

    /// <summary>Cancelled when the session is cut for any reason.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>True once a limit or the host cut the session (not when it ended on its own).</summary>
    public bool IsCut => Volatile.Read(ref _cut) == 1;

    /// <summary>Why the session ended: the first of a cut or <see cref="MarkEnded"/>; <see cref="SessionEndReason.Closed"/> while running.</summary>
    public SessionEndReason EndReason => Volatile.Read(ref _endReason) is var reason and >= 0 ? (SessionEndReason)reason : SessionEndReason.Closed;

    /// <summary>The attacker did something: restart the idle clock.</summary>
    public void Touch()
    {
        if (!IsCut)
        {
            _idleTimer.Change(_idleTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    public void Cut(SessionEndReason reason)
    {
        if (Interlocked.CompareExchange(ref _endReason, (int)reason, -1) != -1)
        {
            return;
        }
        Volatile.Write(ref _cut, 1);
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session already finished and released its resources.
        }
        _abort();
    }

    /// <summary>Records how a session ended on its own, so timers firing afterwards cut nothing.</summary>
    /// <returns>False when a cut got there first (its reason stands).</returns>
    public bool MarkEnded(SessionEndReason reason) => Interlocked.CompareExchange(ref _endReason, (int)reason, -1) == -1;

    public void Dispose()
    {
        _hostRegistration.Dispose();
        _idleTimer.Dispose();
        _durationTimer.Dispose();
        _cts.Dispose();
    }
}
