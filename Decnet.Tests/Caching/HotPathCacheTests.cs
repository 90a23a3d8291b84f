using Decnet.Core.Attackers;
using Decnet.Core.Bounty;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Overview;
using Decnet.Core.Search;
using Decnet.Core.Storage;
using Decnet.Tests.Attackers;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Caching;

/// <summary>
/// The unfiltered hot paths (stats, first page of logs, histogram, attackers, bounty) on the real services
/// and a real database: many concurrent readers cause one database load, a filtered read always sees the
/// database, and a committed ingest batch or profiler pass makes the next read fresh.
/// </summary>
public sealed class HotPathCacheTests : IAsyncLifetime
{
    private const int Callers = 64;

    // Fixed time: nothing expires by itself during a test.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private CoreTestBed _bed = null!;

    public async ValueTask InitializeAsync()
    {
        _bed = await CoreTestBed.StartAsync(time: _time);
        await AttackerSeed.AddAsync(_bed.Services, AttackerSeed.Scenario());
        await _bed.Services.GetRequiredService<AttackerProfiler>().RunOnceAsync(CancellationToken.None);
        await using var db = await Db();
        db.Bounties.Add(Bounty("credential", "198.51.100.7"));
        await db.SaveChangesAsync();
    }

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    private T Get<T>() where T : notnull => _bed.Services.GetRequiredService<T>();

    private Task<DecnetDbContext> Db() => Get<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();

    private static BountyRecord Bounty(string type, string ip) =>
        new() { Decky = "decky-01", Service = "ssh", AttackerIp = ip, BountyType = type, Payload = "{}", Timestamp = DateTime.UtcNow };

    /// <summary>Callers started at once from the thread pool; returns their results.</summary>
    private static async Task<T[]> ConcurrentlyAsync<T>(Func<Task<T>> read) =>
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(read)));

    [Fact]
    public async Task Concurrent_stats_readers_cause_one_load_and_share_its_result()
    {
        var stats = Get<EventStatistics>();
        var before = stats.Loads;
        var results = await ConcurrentlyAsync(() => stats.GetSummaryAsync(CancellationToken.None));
        Assert.Equal(1, stats.Loads - before);
        Assert.All(results, r => Assert.Same(results[0], r));
        Assert.Equal(9, results[0].TotalInteractions);
        Assert.Equal(2, results[0].UniqueAttackers);
    }

    [Fact]
    public async Task Concurrent_first_page_and_histogram_readers_cause_one_load_each_and_filters_bypass_them()
    {
        var search = Get<LogSearch>();
        var pages = await ConcurrentlyAsync(() => search.SearchAsync(LogQuery.Empty, null, null, LogSearch.DefaultLimit, 0, CancellationToken.None));
        var histograms = await ConcurrentlyAsync(() => search.HistogramAsync(LogQuery.Empty, null, null, LogSearch.DefaultIntervalMinutes, CancellationToken.None));
        Assert.Equal((1, 1, 1), search.CacheLoads);
        Assert.Equal(9, pages[0].Total);
        Assert.All(pages, p => Assert.Same(pages[0], p));
        Assert.All(histograms, h => Assert.Same(histograms[0], h));

        // Written behind the ingest's back: the shared entries do not see it, filtered reads do.
        await AttackerSeed.AddAsync(_bed.Services, AttackerSeed.Log(50, "decky-03", "smtp", "connect", "192.0.2.77"));
        Assert.Same(pages[0], await search.SearchAsync(LogQuery.Empty, null, null, LogSearch.DefaultLimit, 0, CancellationToken.None));
        var filtered = await search.SearchAsync(LogQuery.Parse("decky:decky-03").Query!, null, null, LogSearch.DefaultLimit, 0, CancellationToken.None);
        Assert.Equal("192.0.2.77", Assert.Single(filtered.Data).AttackerIp);
        var secondPage = await search.SearchAsync(LogQuery.Empty, null, null, 5, 0, CancellationToken.None);
        Assert.Equal("decky-03", secondPage.Data[0].Decky);
        var filteredHistogram = await search.HistogramAsync(LogQuery.Parse("service:smtp").Query!, null, null, LogSearch.DefaultIntervalMinutes, CancellationToken.None);
        Assert.Equal(1, Assert.Single(filteredHistogram).Count);
        Assert.Equal((1, 1, 1), search.CacheLoads);
    }

    [Fact]
    public async Task A_committed_ingest_batch_makes_the_next_unfiltered_read_fresh()
    {
        var search = Get<LogSearch>();
        var stats = Get<EventStatistics>();
        var before = await search.SearchAsync(LogQuery.Empty, null, null, LogSearch.DefaultLimit, 0, CancellationToken.None);
        Assert.Equal(9, (await stats.GetSummaryAsync(CancellationToken.None)).TotalInteractions);

        var e = new HoneypotEvent(_time.GetUtcNow(), "decky-09", "ftp", "connect", [new("src_ip", "192.0.2.99")]);
        await Get<EventIngester>().WriteBatchAsync([new(Rfc5424Formatter.Format(e), "hot-path-1")], CancellationToken.None);

        var after = await search.SearchAsync(LogQuery.Empty, null, null, LogSearch.DefaultLimit, 0, CancellationToken.None);
        Assert.Equal(before.Total + 1, after.Total);
        Assert.Equal("decky-09", after.Data[0].Decky);
        Assert.Equal(10, (await stats.GetSummaryAsync(CancellationToken.None)).TotalInteractions);
    }

    [Fact]
    public async Task Concurrent_attacker_list_readers_cause_one_load_per_sort_and_filters_bypass_it()
    {
        var directory = Get<AttackerDirectory>();
        var before = directory.FirstPageLoads;
        var pages = await ConcurrentlyAsync(() => directory.ListAsync(new AttackerQuery(), CancellationToken.None));
        Assert.Equal(1, directory.FirstPageLoads - before);
        Assert.All(pages, p => Assert.Same(pages[0], p));
        Assert.Equal(2, pages[0].Total);

        await using (var db = await Db())
        {
            db.Attackers.Add(new Attacker { Ip = "192.0.2.200", FirstSeen = DateTime.UtcNow, LastSeen = DateTime.UtcNow, EventCount = 1, Services = "[\"smtp\"]" });
            await db.SaveChangesAsync();
        }
        Assert.Same(pages[0], await directory.ListAsync(new AttackerQuery(), CancellationToken.None));
        Assert.Single((await directory.ListAsync(new AttackerQuery(Search: "192.0.2.200"), CancellationToken.None)).Data);
        Assert.Single((await directory.ListAsync(new AttackerQuery(Service: "smtp"), CancellationToken.None)).Data);
        Assert.Equal(3, (await directory.ListAsync(new AttackerQuery(Offset: 0, Limit: 10), CancellationToken.None)).Total);
        Assert.Equal(1, directory.FirstPageLoads - before);

        // A profiler pass that commits makes the shared page fresh.
        await AttackerSeed.AddAsync(_bed.Services, AttackerSeed.Log(60, "decky-01", "ssh", "connect", "192.0.2.201"));
        await Get<AttackerProfiler>().RunOnceAsync(CancellationToken.None);
        Assert.Equal(4, (await directory.ListAsync(new AttackerQuery(), CancellationToken.None)).Total);
    }

    [Fact]
    public async Task Concurrent_bounty_readers_cause_one_load_and_filters_bypass_it()
    {
        var query = Get<BountyQuery>();
        var before = query.FirstPageLoads;
        var pages = await ConcurrentlyAsync(() => query.ListAsync(BountyQuery.DefaultLimit, 0, null, null, CancellationToken.None));
        Assert.Equal(1, query.FirstPageLoads - before);
        Assert.All(pages, p => Assert.Same(pages[0], p));

        await using (var db = await Db())
        {
            db.Bounties.Add(Bounty("fingerprint", "192.0.2.5"));
            await db.SaveChangesAsync();
        }
        Assert.Equal(1, (await query.ListAsync(BountyQuery.DefaultLimit, 0, null, null, CancellationToken.None)).Total);
        Assert.Equal(1, (await query.ListAsync(BountyQuery.DefaultLimit, 0, "fingerprint", null, CancellationToken.None)).Total);
        Assert.Equal(1, (await query.ListAsync(BountyQuery.DefaultLimit, 0, null, "192.0.2.5", CancellationToken.None)).Total);
    }
}

/// <summary>The auth layer's user lookup: an expired entry under load is one query, not one per request.</summary>
public sealed class UserLookupSingleFlightTests
{
    [Fact]
    public async Task Concurrent_lookups_of_an_uncached_user_share_one_query_and_a_write_refreshes_it()
    {
        await using var bed = await CoreTestBed.StartAsync();
        var user = await bed.CreateActiveUserAsync("analyst", "analyst-password-1", Decnet.Core.Users.UserRole.Viewer);
        var users = bed.Users;

        // Each query builds a new snapshot: every caller holding the same instance means one query served them all.
        var snapshots = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => users.FindAsync(user.Id, CancellationToken.None))));
        Assert.NotNull(snapshots[0]);
        Assert.All(snapshots, s => Assert.Same(snapshots[0], s));

        var changed = await users.ChangePasswordAsync(user.Id, "analyst-password-1", "analyst-password-2", CancellationToken.None);
        Assert.True(changed.Succeeded);
        var fresh = await users.FindAsync(user.Id, CancellationToken.None);
        Assert.NotSame(snapshots[0], fresh);
        Assert.NotEqual(snapshots[0]!.SecurityStamp, fresh!.SecurityStamp);
    }
}
