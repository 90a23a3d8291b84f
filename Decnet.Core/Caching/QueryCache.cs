using System.Collections.Concurrent;

namespace Decnet.Core.Caching;

/// <summary>
/// Short-lived results keyed by query (a filtered log page, a search's count): many operators and API
/// clients polling the same search share one database load per <see cref="Lifetime"/>, loaded by a single
/// caller at a time, exactly like <see cref="SingleFlightCache{T}"/> but for many keys. A moved generation
/// (an ingest commit) makes the next read of every key fresh. At most <see cref="Capacity"/> keys are kept:
/// a full cache first drops expired entries, then everything, so its memory stays bounded whatever
/// queries arrive.
/// </summary>
public sealed class QueryCache<TKey, TValue>
    where TKey : notnull
{
    private readonly TimeProvider _time;
    private readonly Func<TKey, CancellationToken, Task<TValue>> _load;
    private readonly Func<long>? _generation;
    private readonly long _lifetimeTicks;
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();
    private readonly Lock _gate = new();
    private long _loads;

    public QueryCache(TimeProvider time, TimeSpan lifetime, int capacity, Func<TKey, CancellationToken, Task<TValue>> load, Func<long>? generation = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        _load = load;
        _generation = generation;
        Lifetime = lifetime;
        Capacity = capacity;
        _lifetimeTicks = (long)(lifetime.TotalSeconds * time.TimestampFrequency);
    }

    public TimeSpan Lifetime { get; }

    public int Capacity { get; }

    /// <summary>Loads started so far: callers minus this is what the cache saved.</summary>
    public long Loads => Interlocked.Read(ref _loads);

    /// <summary>Keys held now (never more than <see cref="Capacity"/>).</summary>
    public int Count => _entries.Count;

    public Task<TValue> GetAsync(TKey key, CancellationToken cancellationToken)
    {
        if (!_entries.TryGetValue(key, out var entry) || !IsCurrent(entry, _time.GetTimestamp()))
        {
            entry = Renew(key);
        }
        var shared = entry.Load;
        return shared.IsCompleted ? shared : shared.WaitAsync(cancellationToken);
    }

    private bool IsCurrent(Entry entry, long now) =>
        now < entry.ExpiresAt && (_generation?.Invoke() ?? 0) == entry.Generation && !entry.Load.IsFaulted && !entry.Load.IsCanceled;

    private Entry Renew(TKey key)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (_entries.TryGetValue(key, out var current) && IsCurrent(current, now))
            {
                return current;
            }
            if (_entries.Count >= Capacity && !_entries.ContainsKey(key))
            {
                foreach (var (stale, old) in _entries)
                {
                    if (!IsCurrent(old, now))
                    {
                        _entries.TryRemove(stale, out _);
                    }
                }
                if (_entries.Count >= Capacity)
                {
                    _entries.Clear();
                }
            }
            var generation = _generation?.Invoke() ?? 0;
            Interlocked.Increment(ref _loads);
            // The load runs without any caller's token: one caller giving up must not fail the others.
            var entry = new Entry(Task.Run(() => _load(key, CancellationToken.None)), now + _lifetimeTicks, generation);
            _entries[key] = entry;
            return entry;
        }
    }

    private sealed record Entry(Task<TValue> Load, long ExpiresAt, long Generation);
}
