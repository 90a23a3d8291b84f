using Bunit;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Notifications;
using Decnet.Core.Search;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Web.Components;
using Decnet.Web.Events.Pages;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Search;

[Trait("Category", TestCategories.Integration)]
public sealed class LiveLogsPageTests : ComponentTestContext
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Services.AddSingleton(Bed.Services.GetRequiredService<LogSearch>());
        Services.AddSingleton(Bed.Services.GetRequiredService<NotificationHub>());
        var now = DateTime.UtcNow;
        await LogSearchTests.SeedAsync(Bed.Services,
            LogSearchTests.Row(now.AddMinutes(-3), "alpha", "ssh", "login", "198.51.100.1", "user=root pass=toor", """{"user":"root"}"""),
            LogSearchTests.Row(now.AddMinutes(-2), "beta", "http", "request", "198.51.100.2", "GET /shell.php", """{"path":"/shell.php","stored_as":"sha.bin"}"""));
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));
    }

    private NavigationManager Navigation => Services.GetRequiredService<NavigationManager>();

    private static string[] Deckies(IRenderedComponent<LiveLogs> page) =>
        [.. page.FindAll("[data-testid=log-row]").Select(r => r.Children[2].TextContent.Trim())];

    [Fact]
    public void Lists_events_newest_first_with_field_chips_histogram_and_artifact_marker()
    {
        var page = Render<LiveLogs>();

        page.WaitForAssertion(() => Assert.Equal(["beta", "alpha"], Deckies(page)));
        var rows = page.FindAll("[data-testid=log-row]");
        Assert.Contains("path=/shell.php", rows[0].TextContent, StringComparison.Ordinal);
        Assert.NotNull(rows[0].QuerySelector("[data-testid=artifact]"));
        Assert.Null(rows[1].QuerySelector("[data-testid=artifact]"));
        Assert.NotNull(page.Find("[data-testid=histogram] svg"));
        Assert.Equal("2", page.Find("[data-testid=histogram]").GetAttribute("data-total"));
        Assert.Contains("2 matching", page.Find("[data-testid=total]").TextContent, StringComparison.Ordinal);

        rows[1].Click();
        // The details load after the click's render: wait for them rather than race the renderer.
        var details = page.WaitForElement("[data-testid=log-details]");
        Assert.Contains("user=root pass=toor", details.TextContent, StringComparison.Ordinal);
        Assert.Contains("root", details.QuerySelector("dd")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void The_query_in_the_url_is_applied()
    {
        Navigation.NavigateTo("/logs?q=" + Uri.EscapeDataString("decky:alpha") + "&range=1h");

        var page = Render<LiveLogs>();

        page.WaitForAssertion(() => Assert.Equal(["alpha"], Deckies(page)));
        Assert.Equal("decky:alpha", page.Find("[data-testid=query-input]").GetAttribute("value"));
    }

    [Fact]
    public void Submitting_a_query_filters_and_updates_the_url()
    {
        var page = Render<LiveLogs>();
        page.WaitForAssertion(() => Assert.Equal(2, Deckies(page).Length));

        page.Find("[data-testid=query-input]").Input("service:http");
        page.Find("[data-testid=query-form]").Submit();

        page.WaitForAssertion(() => Assert.Equal(["beta"], Deckies(page)));
        Assert.Contains("q=service%3Ahttp", Navigation.Uri, StringComparison.Ordinal);

        page.Find("[data-testid=range-15m]").Click();
        // The range change reloads before it navigates: wait for the address, as for the query above.
        page.WaitForAssertion(() => Assert.Contains("range=15m", Navigation.Uri, StringComparison.Ordinal));
        Assert.Contains("q=service%3Ahttp", Navigation.Uri, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_query_shows_the_reason()
    {
        var page = Render<LiveLogs>();
        // The first load re-renders the form: type into the loaded page, not into the one it replaces.
        page.WaitForAssertion(() => Assert.Equal(2, Deckies(page).Length));
        page.Find("[data-testid=query-input]").Input("'open");
        page.Find("[data-testid=query-form]").Submit();

        page.WaitForAssertion(() => Assert.Contains("Unbalanced single quote", page.Find("[data-testid=query-error]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Live_tail_prepends_new_matching_events_without_a_reload()
    {
        Navigation.NavigateTo("/logs?q=service%3Assh");
        var page = Render<LiveLogs>();
        page.WaitForAssertion(() => Assert.Equal(["alpha"], Deckies(page)));
        page.Find("[data-testid=live-tail]").Click();
        page.WaitForAssertion(() => Assert.Contains("Live tail on", page.Find("[data-testid=live-tail]").TextContent, StringComparison.Ordinal));

        await LogSearchTests.SeedAsync(Bed.Services,
            LogSearchTests.Row(DateTime.UtcNow, "gamma", "ssh", "login", "198.51.100.9", "user=admin"),
            LogSearchTests.Row(DateTime.UtcNow, "delta", "http", "request", "198.51.100.9", "GET /"));
        var lastId = await Bed.Services.GetRequiredService<LogSearch>().LatestIdAsync(CancellationToken.None);
        Bed.Services.GetRequiredService<NotificationHub>().Publish(new EventsIngested(2, lastId, []));

        page.WaitForAssertion(() => Assert.Equal(["gamma", "alpha"], Deckies(page)), TimeSpan.FromSeconds(10));
        Assert.Contains("2 matching", page.Find("[data-testid=total]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Live_tail_follows_the_real_ingest()
    {
        using var stop = new CancellationTokenSource();
        var ingest = Bed.Services.GetRequiredService<EventIngester>().RunAsync(stop.Token);
        try
        {
            Navigation.NavigateTo("/logs?q=" + Uri.EscapeDataString("service:redis user:bob"));
            var page = Render<LiveLogs>();
            page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=no-logs]")));
            page.Find("[data-testid=live-tail]").Click();

            var sink = Bed.Services.GetRequiredService<ChannelEventSink>();
            sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "cache", "redis", "auth", [new("src_ip", "192.0.2.7"), new("user", "eve")]));
            sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "cache", "redis", "auth", [new("src_ip", "192.0.2.8"), new("user", "bob")]));

            page.WaitForAssertion(() =>
            {
                var row = Assert.Single(page.FindAll("[data-testid=log-row]"));
                Assert.Contains("192.0.2.8", row.TextContent, StringComparison.Ordinal);
                Assert.Contains("user=bob", row.TextContent, StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(15));
        }
        finally
        {
            await stop.CancelAsync();
            await ingest;
        }
    }

    [Fact]
    public async Task Pages_hold_fifty_rows_and_the_page_comes_from_the_url()
    {
        var now = DateTime.UtcNow;
        await LogSearchTests.SeedAsync(Bed.Services,
            [.. Enumerable.Range(0, 60).Select(i => LogSearchTests.Row(now.AddSeconds(-i), $"bulk-{i:00}", "telnet", "connect", "203.0.113.5", "hello"))]);

        Navigation.NavigateTo("/logs?q=service%3Atelnet&page=2");
        var page = Render<LiveLogs>();

        page.WaitForAssertion(() => Assert.Equal(10, Deckies(page).Length));
        Assert.Equal("bulk-50", Deckies(page)[0]);
        Assert.NotNull(page.Find("[data-testid=pager]"));
        Assert.Contains("60 matching", page.Find("[data-testid=total]").TextContent, StringComparison.Ordinal);
    }
}
