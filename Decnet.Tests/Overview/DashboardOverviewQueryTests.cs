using Decnet.Core.Attackers;
using Decnet.Core.Overview;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Search;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Overview;

/// <summary>
/// The dashboard's top-N panels, chart, newest events and per-decky hits computed by the real queries on
/// both storage providers (the credentials panel is hand-written SQL over the Fields JSON).
/// </summary>
[Trait("Category", TestCategories.Integration)]
public abstract class DashboardOverviewQueryTests(StorageProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : DashboardOverviewQueryTests(StorageProvider.Sqlite);

    public sealed class OnPostgres() : DashboardOverviewQueryTests(StorageProvider.Postgres);

    private static readonly DateTime Now = new(2026, 3, 10, 12, 34, 0, DateTimeKind.Utc);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(Now));
    private CoreTestBed _bed = null!;

    private DashboardOverview Overview => _bed.Services.GetRequiredService<DashboardOverview>();

    public async ValueTask InitializeAsync()
    {
        _bed = await CoreTestBed.StartAsync(provider, time: _time);
        await LogSearchTests.SeedAsync(_bed.Services,
            // Two days ago: outside the 24-hour window, inside the week.
            LogSearchTests.Row(Now.AddDays(-2), "old-decky", "ftp", "login", "198.51.100.9", "old", """{"username":"ancient","password":"relic"}"""),
            LogSearchTests.Row(Now.AddHours(-3), "web-01", "ssh", "auth_attempt", "203.0.113.5", "a", """{"username":"root","password":"toor","result":"failure"}"""),
            LogSearchTests.Row(Now.AddHours(-2), "web-01", "ssh", "auth_attempt", "203.0.113.5", "b", """{"username":"root","password":"toor","result":"failure"}"""),
            // The short spellings are the same credential.
            LogSearchTests.Row(Now.AddHours(-1), "web-01", "telnet", "auth_attempt", "203.0.113.6", "c", """{"user":"root","pass":"toor"}"""),
            LogSearchTests.Row(Now.AddMinutes(-30), "DB-02", "redis", "auth", "203.0.113.7", "d", """{"password":"hunter2"}"""),
            LogSearchTests.Row(Now.AddMinutes(-10), "db-02", "http", "request", "203.0.113.5", "e", """{"path":"/pass/word"}"""),
            LogSearchTests.Row(Now.AddMinutes(-5), "web-01", "ssh", "connect", null, "f"));
    }

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task A_window_counts_and_ranks_only_its_own_events()
    {
        var day = await Overview.GetAsync(OverviewRange.Day, CancellationToken.None);

        Assert.Equal(6, day.Events);
        Assert.Equal(3, day.Attackers);
        Assert.Equal(("root", "toor", 3L), (day.Credentials[0].Username, day.Credentials[0].Password, day.Credentials[0].Attempts));
        Assert.Equal((null, "hunter2", 1L), (day.Credentials[1].Username, day.Credentials[1].Password, day.Credentials[1].Attempts));
        Assert.Equal(2, day.Credentials.Count);
        Assert.Equal(["203.0.113.5", "203.0.113.6", "203.0.113.7"], day.Sources.Select(s => s.Key));
        Assert.Equal(3, day.Sources[0].Events);
        Assert.Equal(Now.AddMinutes(-10), day.Sources[0].LastSeen);
        Assert.Equal(("ssh", 3L), (day.Services[0].Key, day.Services[0].Events));
        Assert.Equal(("web-01", 4L), (day.Deckies[0].Key, day.Deckies[0].Events));
        Assert.DoesNotContain(day.Deckies, d => d.Key == "old-decky");

        var week = await Overview.GetAsync(OverviewRange.Week, CancellationToken.None);
        Assert.Equal(7, week.Events);
        Assert.Contains(week.Credentials, c => c.Username == "ancient" && c.Password == "relic");
    }

    [Fact]
    public async Task The_chart_has_every_bucket_of_the_window_with_the_events_in_their_hour()
    {
        var day = await Overview.GetAsync(OverviewRange.Day, CancellationToken.None);

        // 24 hours of hourly buckets, the current (partial) hour included.
        Assert.Equal(25, day.Histogram.Count);
        Assert.Equal(OverviewRange.Day.BucketStart(Now.AddHours(-24)), day.Histogram[0].Time);
        Assert.Equal(OverviewRange.Day.BucketStart(Now), day.Histogram[^1].Time);
        Assert.Equal(6, day.Histogram.Sum(b => b.Count));
        Assert.Equal(3, day.Histogram[^1].Count);
        Assert.Equal(1, day.Histogram.Single(b => b.Time == OverviewRange.Day.BucketStart(Now.AddHours(-3))).Count);
    }

    [Fact]
    public async Task Fleet_cards_get_hits_and_last_activity_per_decky_whatever_the_case_of_its_name()
    {
        var deckies = await Overview.DeckyActivityAsync(CancellationToken.None);

        Assert.Equal(new DeckyActivity(4, Now.AddMinutes(-5)), deckies["web-01"]);
        Assert.Equal(new DeckyActivity(2, Now.AddMinutes(-10)), deckies["db-02"]);
        Assert.Equal(new DeckyActivity(1, Now.AddDays(-2)), deckies["old-decky"]);
    }

    [Fact]
    public async Task The_newest_events_link_to_the_profiles_of_their_attackers()
    {
        var factory = _bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>();
        Guid id;
        await using (var db = await factory.CreateDbContextAsync())
        {
            var attacker = new Attacker { Ip = "203.0.113.5", FirstSeen = Now.AddHours(-3), LastSeen = Now.AddMinutes(-10) };
            db.Attackers.Add(attacker);
            await db.SaveChangesAsync();
            id = attacker.Id;
        }

        var latest = await Overview.LatestAsync(CancellationToken.None);

        Assert.Equal(7, latest.Events.Count);
        Assert.Equal(("web-01", "connect"), (latest.Events[0].Decky, latest.Events[0].EventType));
        Assert.Equal(id, latest.AttackerIds["203.0.113.5"]);
        Assert.False(latest.AttackerIds.ContainsKey("203.0.113.6"));
        Assert.Equal(4, latest.Stats.UniqueAttackers);
    }
}
