using Decnet.Core.Events;
using Decnet.Core.Overview;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Streaming;

/// <summary>
/// What all open streams share: the cap on concurrent streams (overall and per user) and one
/// statistics snapshot, so many streams cost one count query per second, not one each.
/// </summary>
public sealed class EventStreamHub(EventStatistics statistics, IOptions<EventStreamOptions> options, TimeProvider time)
{
    /// <summary>How long one statistics snapshot is shared between streams.</summary>
    public static readonly TimeSpan StatsLifetime = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, int> _perUser = [];
    private int _open;
    private (Task<StatsSummary> Task, long ExpiresAt)? _stats;

    public int OpenStreams
    {
        get
        {
            lock (_lock)
            {
                return _open;
            }
        }
    }

    /// <summary>A slot for one stream of the user, or null when the master or the user is at the cap.</summary>
    public IDisposable? TryOpen(Guid userId)
    {
        var limits = options.Value;
        lock (_lock)
        {
            var mine = _perUser.GetValueOrDefault(userId);
            if (_open >= limits.MaxConcurrentStreams || mine >= limits.MaxStreamsPerUser)
            {
                return null;
            }
            _open++;
            _perUser[userId] = mine + 1;
        }
        return new Lease(this, userId);
    }

    /// <summary>Single flight: streams asking within <see cref="StatsLifetime"/> share one query, run without any one stream's token.</summary>
    public Task<StatsSummary> StatsAsync(CancellationToken cancellationToken)
    {
        Task<StatsSummary> task;
        lock (_lock)
        {
            var now = time.GetTimestamp();
            if (_stats is { } cached && now < cached.ExpiresAt && !cached.Task.IsFaulted && !cached.Task.IsCanceled)
            {
                task = cached.Task;
            }
            else
            {
                task = statistics.GetSummaryAsync(CancellationToken.None);
                _stats = (task, now + (long)(StatsLifetime.TotalSeconds * time.TimestampFrequency));
            }
        }
        return task.WaitAsync(cancellationToken);
    }

    private void Release(Guid userId)
    {
        lock (_lock)
        {
            _open--;
            var left = _perUser.GetValueOrDefault(userId) - 1;
            if (left <= 0)
            {
                _perUser.Remove(userId);
            }
            else
            {
                _perUser[userId] = left;
            }
        }
    }

    private sealed class Lease(EventStreamHub hub, Guid userId) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                hub.Release(userId);
            }
        }
    }
}
