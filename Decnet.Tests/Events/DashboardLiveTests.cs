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
