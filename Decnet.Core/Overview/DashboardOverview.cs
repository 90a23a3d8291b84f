using System.Threading.Channels;
using Decnet.Core.Attackers;
using Decnet.Core.Caching;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Events;
using Decnet.Core.Notifications;
using Decnet.Core.Search;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Decnet.Core.Ingest;

namespace Decnet.Core.Overview;

/// <summary>
/// The dashboard's numbers, computed once per change for everybody: the top-N panels and chart of each
/// time window, the headline numbers with the newest events, and the hits per decky for the fleet cards.
/// <para>Pages do not query on each ingest. They read the current value once when they open
/// (<see cref="GetAsync"/> and friends: one load at a time, shared until a commit moves it), register what
/// they show (<see cref="Watch"/>), and then only render what <see cref="RunAsync"/> publishes on the
/// <see cref="NotificationHub"/>: after each ingest batch, profiler pass or fleet change (coalesced to at
/// most one round per <see cref="MinPublishInterval"/>), and every <see cref="SlideInterval"/> so the windows
/// move on when nothing happens. Only what somebody watches is recomputed.</para>
/// </summary>
public sealed class DashboardOverview : IDisposable
{
    public const int TopCount = 10;
    public const int LatestCount = 20;
    public static readonly TimeSpan MinPublishInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan SlideInterval = TimeSpan.FromMinutes(1);

    /// <summary>Long: freshness comes from the writers' commit counters, the lifetime only bounds how stale a window's end may get.</summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(30);

    private readonly DatabaseReaders _readers;
    private readonly SqlDialect _dialect;
    private readonly EventStatistics _statistics;
    private readonly EventLog _events;
    private readonly LogSearch _search;
    private readonly NotificationHub _hub;
    private readonly TimeProvider _time;
    private readonly ILogger<DashboardOverview> _logger;
    private readonly Dictionary<OverviewRange, SingleFlightCache<OverviewSnapshot>> _windows = [];
    private readonly SingleFlightCache<LatestActivity> _latest;
    private readonly SingleFlightCache<IReadOnlyDictionary<string, DeckyActivity>> _deckies;
    private readonly Dictionary<object, int> _watchers = [];
    private readonly Dictionary<object, object> _published = [];
    private readonly Lock _gate = new();
    private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly IDisposable[] _subscriptions;
    private long _fleetChanges;
    private long _rounds;

    private static readonly object LatestKey = new();
    private static readonly object DeckiesKey = new();

    public DashboardOverview(DatabaseReaders readers, IOptions<StorageOptions> storage, EventIngester ingester, AttackerProfiler profiler, EventStatistics statistics,
        EventLog events, LogSearch search, NotificationHub hub, TimeProvider time, ILogger<DashboardOverview> logger)
    {
        _readers = readers;
        _dialect = SqlDialect.For(storage);
        _statistics = statistics;
        _events = events;
        _search = search;
        _hub = hub;
        _time = time;
        _logger = logger;
        Func<long> logsCommitted = () => ingester.CommittedBatches;
        foreach (var range in OverviewRange.All)
        {
            _windows[range] = new SingleFlightCache<OverviewSnapshot>(time, CacheLifetime, ct => LoadWindowAsync(range, ct), logsCommitted);
        }
        // The attacker links and the active decky count move with the profiler and the fleet, not only with the logs.
        _latest = new SingleFlightCache<LatestActivity>(time, CacheLifetime, LoadLatestAsync,
            () => ingester.CommittedBatches + profiler.CommittedBatches + Interlocked.Read(ref _fleetChanges));
        _deckies = new SingleFlightCache<IReadOnlyDictionary<string, DeckyActivity>>(time, CacheLifetime, LoadDeckiesAsync, logsCommitted);
        _subscriptions =
        [
            hub.Subscribe<EventsIngested>(_ => Changed()),
            hub.Subscribe<AttackerUpdated>(_ => Changed()),
            hub.Subscribe<FleetChanged>(_ =>
            {
                Interlocked.Increment(ref _fleetChanges);
                return Changed();
            }),
        ];
    }

    /// <summary>Publishing rounds run so far (diagnostics and tests).</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    /// <summary>Loads of every kind started so far: callers beyond this were served a shared value.</summary>
    public long Loads => _windows.Values.Sum(c => c.Loads) + _latest.Loads + _deckies.Loads;

    public Task<OverviewSnapshot> GetAsync(OverviewRange range, CancellationToken cancellationToken) => _windows[range].GetAsync(cancellationToken);

    public Task<LatestActivity> LatestAsync(CancellationToken cancellationToken) => _latest.GetAsync(cancellationToken);

    public Task<IReadOnlyDictionary<string, DeckyActivity>> DeckyActivityAsync(CancellationToken cancellationToken) => _deckies.GetAsync(cancellationToken);

    /// <summary>A page shows this window: it is recomputed and published while the returned lease lives.</summary>
    public IDisposable Watch(OverviewRange range) => AddWatcher(range);

    /// <summary>A page shows the headline numbers and the newest events.</summary>
    public IDisposable WatchLatest() => AddWatcher(LatestKey);

    /// <summary>A page shows hits per decky.</summary>
    public IDisposable WatchDeckies() => AddWatcher(DeckiesKey);

    /// <summary>Publishes what is watched after every change; the hosted worker runs this for the life of the process.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    await Task.WhenAny(_changes.Reader.WaitToReadAsync(wait.Token).AsTask(), Task.Delay(SlideInterval, _time, wait.Token)).ConfigureAwait(false);
                    await wait.CancelAsync().ConfigureAwait(false);
                }
                cancellationToken.ThrowIfCancellationRequested();
                _changes.Reader.TryRead(out _);
                await PublishAsync(cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _rounds);
                // Batches commit several times a second: later changes fold into the next round.
                await Task.Delay(MinPublishInterval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // A failed round (database busy, disk full) must not end the live dashboard: the next change retries.
                _logger.LogWarning(ex, "The dashboard overview could not be recomputed");
            }
        }
    }

    private async Task PublishAsync(CancellationToken cancellationToken)
    {
        foreach (var range in OverviewRange.All.Where(IsWatched))
        {
            var snapshot = await GetAsync(range, cancellationToken).ConfigureAwait(false);
            if (IsNew(range, snapshot))
            {
                _hub.Publish(new OverviewUpdated(snapshot));
            }
        }
        if (IsWatched(LatestKey))
        {
            var latest = await LatestAsync(cancellationToken).ConfigureAwait(false);
            if (IsNew(LatestKey, latest))
            {
                _hub.Publish(new LatestActivityUpdated(latest));
            }
        }
        if (IsWatched(DeckiesKey))
        {
            var deckies = await DeckyActivityAsync(cancellationToken).ConfigureAwait(false);
            if (IsNew(DeckiesKey, deckies))
            {
                _hub.Publish(new DeckyActivityUpdated(deckies));
            }
        }
    }

    private Task Changed()
    {
        _changes.Writer.TryWrite(true);
        return Task.CompletedTask;
    }

    private bool IsWatched(object key)
    {
        lock (_gate)
        {
            return _watchers.GetValueOrDefault(key) > 0;
        }
    }

    /// <summary>The cache hands out the same instance until it reloads: an unchanged value is not pushed again.</summary>
    private bool IsNew(object key, object value)
    {
        lock (_gate)
        {
            if (_published.TryGetValue(key, out var previous) && ReferenceEquals(previous, value))
            {
                return false;
            }
            _published[key] = value;
            return true;
        }
    }

    private Lease AddWatcher(object key)
    {
        lock (_gate)
        {
            _watchers[key] = _watchers.GetValueOrDefault(key) + 1;
        }
        // A new watcher gets the next round even when nothing changed since the last one.
        Changed();
        return new Lease(() =>
        {
            lock (_gate)
            {
                _watchers[key]--;
            }
        });
    }

    private async Task<OverviewSnapshot> LoadWindowAsync(OverviewRange range, CancellationToken cancellationToken)
    {
        var to = _time.GetUtcNow().UtcDateTime;
        var from = to - range.Window;
        var buckets = await _search.HistogramAsync(LogQuery.Empty, from, null, range.BucketMinutes, cancellationToken).ConfigureAwait(false);
        var (events, attackers, sources, services, deckies, credentials) = await _readers.ReadAsync(async (db, ct) =>
        {
            var window = db.Logs.AsNoTracking().Where(l => l.Timestamp >= from);
            var events = await window.LongCountAsync(ct).ConfigureAwait(false);
            var attackers = await window.Where(l => l.AttackerIp != null).Select(l => l.AttackerIp).Distinct().CountAsync(ct).ConfigureAwait(false);
            var sources = await Top(window.Where(l => l.AttackerIp != null).GroupBy(l => l.AttackerIp!), ct).ConfigureAwait(false);
            var services = await Top(window.GroupBy(l => l.Service), ct).ConfigureAwait(false);
            var deckies = await Top(window.GroupBy(l => l.Decky), ct).ConfigureAwait(false);
            var credentials = await CredentialsAsync(db, from, ct).ConfigureAwait(false);
            return (events, attackers, sources, services, deckies, credentials);
        }, cancellationToken).ConfigureAwait(false);
        return new OverviewSnapshot(range, from, to, events, attackers, Fill(range, buckets, from, to), credentials, sources, services, deckies);
    }

    private static async Task<IReadOnlyList<TopEntry>> Top(IQueryable<IGrouping<string, LogEntry>> groups, CancellationToken cancellationToken)
    {
        var rows = await groups
            .Select(g => new { g.Key, Events = g.LongCount(), LastSeen = g.Max(l => l.Timestamp) })
            .OrderByDescending(g => g.Events).ThenBy(g => g.Key)
            .Take(TopCount)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new TopEntry(r.Key, r.Events, DateTime.SpecifyKind(r.LastSeen, DateTimeKind.Utc)))];
    }

    /// <summary>
    /// Username/password pairs by attempts, with the spellings the bounty rules accept (username or user,
    /// password or pass). The LIKE only skips rows that cannot carry a password before any JSON is parsed.
    /// </summary>
    private async Task<IReadOnlyList<TopCredential>> CredentialsAsync(DecnetDbContext db, DateTime from, CancellationToken cancellationToken)
    {
        var filter = LogFilterSql.Build(_dialect, LogQuery.Empty, from, null);
        var keys = new List<object>();
        string Key(string key)
        {
            var placeholder = $"{{{filter.Parameters.Count + keys.Count}}}";
            keys.Add(_dialect.JsonKey(key));
            return placeholder;
        }
        var username = $"COALESCE({_dialect.FieldText(Key("username"))}, {_dialect.FieldText(Key("user"))})";
        var password = $"COALESCE({_dialect.FieldText(Key("password"))}, {_dialect.FieldText(Key("pass"))})";
        var sql = "SELECT \"Username\", \"Password\", COUNT(*) AS \"Attempts\" FROM (SELECT "
                  + username + " AS \"Username\", " + password + " AS \"Password\" "
                  + "FROM logs WHERE " + filter.Where + " AND " + _dialect.FieldsAsText + " LIKE '%pass%') AS credentials "
                  + "WHERE \"Password\" IS NOT NULL GROUP BY \"Username\", \"Password\" "
                  + "ORDER BY \"Attempts\" DESC, \"Username\", \"Password\" LIMIT " + TopCount;
        // EF1003: fixed text plus placeholders; the time and the JSON keys are bound parameters.
#pragma warning disable EF1003
        var rows = await db.Database.SqlQueryRaw<CredentialRow>(sql, [.. filter.Parameters, .. keys]).ToListAsync(cancellationToken).ConfigureAwait(false);
#pragma warning restore EF1003
        return [.. rows.Select(r => new TopCredential(r.Username, r.Password, r.Attempts))];
    }

    /// <summary>Every bucket from the window's first to the one holding <paramref name="to"/>: the chart always spans the whole window.</summary>
    public static IReadOnlyList<HistogramBucket> Fill(OverviewRange range, IReadOnlyList<HistogramBucket> buckets, DateTime from, DateTime to)
    {
        var counts = buckets.GroupBy(b => b.Time).ToDictionary(g => g.Key, g => g.Sum(b => b.Count));
        var width = TimeSpan.FromMinutes(range.BucketMinutes);
        var filled = new List<HistogramBucket>();
        for (var at = range.BucketStart(from); at <= to; at += width)
        {
            filled.Add(new HistogramBucket(at, counts.GetValueOrDefault(at)));
        }
        return filled;
    }

    private async Task<LatestActivity> LoadLatestAsync(CancellationToken cancellationToken)
    {
        // Events first, numbers second: the counts then include at least every event shown, never fewer.
        var events = await _events.LatestAsync(LatestCount, cancellationToken).ConfigureAwait(false);
        var stats = await _statistics.GetSummaryAsync(cancellationToken).ConfigureAwait(false);
        var ips = events.Select(e => e.AttackerIp).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var profiles = await _readers.ReadAsync((db, ct) => db.Attackers.AsNoTracking().Where(a => ips.Contains(a.Ip))
            .Select(a => new AttackerLink(a.Ip, a.Id)).ToListAsync(ct), cancellationToken).ConfigureAwait(false);
        return new LatestActivity(stats, events, profiles.ToDictionary(p => p.Ip, p => p.Id, StringComparer.Ordinal));
    }

    private async Task<IReadOnlyDictionary<string, DeckyActivity>> LoadDeckiesAsync(CancellationToken cancellationToken)
    {
        // A walk of the (Decky, Timestamp) index: no row is read.
        var rows = await _readers.ReadAsync((db, ct) => db.Logs.AsNoTracking().GroupBy(l => l.Decky)
            .Select(g => new DeckyHits(g.Key, g.LongCount(), g.Max(l => l.Timestamp)))
            .ToListAsync(ct), cancellationToken).ConfigureAwait(false);
        var activity = new Dictionary<string, DeckyActivity>(StringComparer.OrdinalIgnoreCase);
        foreach (var row in rows)
        {
            // Decky names are unique whatever their case; rows shipped by workers may still spell one two ways.
            var seen = DateTime.SpecifyKind(row.LastSeen, DateTimeKind.Utc);
            activity[row.Key] = activity.TryGetValue(row.Key, out var other)
                ? new DeckyActivity(other.Hits + row.Hits, seen > other.LastSeen ? seen : other.LastSeen)
                : new DeckyActivity(row.Hits, seen);
        }
        return activity;
    }

    public void Dispose()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }
    }

    private sealed class Lease(Action release) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                release();
            }
        }
    }

    private sealed record AttackerLink(string Ip, Guid Id);

    private sealed record DeckyHits(string Key, long Hits, DateTime LastSeen);

    /// <summary>Shape of the credentials SQL's rows (EF Core maps the columns by name).</summary>
    private sealed class CredentialRow
    {
        public string? Username { get; set; }
        public string Password { get; set; } = "";
        public long Attempts { get; set; }
    }
}
