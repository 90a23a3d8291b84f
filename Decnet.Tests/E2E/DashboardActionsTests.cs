using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Events;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Decnet.Tests.E2E;

/// <summary>
/// The dashboard's latest events are shared markup with one click handler (assets/decnet.js reports what was
/// clicked): in Debian's Chromium, the artifact button opens the capture's details, a row opens its attacker.
/// </summary>
[Trait("Category", TestCategories.EndToEnd)]
public sealed class DashboardActionsTests(LayoutBrowser browser) : IClassFixture<LayoutBrowser>
{
    private BrowserSession Session => browser.Session;

    private IPage Page => Session.Page;

    [Fact]
    public async Task The_artifact_button_opens_the_capture_and_a_row_opens_its_attacker()
    {
        var sink = Session.Factory.Services.GetRequiredService<ChannelEventSink>();
        const string ip = "192.0.2.77";
        sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "gate", "ssh", "auth_attempt", [new("src_ip", ip), new("username", "root"), new("password", "toor")]));
        sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "gate", "ssh", "file_captured",
            [new("src_ip", ip), new("stored_as", "20261206T120000Z_0123456789ab_miner.sh"), new("sha256", new string('d', 64)),
             new("size", "77"), new("orig_path", "/tmp/miner.sh")]));
        var attacker = await Session.WaitForAttackerAsync(ip);

        await Page.GotoAsync("/");
        await Session.WaitForCircuitAsync();
        var row = Page.GetByTestId("latest-row").Filter(new() { Has = Page.GetByTestId("artifact") }).First;
        await Assertions.Expect(row).ToHaveAttributeAsync("data-href", $"/attackers/{attacker}", new() { Timeout = 20_000 });

        await row.GetByTestId("artifact").ClickAsync();
        var drawer = Page.GetByTestId("artifact-drawer");
        await Assertions.Expect(drawer.GetByTestId("artifact-path")).ToHaveTextAsync("/tmp/miner.sh");
        await Assertions.Expect(drawer.GetByTestId("artifact-sha256")).ToHaveTextAsync(new string('d', 64));
        // The button is inside the row: showing the capture does not also open the attacker.
        Assert.EndsWith("/", new Uri(Page.Url).AbsolutePath, StringComparison.Ordinal);
        await drawer.GetByTestId("artifact-close").ClickAsync();
        await Assertions.Expect(Page.GetByTestId("artifact-drawer")).ToHaveCountAsync(0);

        await Page.GetByTestId("latest-row").Filter(new() { Has = Page.GetByTestId("artifact") }).First.GetByTestId("event-decky").ClickAsync();
        await Assertions.Expect(Page).ToHaveURLAsync(new Regex($"/attackers/{attacker}$"));
    }

    [Fact]
    public async Task The_frame_toggles_its_navigation_and_pages_after_the_dashboard_get_their_snackbars()
    {
        var drawer = Page.GetByTestId("nav-drawer");
        async Task<double> DrawerLeftAsync() => await drawer.EvaluateAsync<double>("d => d.getBoundingClientRect().left");
        async Task SettledAsync() => await Page.WaitForTimeoutAsync(400);

        await Page.GotoAsync("/");
        await Session.WaitForCircuitAsync();
        // Wide: beside the page, until toggled off (the page then takes the whole width).
        Assert.Equal(0, await DrawerLeftAsync(), 1);
        await Page.GetByTestId("nav-toggle").ClickAsync();
        await SettledAsync();
        Assert.True(await DrawerLeftAsync() < -100, "the drawer stays on screen after the toggle");
        Assert.Equal(0, await Page.Locator(".mud-main-content").EvaluateAsync<double>("m => m.getBoundingClientRect().left"), 1);
        await Page.GetByTestId("nav-toggle").ClickAsync();
        await SettledAsync();
        Assert.Equal(0, await DrawerLeftAsync(), 1);

        // Narrow: hidden until toggled on, over the page; a click beside it closes it.
        await Page.SetViewportSizeAsync(700, 900);
        try
        {
            await SettledAsync();
            Assert.True(await DrawerLeftAsync() < -100, "a narrow window starts with the drawer over the page");
            await Page.GetByTestId("nav-toggle").ClickAsync();
            await SettledAsync();
            Assert.Equal(0, await DrawerLeftAsync(), 1);
            await Page.Mouse.ClickAsync(650, 450);
            await SettledAsync();
            Assert.True(await DrawerLeftAsync() < -100, "the backdrop does not close the drawer");
        }
        finally
        {
            await Page.SetViewportSizeAsync(1400, 900);
        }

        // The dashboard's circuit has no overlay providers; the first page that may use them brings them.
        Assert.Equal(0, await Page.Locator(".mud-snackbar-provider, #mud-snackbar-container").CountAsync());
        await Page.GetByRole(AriaRole.Link, new() { Name = "Config" }).ClickAsync();
        await Page.Locator("input[data-testid=limit-input]").FillAsync("42");
        await Page.GetByTestId("limit-save").ClickAsync();
        await Assertions.Expect(Page.Locator(".mud-snackbar")).ToContainTextAsync("Deployment limit set to 42.");
    }
}
