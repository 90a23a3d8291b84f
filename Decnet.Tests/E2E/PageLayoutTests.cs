using System.Globalization;
using System.Text;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Decnet.Tests.E2E;

/// <summary>One master and one signed-in Chromium shared by the layout checks of <see cref="PageLayoutTests"/>.</summary>
public sealed class LayoutBrowser : IAsyncLifetime
{
    public BrowserSession Session { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Session = await BrowserSession.StartAsync();
        await Session.Page.SetViewportSizeAsync(1400, 900);
        await Session.Factory.CreateActiveUserAsync("layout", UserRole.Admin);
        await Session.SignInAsync("layout", "layout-password-1");
    }

    public async ValueTask DisposeAsync() => await Session.DisposeAsync();
}

/// <summary>
/// Layout defects measured in the real page (Debian's Chromium): what overflows, what wraps, what cannot be
/// scrolled. Events reach the pages through the real ingest (the decky sink), as a decky's would.
/// </summary>
[Trait("Category", TestCategories.EndToEnd)]
public sealed class PageLayoutTests(LayoutBrowser browser) : IClassFixture<LayoutBrowser>
{
    private BrowserSession Session => browser.Session;

    private IPage Page => Session.Page;

    private ChannelEventSink Sink => Session.Factory.Services.GetRequiredService<ChannelEventSink>();

    /// <summary>How many lines the element's text occupies on screen (distinct line boxes of its text).</summary>
    private static Task<int> LinesAsync(ILocator element) => element.EvaluateAsync<int>("""
        e => {
            const range = document.createRange();
            range.selectNodeContents(e);
            const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
            return tops.size;
        }
        """);

    /// <summary>Unbroken attacker text, as long as a fuzzing tool sends it.</summary>
    private static string Blob(char c, int length) => new(c, length);

    private async Task GoAsync(string url)
    {
        await Page.GotoAsync(url);
        await Session.WaitForCircuitAsync();
    }

    [Fact]
    public async Task Live_logs_rows_stay_inside_their_table_whatever_the_fields_hold()
    {
        var decky = "wide-" + Random.Shared.Next(1000, 9999).ToString(CultureInfo.InvariantCulture);
        Sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, decky, "http", "request",
            [new("src_ip", "192.0.2.40"), new("path", "/" + Blob('a', 900)), new("user_agent", Blob('b', 700)), new("body", Blob('c', 1200)),
             new("headers", Blob('d', 800)), new("query", Blob('e', 600)), new("cookie", Blob('f', 500))]));

        await Session.WaitForStoredLogsAsync("decky:" + decky);

        await GoAsync("/logs?q=" + Uri.EscapeDataString("decky:" + decky));
        await Assertions.Expect(Page.GetByTestId("log-row")).ToHaveCountAsync(1, new() { Timeout = 20_000 });

        var widths = await Page.GetByTestId("log-row").EvaluateAsync<double[]>("""
            row => {
                const panel = row.closest('.mud-paper');
                return [row.getBoundingClientRect().width, panel.clientWidth, document.documentElement.scrollWidth, window.innerWidth];
            }
            """);
        Assert.True(widths[0] <= widths[1], $"a row is {widths[0]} px wide in a {widths[1]} px panel");
        Assert.True(widths[2] <= widths[3], $"the page scrolls sideways: {widths[2]} px in a {widths[3]} px window");
        // The chip is cut, the full value is still there on hover.
        var path = Page.GetByTestId("log-fields").Locator(".field-chip", new() { HasText = "path=" });
        Assert.EndsWith("…", (await path.InnerTextAsync()).Trim(), StringComparison.Ordinal);
        Assert.Equal("path=/" + Blob('a', 900), await path.GetAttributeAsync("title"));
        // Each chip is cut inside the cell (the ellipsis is drawn), none spills out of it.
        var spill = await Page.GetByTestId("log-fields").EvaluateAsync<double>(
            "cell => Math.max(...[...cell.querySelectorAll('.field-chip')].map(c => c.getBoundingClientRect().right - cell.getBoundingClientRect().right))");
        Assert.True(spill <= 0, $"a chip reaches {spill} px past its cell");
        Assert.Equal(1, await LinesAsync(Page.GetByTestId("log-row").Locator("td").Nth(1)));
    }

    [Fact]
    public async Task Bounty_addresses_stay_on_one_line_and_an_accepted_login_stands_out()
    {
        const string address = "2001:db8:85a3:1234:5678:8a2e:370:7334";
        var user = "u" + Random.Shared.Next(10000, 99999).ToString(CultureInfo.InvariantCulture);
        Sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "mail-gw", "ssh", "auth_attempt",
            [new("src_ip", address), new("username", user), new("password", Blob('p', 400)), new("method", "password"), new("result", "failure")]));
        Sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "mail-gw", "ssh", "auth_attempt",
            [new("src_ip", address), new("username", user), new("password", "letmein"), new("method", "password"), new("result", "success")]));

        await Page.SetViewportSizeAsync(1100, 900);
        try
        {
            await GoAsync("/bounty");
            await Page.Locator("input[data-testid=bounty-search]").FillAsync(user);
            await Page.Locator("input[data-testid=bounty-search]").PressAsync("Tab");
            await Assertions.Expect(Page.GetByTestId("bounty-row")).ToHaveCountAsync(2, new() { Timeout = 20_000 });

            foreach (var cell in await Page.GetByTestId("bounty-attacker").AllAsync())
            {
                Assert.Equal(address, (await cell.InnerTextAsync()).Trim());
                Assert.Equal(1, await LinesAsync(cell));
            }
            var accepted = Page.Locator("[data-testid=bounty-row].accepted");
            await Assertions.Expect(accepted).ToHaveCountAsync(1);
            await Assertions.Expect(accepted.GetByTestId("credential-accepted")).ToHaveTextAsync("login succeeded");
            // The accepted row is painted apart from the refused one.
            var backgrounds = await Page.GetByTestId("bounty-row").EvaluateAllAsync<string[]>(
                "rows => rows.map(r => getComputedStyle(r.querySelector('td')).backgroundColor)");
            Assert.NotEqual(backgrounds[0], backgrounds[1]);
        }
        finally
        {
            await Page.SetViewportSizeAsync(1400, 900);
        }
    }

    [Fact]
    public async Task Dashboard_events_keep_time_and_decky_on_one_line_and_the_chart_fills_its_card()
    {
        for (var i = 0; i < 5; i++)
        {
            Sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "edge-gateway-" + i.ToString(CultureInfo.InvariantCulture), "http", "request",
                [new("src_ip", "192.0.2.6" + i.ToString(CultureInfo.InvariantCulture)), new("path", "/" + Blob('x', 300)), new("user_agent", Blob('y', 300)),
                 new("method", "GET"), new("body", Blob('z', 300))]));
        }

        await GoAsync("/");
        await Assertions.Expect(Page.GetByTestId("latest-row").First).ToContainTextAsync("edge-gateway-", new() { Timeout = 20_000 });

        // Measured in one script run: the cells are shared markup that a live update replaces, and a cell
        // found in one round trip and measured in the next may no longer be in the page.
        var lines = await Page.EvaluateAsync<int[]>("""
            () => [...document.querySelectorAll('[data-testid=event-time], [data-testid=event-decky]')].map(e => {
                const range = document.createRange();
                range.selectNodeContents(e);
                return new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size;
            })
            """);
        Assert.NotEmpty(lines);
        Assert.All(lines, count => Assert.Equal(1, count));
        Assert.True(await Page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the dashboard scrolls sideways");
        // Field chips look like MudBlazor's small outlined chips (bordered, rounded, one line) and stay inside their cell.
        var chips = await Page.EvaluateAsync<double[]>("""
            () => {
                const cell = document.querySelector('[data-testid=event-fields]');
                const chips = [...cell.querySelectorAll('.field-chip')];
                const style = getComputedStyle(chips[0]);
                const right = cell.getBoundingClientRect().right;
                return [chips.length, parseFloat(style.borderTopWidth), parseFloat(style.borderTopLeftRadius), chips[0].getBoundingClientRect().height,
                        Math.max(...chips.map(c => c.getBoundingClientRect().right - right))];
            }
            """);
        Assert.Equal(4, chips[0]);
        Assert.True(chips[1] >= 1, $"a field chip has a {chips[1]} px border");
        Assert.True(chips[2] >= 8, $"a field chip has a {chips[2]} px corner radius");
        Assert.InRange(chips[3], 16, 32);
        Assert.True(chips[4] <= 0, $"a field chip reaches {chips[4]} px past its cell");

        // The chart spans the card's width, and its bars span the chart: the whole 24 h window is drawn.
        var chart = await Page.EvaluateAsync<double[]>("""
            () => {
                const card = document.querySelector('[data-testid=chart-card]');
                const histogram = card.querySelector('.event-histogram').getBoundingClientRect();
                const svg = card.querySelector('svg.histogram-bars');
                const style = getComputedStyle(card);
                const inner = card.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
                const box = svg.getBoundingClientRect();
                // Bars are drawn in bucket units stretched to the plot; an empty hour is a bar of no height, still placed.
                const scale = box.width / svg.viewBox.baseVal.width;
                const bars = [...svg.querySelectorAll('rect.histogram-bar')];
                const lefts = bars.map(r => r.x.baseVal.value * scale);
                const rights = bars.map(r => (r.x.baseVal.value + r.width.baseVal.value) * scale);
                return [histogram.width, inner, bars.length, Math.min(...lefts), box.width - Math.max(...rights), box.width, box.height];
            }
            """);
        Assert.True(chart[0] >= chart[1] * 0.97, $"the chart is {chart[0]} px wide in a card of {chart[1]} px");
        // The plot takes all of it but the scale's gutter, at the chart's full height.
        Assert.True(chart[5] >= chart[0] * 0.9, $"the plot is {chart[5]} px wide in a chart of {chart[0]} px");
        Assert.InRange(chart[6], 170, 190);
        Assert.InRange(chart[2], 24, 25);
        Assert.True(chart[3] < chart[5] * 0.1 && chart[4] < chart[5] * 0.1, $"bars leave {chart[3]} px on the left and {chart[4]} px on the right of {chart[5]} px");
        await Session.ScreenshotAsync("dashboard-layout");
    }

    [Fact]
    public async Task The_last_lines_of_a_replayed_session_are_visible_and_the_first_ones_a_scroll_away()
    {
        var ip = "198.51.100." + Random.Shared.Next(2, 250).ToString(CultureInfo.InvariantCulture);
        var name = $"20260101T120000Z_{Guid.NewGuid():N}_0.cast";
        var output = new StringBuilder();
        for (var line = 1; line <= 60; line++)
        {
            output.Append("line ").Append(line).Append("\\r\\n");
        }
        var cast = "{\"version\":2,\"width\":80,\"height\":24,\"timestamp\":1767268800}\n[0.100000, \"o\", \"root@gate:~# cat notes\\r\\n\"]\n"
                   + $"[1.000000, \"o\", \"{output}root@gate:~# \"]\n";
        var folder = Directory.CreateDirectory(Path.Combine(Session.Factory.DataDirectory, "deckies", "gate", "ssh", "recordings"));
        await File.WriteAllTextAsync(Path.Combine(folder.FullName, name), cast);
        Sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "gate", "ssh", "session_recorded",
            [new("src_ip", ip), new("recording", name), new("bytes", "700"), new("duration", "1.000"), new("truncated", "false"), new("username", "root")]));
        var attacker = await Session.WaitForAttackerAsync(ip);

        await GoAsync($"/attackers/{attacker}");
        await Page.GetByTestId("session-replay-open").First.ClickAsync();
        var seek = Page.GetByTestId("replay-seek");
        await Assertions.Expect(seek).ToBeVisibleAsync();
        await seek.EvaluateAsync("s => { s.value = s.max; s.dispatchEvent(new Event('change', { bubbles: true })); }");
        await Assertions.Expect(Page.GetByTestId("replay-screen")).ToContainTextAsync("line 60");

        const string measure = """
            ([screen, text]) => {
                const box = screen.parentElement.getBoundingClientRect();
                const walker = document.createTreeWalker(screen, NodeFilter.SHOW_TEXT);
                const node = walker.nextNode();
                const at = node.data.indexOf(text);
                const range = document.createRange();
                range.setStart(node, at);
                range.setEnd(node, at + text.length);
                const line = range.getBoundingClientRect();
                return [line.top >= box.top - 1 && line.bottom <= box.bottom + 1 ? 1 : 0, screen.parentElement.scrollHeight, screen.parentElement.clientHeight];
            }
            """;
        var screen = await Page.GetByTestId("replay-screen").ElementHandleAsync();
        var end = await Page.EvaluateAsync<double[]>(measure, new object[] { screen, "line 60\n" });
        Assert.True(end[0] == 1, "the last output line is outside the terminal box");
        Assert.True(end[1] > end[2], $"the terminal cannot scroll: {end[1]} px of content in {end[2]} px");

        await Page.GetByTestId("replay-screen").EvaluateAsync("s => s.parentElement.scrollBy(0, -100000)");
        var top = await Page.EvaluateAsync<double[]>(measure, new object[] { screen, "cat notes" });
        Assert.True(top[0] == 1, "the first lines cannot be scrolled to");
    }

    [Fact]
    public async Task An_unknown_address_shows_our_not_found_page_with_a_404()
    {
        var response = await Page.GotoAsync("/no/such/page-" + Guid.NewGuid().ToString("N"));

        Assert.Equal(404, response!.Status);
        await Assertions.Expect(Page.GetByText("There is no page at this address")).ToBeVisibleAsync();
        // Inside the application's frame, with its navigation.
        await Assertions.Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Live Logs" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_heading_focused_after_navigation_shows_no_focus_rectangle()
    {
        await GoAsync("/");
        await Page.GetByRole(AriaRole.Link, new() { Name = "Live Logs" }).ClickAsync();
        await Assertions.Expect(Page.Locator("h1")).ToHaveTextAsync("Live Logs");
        // Focus moves after the new page has rendered (FocusOnNavigate runs after the render), not with its text.
        await Page.WaitForFunctionAsync("() => document.activeElement && document.activeElement.tagName === 'H1'");

        var focus = await Page.EvaluateAsync<string[]>("""
            () => {
                const h = document.activeElement;
                const style = getComputedStyle(h);
                return [h.tagName, style.outlineStyle, style.outlineWidth];
            }
            """);
        // Focus still moves to the heading (screen readers announce the new page); it is just not drawn.
        Assert.Equal("H1", focus[0]);
        Assert.True(focus[1] == "none" || focus[2] == "0px", $"outline {focus[1]} {focus[2]}");
    }
}
