using Bunit;
using Decnet.Core.Attackers;
using Decnet.Core.Audit;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Notifications;
using Decnet.Core.Overview;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Web.Components;
using Decnet.Web.Overview.Pages;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Decnet.Tests.Events;

/// <summary>
/// The dashboard follows the ingest live: stat cards, latest events, chart and top-N panels are pushed by the
/// overview publisher (the product's own hosted loop, run here) over the notification hub.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class DashboardLiveTests : IAsyncLifetime
{
    private readonly BunitContext _context = new();
    private readonly CancellationTokenSource _stop = new();
    private CoreTestBed _bed = null!;
    private Task _ingest = Task.CompletedTask;
    private Task _overview = Task.CompletedTask;

    public async ValueTask InitializeAsync()
    {
        _bed = await CoreTestBed.StartAsync();
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        Decnet.Tests.Web.Components.DashboardAuthorization.SignIn(_context, await _bed.CreateActiveUserAsync("analyst", "analyst-password-1", Decnet.Core.Users.UserRole.Viewer));
        _context.Services.AddMudServices();
        _context.Services.AddSingleton(_bed.Services.GetRequiredService<EventStatistics>());
        _context.Services.AddSingleton(_bed.Services.GetRequiredService<Decnet.Core.Search.EventLog>());
        _context.Services.AddSingleton(_bed.Services.GetRequiredService<AuditTrail>());
        _context.Services.AddSingleton(_bed.Services.GetRequiredService<NotificationHub>());
        _context.Services.AddSingleton(_bed.Services.GetRequiredService<Decnet.Core.Search.LogSearch>());
        _context.Services.AddSingleton(_bed.Services.GetRequiredService<DashboardOverview>());
        _context.Services.AddSingleton(TimeProvider.System);
        _ingest = _bed.Services.GetRequiredService<EventIngester>().RunAsync(_stop.Token);
        _overview = _bed.Services.GetRequiredService<DashboardOverview>().RunAsync(_stop.Token);
    }

    /// <summary>A fresh database's first dashboard load (query compilation included) takes seconds on a loaded machine.</summary>
    private static readonly TimeSpan FirstLoad = TimeSpan.FromSeconds(15);

    private ChannelEventSink Sink => _bed.Services.GetRequiredService<ChannelEventSink>();

    private static int Stat(IRenderedComponent<Dashboard> page, string id) =>
        int.Parse(page.Find($"[data-testid={id}] .stat-value").TextContent.Trim().Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await _context.DisposeAsync();
        await _stop.CancelAsync();
        await _ingest;
        await _overview;
        _stop.Dispose();
        await _bed.DisposeAsync();
    }

    [Fact]
    public void New_events_update_the_interaction_count_and_the_latest_events_without_a_reload()
    {
        var page = _context.Render<Dashboard>();
        page.WaitForAssertion(() => Assert.Contains("No attacker events yet", page.Markup, StringComparison.Ordinal), FirstLoad);
        Assert.Equal("0", page.Find("[data-testid=stat-interactions] .stat-value").TextContent.Trim());

        var sink = _bed.Services.GetRequiredService<ChannelEventSink>();
        for (var i = 0; i < 25; i++)
        {
            sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "cache", "redis", "auth", [new("src_ip", $"192.0.2.{i}")]));
        }

        page.WaitForAssertion(() =>
        {
            Assert.Equal("25", page.Find("[data-testid=stat-interactions] .stat-value").TextContent.Trim());
            var rows = page.FindAll("[data-testid=latest-events] tbody tr");
            Assert.Equal(Dashboard.LatestEventCount, rows.Count);
            Assert.Contains("192.0.2.24", rows[0].TextContent, StringComparison.Ordinal);
            Assert.Contains("redis", rows[0].TextContent, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(15));
    }

    [Fact]
    public void Latest_events_show_field_chips_and_an_artifact_icon_that_opens_the_drawer()
    {
        var page = _context.Render<Dashboard>();
        page.WaitForAssertion(() => Assert.Contains("No attacker events yet", page.Markup, StringComparison.Ordinal), FirstLoad);

        var sink = _bed.Services.GetRequiredService<ChannelEventSink>();
        sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "gate", "ssh", "auth_attempt",
            [new("src_ip", "192.0.2.7"), new("username", "root"), new("password", "hunter2")]));
        sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "gate", "ssh", "file_captured",
            [new("src_ip", "192.0.2.7"), new("stored_as", "20261129T120000Z_0123456789ab_dropper.sh"), new("sha256", new string('c', 64)),
             new("size", "42"), new("orig_path", "/tmp/dropper.sh")]));

        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll("[data-testid=latest-events] tbody tr");
            Assert.Equal(2, rows.Count);
            Assert.Contains("orig_path: /tmp/dropper.sh", rows[0].TextContent, StringComparison.Ordinal);
            Assert.Contains("username: root", rows[1].TextContent, StringComparison.Ordinal);
            Assert.Contains("password: hunter2", rows[1].TextContent, StringComparison.Ordinal);
            Assert.DoesNotContain("src_ip", rows[1].TextContent, StringComparison.Ordinal);
            Assert.Empty(rows[1].QuerySelectorAll("[data-testid=artifact]"));
        }, TimeSpan.FromSeconds(15));

        page.TableActionLive("[data-testid=latest-events] tbody tr [data-testid=artifact]");
        page.WaitForAssertion(() =>
        {
            Assert.Contains(new string('c', 64), page.Markup, StringComparison.Ordinal);
            Assert.Contains("/tmp/dropper.sh", page.Markup, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void The_histogram_counts_new_events_live()
    {
        var page = _context.Render<Dashboard>();
        page.WaitForAssertion(() => Assert.Equal("0", page.Find("[data-testid=dashboard-histogram]").GetAttribute("data-total")), FirstLoad);
        Assert.NotNull(page.Find("[data-testid=histogram-empty]"));

        var sink = _bed.Services.GetRequiredService<ChannelEventSink>();
        for (var i = 0; i < 7; i++)
        {
            sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "cache", "redis", "auth", [new("src_ip", $"192.0.2.{i}")]));
        }

        page.WaitForAssertion(() => Assert.Equal("7", page.Find("[data-testid=dashboard-histogram]").GetAttribute("data-total")), TimeSpan.FromSeconds(15));
        Assert.NotNull(page.Find("[data-testid=dashboard-histogram] svg"));
    }

    [Fact]
    public void Unique_attackers_never_lag_the_events_listed_below_them()
    {
        var page = _context.Render<Dashboard>();
        page.WaitForAssertion(() => Assert.Contains("No attacker events yet", page.Markup, StringComparison.Ordinal), FirstLoad);
        // Every render: the addresses in the feed are never more than the unique attackers above it. The profiler
        // does not run here; the count must not wait for attacker profiles.
        var violations = new List<string>();
        page.OnMarkupUpdated += (_, _) =>
        {
            var shown = page.FindAll("[data-testid=latest-row]").Select(r => r.Children[4].TextContent.Trim()).Distinct().Count();
            var unique = page.FindAll("[data-testid=stat-attackers] .stat-value").Select(v => int.Parse(v.TextContent.Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
            if (shown > unique)
            {
                violations.Add($"{shown} addresses listed, {unique} unique attackers");
            }
        };

        for (var i = 0; i < 12; i++)
        {
            Sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "cache", "redis", "auth", [new("src_ip", $"198.51.100.{i}")]));
        }

        page.WaitForAssertion(() => Assert.Equal(12, Stat(page, "stat-attackers")), TimeSpan.FromSeconds(15));
        Assert.Empty(violations);
        Assert.Equal(12, page.FindAll("[data-testid=latest-row]").Count);
    }

    [Fact]
    public async Task An_event_row_opens_its_attacker_once_profiled()
    {
        var page = _context.Render<Dashboard>();
        page.WaitForAssertion(() => Assert.Contains("No attacker events yet", page.Markup, StringComparison.Ordinal), FirstLoad);
        Sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "gate", "ssh", "auth_attempt", [new("src_ip", "192.0.2.55"), new("username", "root"), new("password", "x")]));
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=latest-row]")), TimeSpan.FromSeconds(15));

        var pass = await _bed.Services.GetRequiredService<AttackerProfiler>().RunOnceAsync(CancellationToken.None);
        _bed.Services.GetRequiredService<NotificationHub>().Publish(new AttackerUpdated(pass.Ips));
        var attacker = (await _bed.Services.GetRequiredService<AttackerDirectory>().ListAsync(new AttackerQuery(Search: "192.0.2.55"), CancellationToken.None)).Data.Single();

        page.WaitForAssertion(() => Assert.Equal($"/attackers/{attacker.Id}", page.Find("[data-testid=event-attacker]").GetAttribute("href")), TimeSpan.FromSeconds(15));
        Assert.Equal($"/attackers/{attacker.Id}", page.Find("[data-testid=latest-row]").GetAttribute("data-href"));
        page.TableActionLive("[data-testid=latest-row] [data-testid=event-decky]");
        // Live pushes render the page from other threads too: the click may be handled after Click returns.
        page.WaitForAssertion(() =>
            Assert.EndsWith($"/attackers/{attacker.Id}", _context.Services.GetRequiredService<NavigationManager>().Uri, StringComparison.Ordinal),
            TimeSpan.FromSeconds(15));
    }

    [Fact]
    public void Top_panels_and_chart_follow_the_chosen_window()
    {
        var page = _context.Render<Dashboard>();
        page.WaitForAssertion(() => Assert.Contains("No attacker events yet", page.Markup, StringComparison.Ordinal), FirstLoad);
        // The 24 h chart spans the whole day even with no event in it: 24 hourly bars, or 25 when the window starts mid-hour.
        Assert.InRange(int.Parse(page.Find("[data-testid=dashboard-histogram]").GetAttribute("data-buckets")!, System.Globalization.CultureInfo.InvariantCulture), 24, 25);

        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < 3; i++)
        {
            Sink.Publish(new HoneypotEvent(now, "gate", "ssh", "auth_attempt", [new("src_ip", "192.0.2.10"), new("username", "root"), new("password", "123456"), new("result", "failure")]));
        }
        Sink.Publish(new HoneypotEvent(now, "gate", "ftp", "auth_attempt", [new("src_ip", "192.0.2.11"), new("user", "admin"), new("pass", "admin")]));
        Sink.Publish(new HoneypotEvent(now, "web", "http", "request", [new("src_ip", "192.0.2.10"), new("path", "/")]));
        // Two days old: inside 7 days, outside 24 hours.
        Sink.Publish(new HoneypotEvent(now.AddDays(-2), "old", "telnet", "connect", [new("src_ip", "203.0.113.99")]));

        page.WaitForAssertion(() =>
        {
            var credentials = page.FindAll("[data-testid=top-credentials] [data-testid=top-row]");
            Assert.Equal(2, credentials.Count);
            Assert.Contains("root / 123456", credentials[0].TextContent, StringComparison.Ordinal);
            Assert.Contains("3", credentials[0].Children[1].TextContent, StringComparison.Ordinal);
            Assert.Contains("admin / admin", credentials[1].TextContent, StringComparison.Ordinal);
            var sources = page.FindAll("[data-testid=top-sources] [data-testid=top-row]");
            Assert.Equal(["192.0.2.10", "192.0.2.11"], sources.Select(r => r.Children[0].TextContent.Trim()));
            Assert.Equal("4", sources[0].Children[1].TextContent.Trim());
            Assert.Equal(["ssh", "ftp", "http"], page.FindAll("[data-testid=top-services] [data-testid=top-row]").Select(r => r.Children[0].TextContent.Trim()));
            Assert.Equal(["gate", "web"], page.FindAll("[data-testid=top-deckies] [data-testid=top-row]").Select(r => r.Children[0].TextContent.Trim()));
            Assert.Equal("5", page.Find("[data-testid=dashboard-histogram]").GetAttribute("data-total"));
        }, TimeSpan.FromSeconds(15));
        // Each line opens Live Logs on that value over the same window.
        Assert.Equal("/logs?q=attacker%3A%22192.0.2.10%22&range=24h", page.Find("[data-testid=top-sources] a").GetAttribute("href"));

        page.ClickLive("[data-testid=range-7d]");

        // The button's handler runs on the renderer's dispatcher; the address follows the choice so a view can be shared.
        page.WaitForAssertion(() => Assert.Contains("range=7d", _context.Services.GetRequiredService<NavigationManager>().Uri, StringComparison.Ordinal));
        page.WaitForAssertion(() =>
        {
            Assert.Contains("old", page.FindAll("[data-testid=top-deckies] [data-testid=top-row]").Select(r => r.Children[0].TextContent.Trim()));
            Assert.Equal("6", page.Find("[data-testid=dashboard-histogram]").GetAttribute("data-total"));
            // 7 days of 6-hour buckets.
            Assert.InRange(int.Parse(page.Find("[data-testid=dashboard-histogram]").GetAttribute("data-buckets")!, System.Globalization.CultureInfo.InvariantCulture), 28, 29);
            Assert.Contains("6 in the last 7 days", page.Find("[data-testid=stat-interactions]").TextContent, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(15));
    }

    [Fact]
    public void Open_dashboards_share_one_computation_per_change()
    {
        var overview = _bed.Services.GetRequiredService<DashboardOverview>();
        var pages = Enumerable.Range(0, 6).Select(_ => _context.Render<Dashboard>()).ToList();
        foreach (var page in pages)
        {
            page.WaitForAssertion(() => Assert.Contains("No attacker events yet", page.Markup, StringComparison.Ordinal), FirstLoad);
        }
        var loadsBefore = overview.Loads;
        var roundsBefore = overview.Rounds;

        for (var i = 0; i < 5; i++)
        {
            Sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "cache", "redis", "auth", [new("src_ip", $"192.0.2.{i}")]));
        }

        foreach (var page in pages)
        {
            page.WaitForAssertion(() => Assert.Equal(5, Stat(page, "stat-interactions")), TimeSpan.FromSeconds(15));
        }
        // Per publishing round at most the one watched window and the latest events are loaded, however many pages are open.
        var rounds = overview.Rounds - roundsBefore;
        Assert.InRange(overview.Loads - loadsBefore, 1, 2 * (rounds + 1));
    }
}
