using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Users;

/// <summary>
/// Counts failed logins per client address and per username in a sliding window (ASVS 2.2.1). A key
/// over its limit is refused until its oldest failure leaves the window. Memory is bounded: at most
/// <see cref="UserOptions.MaxThrottleKeys"/> keys are kept; expired ones are swept first, then the stalest.
/// </summary>
public sealed class LoginThrottle(IOptions<UserOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, FailureWindow> _failures = new(StringComparer.Ordinal);

    public LoginThrottleDecision Check(string clientAddress, string username)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var byName = RetryAfter(UsernameKey(username), o.MaxFailuresPerUsername, now);
        if (byName is { } nameWait)
        {
            return LoginThrottleDecision.Blocked(nameWait, "too many failed logins for this username");
        }
        var byAddress = RetryAfter(AddressKey(clientAddress), o.MaxFailuresPerAddress, now);
        return byAddress is { } addressWait
            ? LoginThrottleDecision.Blocked(addressWait, "too many failed logins from this address")
            : LoginThrottleDecision.Allowed;
    }

    public void RecordFailure(string clientAddress, string username)
    {
        var now = time.GetUtcNow();
        var o = options.Value;
        Add(UsernameKey(username), o.MaxFailuresPerUsername, now);
        Add(AddressKey(clientAddress), o.MaxFailuresPerAddress, now);
        if (_failures.Count > o.MaxThrottleKeys)
        {
            Sweep(now);
        }
    }

    /// <summary>A successful login clears the username's failures (the address keeps its count).</summary>
    public void RecordSuccess(string username) => _failures.TryRemove(UsernameKey(username), out _);

    internal int TrackedKeys => _failures.Count;

    private static string UsernameKey(string username) => "u:" + username.ToLowerInvariant();

    private static string AddressKey(string address) => "a:" + address;

    private TimeSpan? RetryAfter(string key, int limit, DateTimeOffset now)
    {
        if (!_failures.TryGetValue(key, out var window))
        {
            return null;
        }
        lock (window)
        {
            window.Expire(now - options.Value.FailureWindow);
            if (window.Count < limit)
            {
                return null;
            }
            return window.Oldest + options.Value.FailureWindow - now;
        }
    }

    private void Add(string key, int limit, DateTimeOffset now)
    {
        var window = _failures.GetOrAdd(key, static _ => new FailureWindow());
        lock (window)
        {
            window.Expire(now - options.Value.FailureWindow);
            window.Add(now, limit);
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        var cutoff = now - options.Value.FailureWindow;
        foreach (var (key, window) in _failures)
        {
            lock (window)
            {
                window.Expire(cutoff);
                if (window.Count == 0)
                {
                    _failures.TryRemove(key, out _);
                }
            }
        }
        var limit = options.Value.MaxThrottleKeys;
        if (_failures.Count <= limit)
        {
            return;
        }
        // Still full of live keys: forget the ones whose newest failure is oldest.
        var stalest = _failures.OrderBy(p => p.Value.Newest).Take(_failures.Count - (limit / 2)).Select(p => p.Key).ToList();
        foreach (var key in stalest)
        {
            _failures.TryRemove(key, out _);
        }
    }

    /// <summary>Failure times of one key, capped at the key's limit (older ones no longer matter).</summary>
    private sealed class FailureWindow
    {
        private readonly Queue<DateTimeOffset> _times = new();

        public int Count => _times.Count;
        public DateTimeOffset Oldest => _times.Peek();
        public DateTimeOffset Newest { get; private set; }

        public void Add(DateTimeOffset at, int limit)
        {
            _times.Enqueue(at);
            Newest = at;
            while (_times.Count > limit)
            {
                _times.Dequeue();
            }
        }

        public void Expire(DateTimeOffset cutoff)
        {
            while (_times.Count > 0 && _times.Peek() <= cutoff)
            {
                _times.Dequeue();
            }
        }
    }
}

public readonly record struct LoginThrottleDecision(bool IsAllowed, TimeSpan RetryAfter, string? Reason)
{
    public static LoginThrottleDecision Allowed => new(true, TimeSpan.Zero, null);

    public static LoginThrottleDecision Blocked(TimeSpan retryAfter, string reason) =>
        new(false, retryAfter < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : retryAfter, reason);
}
