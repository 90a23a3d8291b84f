using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Users;

/// <summary>
/// Slows password guessing without letting a guesser lock the real operator out (ASVS 2.2.1).
/// <list type="bullet">
/// <item>Per client address: <see cref="UserOptions.MaxFailuresPerAddress"/> failures in the window
/// refuse that address until its oldest failure leaves the window.</item>
/// <item>Per username: after <see cref="UserOptions.UsernameFailuresBeforeDelay"/> failures from any
/// address, each further try waits a delay that doubles per failure up to
/// <see cref="UserOptions.UsernameDelayMax"/>. An address with no failure in the window is exempt from
/// that delay, so an attacker hammering "admin" from elsewhere slows the attacker, never the admin.</item>
/// </list>
/// Every admitted attempt is counted as a failure at once and refunded on success, so a burst of
/// concurrent guesses cannot all pass before the first one fails. Memory is bounded: at most
/// <see cref="UserOptions.MaxThrottleKeys"/> keys; expired ones are swept first, then the stalest.
/// </summary>
public sealed class LoginThrottle(IOptions<UserOptions> options, TimeProvider time)
{
    /// <summary>Failures kept per username beyond the free ones: the delay reaches its cap long before.</summary>
    private const int ExtraUsernameFailuresKept = 32;

    private readonly ConcurrentDictionary<string, FailureWindow> _keys = new(StringComparer.Ordinal);

    /// <summary>Admits or refuses one attempt; an admitted one counts as a failure until <see cref="RecordSuccess"/>.</summary>
    public LoginThrottleDecision Check(string clientAddress, string username)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var addressKey = AddressKey(clientAddress);
        var nameKey = UsernameKey(username);
        var address = _keys.GetOrAdd(addressKey, static _ => new FailureWindow());
        var name = _keys.GetOrAdd(nameKey, static _ => new FailureWindow());
        LoginThrottleDecision decision;
        // One lock for the pair: the decision and its charge are one step, whatever runs concurrently.
        lock (address)
        {
            lock (name)
            {
                address.Expire(now - o.FailureWindow);
                name.Expire(now - o.FailureWindow);
                decision = Decide(o, now, address, name, addressKey, nameKey);
                if (decision.IsAllowed)
                {
                    address.Add(now, o.MaxFailuresPerAddress);
                    name.Add(now, o.UsernameFailuresBeforeDelay + ExtraUsernameFailuresKept);
                    if (name.Count > o.UsernameFailuresBeforeDelay)
                    {
                        var next = now + Delay(o, name.Count);
                        name.NextAttemptAt = next > name.NextAttemptAt ? next : name.NextAttemptAt;
                    }
                }
            }
        }
        if (_keys.Count > o.MaxThrottleKeys)
        {
            Sweep(now);
        }
        return decision;
    }

    /// <summary>The attempt was right: its address charge is refunded and the username starts afresh.</summary>
    public void RecordSuccess(LoginThrottleDecision admitted)
    {
        if (!admitted.IsAllowed || admitted.AddressKey is null || admitted.UsernameKey is null)
        {
            return;
        }
        if (_keys.TryGetValue(admitted.AddressKey, out var address))
        {
            lock (address)
            {
                address.Remove(admitted.ChargedAt);
            }
        }
        _keys.TryRemove(admitted.UsernameKey, out _);
    }

    internal int TrackedKeys => _keys.Count;

    /// <summary>How long a try waits once a username has <paramref name="failures"/> failures (more than the free ones).</summary>
    public static TimeSpan Delay(UserOptions o, int failures)
    {
        var doublings = Math.Min(failures - o.UsernameFailuresBeforeDelay - 1, 40);
        var ticks = o.UsernameDelayBase.Ticks * Math.Pow(2, Math.Max(0, doublings));
        return ticks >= o.UsernameDelayMax.Ticks ? o.UsernameDelayMax : TimeSpan.FromTicks((long)ticks);
    }

    private static LoginThrottleDecision Decide(UserOptions o, DateTimeOffset now, FailureWindow address, FailureWindow name, string addressKey, string nameKey)
    {
        if (address.Count >= o.MaxFailuresPerAddress)
        {
            return LoginThrottleDecision.Blocked(address.Oldest + o.FailureWindow - now, "too many failed logins from this address");
        }
        // An address without failures is not the guesser: the username's delay does not apply to it.
        var exempt = address.Count == 0;
        if (!exempt && name.Count >= o.UsernameFailuresBeforeDelay && now < name.NextAttemptAt)
        {
            return LoginThrottleDecision.Blocked(name.NextAttemptAt - now, "too many failed logins for this username");
        }
        return LoginThrottleDecision.Admitted(addressKey, nameKey, now);
    }

    private static string UsernameKey(string username) => "u:" + username.ToLowerInvariant();

    private static string AddressKey(string address) => "a:" + address;

    private void Sweep(DateTimeOffset now)
    {
        var o = options.Value;
        var cutoff = now - o.FailureWindow;
        foreach (var (key, window) in _keys)
        {
            lock (window)
            {
                window.Expire(cutoff);
                if (window.Count == 0 && window.NextAttemptAt <= now)
                {
                    _keys.TryRemove(key, out _);
                }
            }
        }
        if (_keys.Count <= o.MaxThrottleKeys)
        {
            return;
        }
        // Still full of live keys: forget the ones whose newest failure is oldest.
        var stalest = _keys.OrderBy(p => p.Value.Newest).Take(_keys.Count - (o.MaxThrottleKeys / 2)).Select(p => p.Key).ToList();
        foreach (var key in stalest)
        {
            _keys.TryRemove(key, out _);
        }
    }

    /// <summary>Failure times of one key, oldest first, capped (older ones no longer matter).</summary>
    private sealed class FailureWindow
    {
        private readonly List<DateTimeOffset> _times = [];

        public int Count => _times.Count;
        public DateTimeOffset Oldest => _times[0];
        public DateTimeOffset Newest { get; private set; }

        /// <summary>Username keys: when the next try from an address with failures may run.</summary>
        public DateTimeOffset NextAttemptAt { get; set; }

        public void Add(DateTimeOffset at, int cap)
        {
            _times.Add(at);
            Newest = at;
            if (_times.Count > cap)
            {
                _times.RemoveRange(0, _times.Count - cap);
            }
        }

        public void Remove(DateTimeOffset at)
        {
            var index = _times.LastIndexOf(at);
            if (index >= 0)
            {
                _times.RemoveAt(index);
            }
        }

        public void Expire(DateTimeOffset cutoff)
        {
            var expired = 0;
            while (expired < _times.Count && _times[expired] <= cutoff)
            {
                expired++;
            }
            if (expired > 0)
            {
                _times.RemoveRange(0, expired);
            }
        }
    }
}

public readonly record struct LoginThrottleDecision(bool IsAllowed, TimeSpan RetryAfter, string? Reason)
{
    internal string? AddressKey { get; init; }
    internal string? UsernameKey { get; init; }
    internal DateTimeOffset ChargedAt { get; init; }

    internal static LoginThrottleDecision Admitted(string addressKey, string usernameKey, DateTimeOffset at) =>
        new(true, TimeSpan.Zero, null) { AddressKey = addressKey, UsernameKey = usernameKey, ChargedAt = at };

    public static LoginThrottleDecision Blocked(TimeSpan retryAfter, string reason) =>
        new(false, retryAfter < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : retryAfter, reason);
}
