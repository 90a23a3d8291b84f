using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Decnet.Core.Caching;

/// <summary>
/// Short-lived results keyed by query (a filtered log page, a search's count): many operators and API
/// clients polling the same search share one database load per <see cref="Lifetime"/>, loaded by a single
/// caller at a time, exactly like <see cref="SingleFlightCache{T}"/> but for many keys. A moved generation
/// (an ingest commit) makes the next read of every key fresh. When a value has only aged (no commit since),
/// the caller that finds it expired waits for the reload while the others keep getting the aged value until
/// the reload lands, so a reload never stalls every reader of a popular search.
/// </summary>
/// <remarks>
/// Attackers write what these results hold (raw lines, field values, commands) and anyone with a login
/// chooses the queries, so memory is bounded two ways: at most <see cref="Capacity"/> keys, and, when the
/// cache is given a size measure, at most <see cref="MaxBytes"/> of values. A full cache first drops
/// expired entries, then others; a value larger than the whole budget still answers the callers waiting
/// for it but is not kept.
/// </remarks>
public sealed class QueryCache<TKey, TValue>
    where TKey : notnull
{
    private readonly TimeProvider _time;
    private readonly Func<TKey, CancellationToken, Task<TValue>> _load;
    private readonly Func<long>? _generation;
    private readonly Func<TValue, long>? _size;
    private readonly long _lifetimeTicks;
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();
    private readonly Lock _gate = new();
    private long _loads;
    private long _bytes;

    public QueryCache(TimeProvider time, TimeSpan lifetime, int capacity, Func<TKey, CancellationToken, Task<TValue>> load, Func<long>? generation = null)
        : this(time, lifetime, capacity, load, generation, null, long.MaxValue)
    {
    }

    /// <param name="size">Estimated bytes a value holds (measured once, when its load completes).</param>
    /// <param name="maxBytes">The most the kept values may hold together, by <paramref name="size"/>.</param>
    public QueryCache(TimeProvider time, TimeSpan lifetime, int capacity, Func<TKey, CancellationToken, Task<TValue>> load, Func<long>? generation,
        Func<TValue, long>? size, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        _time = time;
        _load = load;
        _generation = generation;
        _size = size;
        Lifetime = lifetime;
        Capacity = capacity;
        MaxBytes = maxBytes;
        _lifetimeTicks = (long)(lifetime.TotalSeconds * time.TimestampFrequency);
    }

    public TimeSpan Lifetime { get; }

    public int Capacity { get; }

    /// <summary>The budget of the kept values' estimated bytes (unbounded without a size measure).</summary>
    public long MaxBytes { get; }

    /// <summary>Loads started so far: callers minus this is what the cache saved.</summary>
    public long Loads => Interlocked.Read(ref _loads);

    /// <summary>Keys held now (never more than <see cref="Capacity"/>).</summary>
    public int Count => _entries.Count;

    /// <summary>Estimated bytes of the values held now (never more than <see cref="MaxBytes"/>).</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    public Task<TValue> GetAsync(TKey key, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (!_entries.TryGetValue(key, out var entry) || !IsCurrent(entry, now))
        {
            // The caller that finds the entry expired waits for the new value.
            entry = Renew(key);
        }
        else if (!entry.Load.IsCompleted && entry.Previous is { } previous && IsServable(previous, now))
        {
            // While a value that only aged is being reloaded, the others get the previous one: nothing was
            // committed since (same generation), so it is what the database still says, and under load a
            // reload queues behind every request in flight.
            return previous.Load;
        }
        var shared = entry.Load;
        return shared.IsCompleted ? shared : shared.WaitAsync(cancellationToken);
    }

    /// <summary>An aged value can stand in for its reload: loaded, no commit since, and at most one lifetime past its expiry.</summary>
    private bool IsServable(Entry entry, long now) =>
        entry.Load.IsCompletedSuccessfully && (_generation?.Invoke() ?? 0) == entry.Generation && now < entry.ExpiresAt + _lifetimeTicks;

    private bool IsCurrent(Entry entry, long now) =>
        now < entry.ExpiresAt && (_generation?.Invoke() ?? 0) == entry.Generation && !entry.Load.IsFaulted && !entry.Load.IsCanceled;

    private Entry Renew(TKey key)
    {
        Entry entry;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (_entries.TryGetValue(key, out var current) && IsCurrent(current, now))
            {
                return current;
            }
            if (_entries.Count >= Capacity && current is null)
            {
                EvictLocked(now, Capacity - 1, MaxBytes, keep: null);
            }
            var generation = _generation?.Invoke() ?? 0;
            Interlocked.Increment(ref _loads);
            // The load runs without any caller's token: one caller giving up must not fail the others.
            var holder = new StrongBox<Entry>();
            entry = new Entry(Task.Run(() => LoadAsync(key, holder)), now + _lifetimeTicks, generation);
            holder.Value = entry;
            if (current is not null)
            {
                if (current.Generation == generation && current.Load.IsCompletedSuccessfully)
                {
                    // Kept (and still charged) until the reload completes: see GetAsync.
                    entry.Previous = current;
                    entry.Inherited = current.Size + current.Inherited;
                    current.Previous = null;
                    current.Inherited = 0;
                }
                else
                {
                    _bytes -= current.Size + current.Inherited;
                    current.Inherited = 0;
                    current.Previous = null;
                }
            }
            _entries[key] = entry;
        }
        return entry;
    }

    /// <summary>The load, measured before it completes: no caller sees a value the budget has not counted.</summary>
    private async Task<TValue> LoadAsync(TKey key, StrongBox<Entry> holder)
    {
        TValue value;
        try
        {
            value = await _load(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            Measure(key, holder, 0);
            throw;
        }
        Measure(key, holder, _size is null ? 0 : Math.Max(0, _size(value)));
        return value;
    }

    /// <summary>Charges a loaded value to the budget, dropping others (or itself) to stay within it.</summary>
    private void Measure(TKey key, StrongBox<Entry> holder, long size)
    {
        lock (_gate)
        {
            // Set under this gate by Renew before it let go of it.
            var entry = holder.Value!;
            if (!_entries.TryGetValue(key, out var current) || !ReferenceEquals(current, entry))
            {
                return;
            }
            // The new value (or the failure) replaces the previous one for every caller from now on.
            _bytes -= entry.Inherited;
            entry.Inherited = 0;
            entry.Previous = null;
            if (size > MaxBytes)
            {
                _entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry));
                return;
            }
            entry.Size = size;
            _bytes += size;
            if (_bytes > MaxBytes)
            {
                EvictLocked(_time.GetTimestamp(), Capacity, MaxBytes, keep: entry);
            }
        }
    }

    /// <summary>Drops expired entries, then others, until at most <paramref name="count"/> keys and <paramref name="bytes"/> remain.</summary>
    private void EvictLocked(long now, int count, long bytes, Entry? keep)
    {
        foreach (var (key, old) in _entries)
        {
            if (!IsCurrent(old, now))
            {
                Remove(key, old);
            }
        }
        foreach (var (key, old) in _entries)
        {
            if (_entries.Count <= count && _bytes <= bytes)
            {
                return;
            }
            if (!ReferenceEquals(old, keep))
            {
                Remove(key, old);
            }
        }
    }

    private void Remove(TKey key, Entry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry)))
        {
            _bytes -= entry.Size + entry.Inherited;
            entry.Inherited = 0;
            entry.Previous = null;
        }
    }

    private sealed class Entry(Task<TValue> load, long expiresAt, long generation)
    {
        public Task<TValue> Load { get; } = load;
        public long ExpiresAt { get; } = expiresAt;
        public long Generation { get; } = generation;

        /// <summary>Charged to the budget once measured; written and read under the cache's gate only.</summary>
        public long Size { get; set; }

        /// <summary>The aged value this entry reloads, served to others until the reload completes; changed under the gate.</summary>
        public Entry? Previous { get; set; }

        /// <summary>Bytes of <see cref="Previous"/> still charged to the budget; under the gate only.</summary>
        public long Inherited { get; set; }
    }
}
