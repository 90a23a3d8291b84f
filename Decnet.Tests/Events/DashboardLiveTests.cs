using Bunit;
using Decnet.Core.Audit;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Notifications;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Components.Pages;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Decnet.Tests.Events;

/// <summary>The dashboard follows the ingest live: stat cards and the latest events list refresh per batch.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class DashboardLiveTests : IAsyncLifetime
{
    private readonly BunitContext _context = new();
    private readonly CancellationTokenSource _stop = new();
    private CoreTestBed _bed = null!;
    private Task _ingest = Task.CompletedTask;

    public async ValueTask InitializeAsync()
    {
        _bed = await CoreTestBed.StartAsync();
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        Decnet.Tests.Web.Components.DashboardAuthorization.SignIn(_context, await _bed.CreateActiveUserAsync("analyst", "analyst-password-1", Decnet.Core.Users.UserRole.Viewer));
        _context.Services.AddMudServices();
        _context.Services.AddSingleton(_bed.Services.GetRequiredService<EventStatistics>());
        _context.Services.AddSingleton(_bed.Services.GetRequiredService<Decnet.Core.Events.EventLog>());
        _context.Services.AddSingleton(_bed.Services.GetRequiredService<AuditTrail>());
        _context.Services.AddSingleton(_bed.Services.GetRequiredService<NotificationHub>());
        _context.Services.AddSingleton(_bed.Services.GetRequiredService<Decnet.Core.Search.LogSearch>());
        _context.Services.AddSingleton(TimeProvider.System);
        _ingest = _bed.Services.GetRequiredService<EventIngester>().RunAsync(_stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _context.DisposeAsync();
        await _stop.CancelAsync();
        await _ingest;
        _stop.Dispose();
        await _bed.DisposeAsync();
    }

    [Fact]
    public void New_events_update_the_interaction_count_and_the_latest_events_without_a_reload()
    {
        var page = _context.Render<Dashboard>();
        page.WaitForAssertion(() => Assert.Contains("No attacker events yet", page.Markup, StringComparison.Ordinal));
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
        page.WaitForAssertion(() => Assert.Contains("No attacker events yet", page.Markup, StringComparison.Ordinal));

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

        page.Find("[data-testid=latest-events] tbody tr [data-testid=artifact]").Click();
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
        page.WaitForAssertion(() => Assert.Equal("0", page.Find("[data-testid=dashboard-histogram]").GetAttribute("data-total")));
        Assert.NotNull(page.Find("[data-testid=histogram-empty]"));

        var sink = _bed.Services.GetRequiredService<ChannelEventSink>();
        for (var i = 0; i < 7; i++)
        {
            sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "cache", "redis", "auth", [new("src_ip", $"192.0.2.{i}")]));
        }

        page.WaitForAssertion(() => Assert.Equal("7", page.Find("[data-testid=dashboard-histogram]").GetAttribute("data-total")), TimeSpan.FromSeconds(15));
        Assert.NotNull(page.Find("[data-testid=dashboard-histogram] svg"));
    }
}
