namespace Decnet.Core.Caching;

/// <summary>
/// One value that many readers want at once (the unfiltered first page of a list, the headline numbers):
/// it is loaded by a single caller at a time (single flight) and shared for <see cref="Lifetime"/>.
/// The load runs without any caller's token, so a cancelled request cannot fail the others; each caller
/// only stops waiting. A failed or cancelled load is not kept: the next caller starts a new one.
/// </summary>
/// <remarks>
/// <para>Freshness: besides the lifetime, an optional <c>generation</c> (a counter the writers advance, such
/// as committed ingest batches) is read before each load; when it has moved, the next caller loads again.
/// Writers need not know the caches, and a commit during a load is never hidden behind that load.</para>
/// <para>Hand-written rather than HybridCache: each hot path holds exactly one entry, the value is shared
/// as the same immutable instance (no serialisation per hit), and expiry follows the injected
/// <see cref="TimeProvider"/> so tests control it.</para>
/// </remarks>
public sealed class SingleFlightCache<T>
{
    private readonly TimeProvider _time;
    private readonly Func<CancellationToken, Task<T>> _load;
    private readonly Func<long>? _generation;
    private readonly long _lifetimeTicks;
    private readonly Lock _gate = new();
    private Entry? _entry;
    private long _loads;

    public SingleFlightCache(TimeProvider time, TimeSpan lifetime, Func<CancellationToken, Task<T>> load, Func<long>? generation = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        _time = time;
        _load = load;
        _generation = generation;
        Lifetime = lifetime;
        _lifetimeTicks = (long)(lifetime.TotalSeconds * time.TimestampFrequency);
    }

    public TimeSpan Lifetime { get; }

    /// <summary>How many loads were started: callers minus this is what the cache saved.</summary>
    public long Loads => Interlocked.Read(ref _loads);

    public Task<T> GetAsync(CancellationToken cancellationToken)
    {
        // The hit path takes no lock: hundreds of requests a second read the same entry.
        var entry = Volatile.Read(ref _entry);
        if (entry is null || !IsCurrent(entry, _time.GetTimestamp()))
        {
            entry = Renew();
        }
        var shared = entry.Load;
        return shared.IsCompleted ? shared : shared.WaitAsync(cancellationToken);
    }

    private bool IsCurrent(Entry entry, long now) =>
        now < entry.ExpiresAt && (_generation?.Invoke() ?? 0) == entry.Generation && !entry.Load.IsFaulted && !entry.Load.IsCanceled;

    private Entry Renew()
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (_entry is { } current && IsCurrent(current, now))
            {
                return current;
            }
            // Read before the load starts, so a commit during the load makes the next caller load again.
            var generation = _generation?.Invoke() ?? 0;
            Interlocked.Increment(ref _loads);
            // Queued, not run inline: a loader that blocks before its first await must not hold the lock.
            var entry = new Entry(Task.Run(() => _load(CancellationToken.None)), now + _lifetimeTicks, generation);
            Volatile.Write(ref _entry, entry);
            return entry;
        }
    }

    /// <summary>The source changed: the next caller loads again (a load in flight still serves its waiters).</summary>
    public void Invalidate()
    {
        lock (_gate)
        {
            Volatile.Write(ref _entry, null);
        }
    }

    private sealed record Entry(Task<T> Load, long ExpiresAt, long Generation);
}
