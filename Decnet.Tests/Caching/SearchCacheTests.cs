using Decnet.Core.Attackers;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Search;
using Decnet.Tests.Attackers;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Caching;

/// <summary>
/// The per-query caches of searches (log searches, later pages, attacker searches) on the real services and
/// a real database. The clock is fixed, so nothing expires by itself: whatever a test sees change, the
/// writers' commit made it visible, within the cache's lifetime.
/// </summary>
public sealed class SearchCacheTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private CoreTestBed _bed = null!;

    public async ValueTask InitializeAsync()
    {
        _bed = await CoreTestBed.StartAsync(time: _time);
        await AttackerSeed.AddAsync(_bed.Services, AttackerSeed.Scenario());
        await Get<AttackerProfiler>().RunOnceAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    private T Get<T>() where T : notnull => _bed.Services.GetRequiredService<T>();

    private static LogQuery Query(string text)
    {
        var parsed = LogQuery.Parse(text);
        Assert.True(parsed.Succeeded, parsed.Error);
        return parsed.Query!;
    }

    private Task<LogPage> FindAsync(string text, int limit = 20, int offset = 0) =>
        Get<LogSearch>().SearchAsync(Query(text), null, null, limit, offset, CancellationToken.None);

    private Task IngestAsync(string key, string decky, string service, string ip) =>
        Get<EventIngester>().WriteBatchAsync(
            [new(Rfc5424Formatter.Format(new HoneypotEvent(_time.GetUtcNow(), decky, service, "auth_attempt", [new("src_ip", ip), new("username", "admin")])), key)],
            CancellationToken.None);

    [Fact]
    public async Task A_new_event_shows_up_in_a_cached_log_search_as_soon_as_its_ingest_batch_commits()
    {
        var search = Get<LogSearch>();
        var before = await FindAsync("service:ssh");
        Assert.Equal(6, before.Total);
        var loads = search.QueryCacheLoads;
        Assert.Same(before, await FindAsync("service:ssh"));
        Assert.Equal(loads, search.QueryCacheLoads);
        var histogram = await search.HistogramAsync(Query("service:ssh"), null, null, 60, CancellationToken.None);
        Assert.Equal(6, histogram.Sum(b => b.Count));

        await IngestAsync("search-cache-1", "decky-07", "ssh", "192.0.2.44");

        var after = await FindAsync("service:ssh");
        Assert.Equal(7, after.Total);
        Assert.Equal("decky-07", after.Data[0].Decky);
        Assert.Equal("192.0.2.44", after.Data[0].AttackerIp);
        Assert.Equal(7, (await search.HistogramAsync(Query("service:ssh"), null, null, 60, CancellationToken.None)).Sum(b => b.Count));
        // A later page of the same search moves too: the new row pushed the oldest ssh row onto page 2.
        Assert.Equal("decky-01", Assert.Single((await FindAsync("service:ssh", limit: 6, offset: 6)).Data).Decky);
    }

    [Fact]
    public async Task A_new_attacker_shows_up_in_a_cached_attacker_search_once_the_profiler_commits()
    {
        var directory = Get<AttackerDirectory>();
        var query = new AttackerQuery(Search: "192.0.2.");
        Assert.Empty((await directory.ListAsync(query, CancellationToken.None)).Data);
        var bySsh = await directory.ListAsync(new AttackerQuery(Service: "ssh"), CancellationToken.None);
        Assert.Equal("198.51.100.7", Assert.Single(bySsh.Data).Ip);
        Assert.Same(bySsh, await directory.ListAsync(new AttackerQuery(Service: "ssh"), CancellationToken.None));

        await IngestAsync("search-cache-2", "decky-03", "ssh", "192.0.2.45");
        await Get<AttackerProfiler>().RunOnceAsync(CancellationToken.None);

        Assert.Equal("192.0.2.45", Assert.Single((await directory.ListAsync(query, CancellationToken.None)).Data).Ip);
        Assert.Equal(2, (await directory.ListAsync(new AttackerQuery(Service: "ssh"), CancellationToken.None)).Total);
    }

    [Fact]
    public async Task Spellings_of_one_search_share_one_entry_and_different_searches_do_not()
    {
        var search = Get<LogSearch>();
        var first = await FindAsync("service:ssh decky:decky-01");
        var pages = search.QueryCacheLoads.Pages;
        Assert.Same(first, await FindAsync("  decky:decky-01   service:ssh "));
        Assert.Same(first, await FindAsync("'decky:decky-01' \"service:ssh\""));
        Assert.Equal(pages, search.QueryCacheLoads.Pages);
        Assert.Equal(5, first.Total);

        // Values stay exact: another value, another case of it, or another page is another search.
        Assert.Equal(0, (await FindAsync("service:SSH decky:decky-01")).Total);
        Assert.Equal(1, (await FindAsync("service:ssh decky:decky-02")).Total);
        Assert.Equal(5, (await FindAsync("service:ssh decky:decky-01", limit: 2)).Total);
        Assert.Equal(pages + 3, search.QueryCacheLoads.Pages);

        var directory = Get<AttackerDirectory>();
        var loads = directory.QueryLoads;
        var attackers = await directory.ListAsync(new AttackerQuery(Search: "198.51"), CancellationToken.None);
        Assert.Same(attackers, await directory.ListAsync(new AttackerQuery(Search: " 198.51 "), CancellationToken.None));
        Assert.Equal(loads + 1, directory.QueryLoads);
    }

    [Fact]
    public async Task Cached_pages_of_long_attacker_lines_stay_within_the_byte_budget_and_an_oversized_page_is_served_but_not_kept()
    {
        // 250 rows with 40,000-character lines (as an attacker can make them): ~20 MB of text together.
        var rows = Enumerable.Range(0, 250).Select(i =>
        {
            var row = AttackerSeed.Log(100 + i, "decky-09", "smtp", "command", "192.0.2.50");
            row.RawLine = new string((char)('a' + (i % 26)), 40_000);
            return row;
        }).ToArray();
        await AttackerSeed.AddAsync(_bed.Services, rows);
        var search = Get<LogSearch>();

        var whole = await FindAsync("decky:decky-09", limit: 1000);
        Assert.Equal(250, whole.Data.Count);
        Assert.True(LogSearch.SizeOf(whole) > LogSearch.QueryCacheBytes, $"{LogSearch.SizeOf(whole)} bytes");
        Assert.InRange(search.QueryCacheHeld.PageBytes, 0, LogSearch.QueryCacheBytes);
        var loads = search.QueryCacheLoads.Pages;
        Assert.NotSame(whole, await FindAsync("decky:decky-09", limit: 1000));
        Assert.Equal(loads + 1, search.QueryCacheLoads.Pages);

        // Five pages of ~4 MB each: the oldest ones make room, and what is held stays within the budget.
        for (var offset = 0; offset < 250; offset += 50)
        {
            var page = await FindAsync("decky:decky-09", limit: 50, offset: offset);
            Assert.Equal(new string((char)('a' + ((249 - offset) % 26)), 40_000), page.Data[0].RawLine);
            Assert.InRange(search.QueryCacheHeld.PageBytes, LogSearch.SizeOf(page), LogSearch.QueryCacheBytes);
        }
        Assert.InRange(search.QueryCacheHeld.Pages, 1, 4);
    }
}
