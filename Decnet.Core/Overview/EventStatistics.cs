using Decnet.Core.Attackers;
using Decnet.Core.Caching;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Notifications;
using Decnet.Core.Storage;
using Decnet.Core.Swarm;
using Microsoft.EntityFrameworkCore;
using Decnet.Core.Ingest;
using Decnet.Core.Events;

namespace Decnet.Core.Overview;

/// <summary>
/// The dashboard's headline numbers. Every open dashboard and every API poll asks for them, and counting
/// <c>logs</c> is a table scan, so one load is shared for <see cref="CacheDuration"/> — or until an ingest
/// batch, a profiler pass, a fleet change or a swarm change (other than a plain heartbeat) commits,
/// whichever comes first. Active deckies are the local ones plus those on active workers reported up.
/// </summary>
public sealed class EventStatistics : IDisposable
{
    public static readonly TimeSpan CacheDuration = TimeSpan.FromSeconds(5);

    private readonly DatabaseReaders _readers;
    private readonly SingleFlightCache<StatsSummary> _summary;
    private readonly IDisposable _fleetSubscription;
    private readonly IDisposable _swarmSubscription;
    private long _fleetChanges;

    public EventStatistics(DatabaseReaders readers, EventIngester ingester, AttackerProfiler profiler, NotificationHub hub, TimeProvider time)
    {
        _readers = readers;
        _fleetSubscription = hub.Subscribe<FleetChanged>(_ =>
        {
            Interlocked.Increment(ref _fleetChanges);
            return Task.CompletedTask;
        });
        // Shards come and go and workers fall silent; a plain heartbeat changes no count.
        _swarmSubscription = hub.Subscribe<SwarmChanged>(change =>
        {
            if (change.Reason != SwarmChangeReasons.Heartbeat)
            {
                Interlocked.Increment(ref _fleetChanges);
            }
            return Task.CompletedTask;
        });
        _summary = new SingleFlightCache<StatsSummary>(time, CacheDuration, LoadAsync,
            () => ingester.CommittedBatches + profiler.CommittedBatches + Interlocked.Read(ref _fleetChanges));
    }

    /// <summary>Loads started, for diagnostics and tests: callers beyond this were served from the cache.</summary>
    public long Loads => _summary.Loads;

    public Task<StatsSummary> GetSummaryAsync(CancellationToken cancellationToken) => _summary.GetAsync(cancellationToken);

    private Task<StatsSummary> LoadAsync(CancellationToken cancellationToken) =>
        _readers.ReadAsync(async (db, ct) =>
        {
            var interactions = await db.Logs.LongCountAsync(ct).ConfigureAwait(false);
            // Distinct source addresses of the stored events, not attacker profiles: the profiler runs after the
            // ingest, so counting profiles left the number behind the events the dashboard already listed.
            var attackers = await db.Logs.Where(l => l.AttackerIp != null).Select(l => l.AttackerIp).Distinct().CountAsync(ct).ConfigureAwait(false);
            var deckies = await db.Deckies.CountAsync(ct).ConfigureAwait(false);
            // Deckies on swarm workers count while their worker is active and reports them up.
            var onWorkers = await db.DeckyShards.CountAsync(
                s => (s.State == DeckyShardState.Running || s.State == DeckyShardState.Degraded) && s.Host!.Status == SwarmHostStatus.Active, ct).ConfigureAwait(false);
            return new StatsSummary(interactions, attackers, deckies + onWorkers);
        }, cancellationToken);

    public void Dispose()
    {
        _fleetSubscription.Dispose();
        _swarmSubscription.Dispose();
    }
}

public sealed record StatsSummary(long TotalInteractions, int UniqueAttackers, int ActiveDeckies);
