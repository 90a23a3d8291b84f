using System.Globalization;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Decnet.Tests.E2E;

/// <summary>
/// In Debian's Chromium: the export buttons download what the page's filter matches (through the
/// signed-in cookie), and the light/dark choice belongs to the user, not to the browser.
/// </summary>
[Trait("Category", TestCategories.EndToEnd)]
public sealed class ExportAndThemeFlowTests : IAsyncLifetime
{
    private BrowserSession _session = null!;

    private IPage Page => _session.Page;

    public async ValueTask InitializeAsync()
    {
        _session = await BrowserSession.StartAsync();
        await _session.Page.SetViewportSizeAsync(1400, 900);
    }

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    private async Task GoAsync(string url)
    {
        await Page.GotoAsync(url);
        await _session.WaitForCircuitAsync();
    }

    [Fact]
    public async Task The_live_logs_export_button_downloads_every_row_of_the_search_as_csv_and_json()
    {
        await _session.Factory.CreateActiveUserAsync("watcher", UserRole.Viewer);
        await _session.SignInAsync("watcher", "watcher-password-1");
        var decky = "dl-" + Random.Shared.Next(1000, 9999).ToString(CultureInfo.InvariantCulture);
        var sink = _session.Factory.Services.GetRequiredService<ChannelEventSink>();
        // More than one page of the list: the download is the whole search, not the 50 rows on screen.
        for (var i = 0; i < 60; i++)
        {
            sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, decky, "ssh", "auth_attempt",
                [new("src_ip", "192.0.2.77"), new("username", i == 0 ? "=cmd|'/C calc'!A0" : "user" + i), new("password", "x")]));
        }
        sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "elsewhere", "ssh", "auth_attempt", [new("src_ip", "192.0.2.78"), new("username", "other")]));

        await _session.WaitForStoredLogsAsync("decky:" + decky, 60);
        await GoAsync("/logs?q=" + Uri.EscapeDataString("decky:" + decky));
        await Assertions.Expect(Page.GetByTestId("total")).ToHaveTextAsync("60 matching", new() { Timeout = 20_000 });

        var download = await Page.RunAndWaitForDownloadAsync(() => Page.GetByTestId("logs-export").GetByTestId("export-csv").ClickAsync());
        Assert.Matches(@"^decnet-logs-\d{8}T\d{6}Z\.csv$", download.SuggestedFilename);
        var csv = await PythonCsv.ReadAsync((await download.PathAsync())!);
        Assert.Equal(61, csv.Count);
        Assert.All(csv.Skip(1), row => Assert.Equal(decky, row[2]));
        Assert.Contains(csv, row => row[6].Contains("=cmd|", StringComparison.Ordinal));
        // The page stayed where it was, its circuit alive.
        await Assertions.Expect(Page.GetByTestId("total")).ToHaveTextAsync("60 matching");

        var json = await Page.RunAndWaitForDownloadAsync(() => Page.GetByTestId("logs-export").GetByTestId("export-json").ClickAsync());
        using var document = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync((await json.PathAsync())!));
        Assert.Equal(60, document.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Bounty_and_attacker_pages_download_their_filtered_lists()
    {
        await _session.Factory.CreateActiveUserAsync("hunter", UserRole.Viewer);
        await _session.SignInAsync("hunter", "hunter-password-1");
        var sink = _session.Factory.Services.GetRequiredService<ChannelEventSink>();
        sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "mail-gw", "ssh", "auth_attempt",
            [new("src_ip", "198.51.100.31"), new("username", "root"), new("password", "hunter2"), new("result", "success")]));
        sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, "mail-gw", "http", "request",
            [new("src_ip", "198.51.100.32"), new("path", "/"), new("user_agent", "sqlmap/1.7")]));

        await GoAsync("/bounty");
        await Page.GetByTestId("filter-credential").ClickAsync();
        await Assertions.Expect(Page.GetByTestId("bounty-row")).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        var bounty = await Page.RunAndWaitForDownloadAsync(() => Page.GetByTestId("bounty-export").GetByTestId("export-csv").ClickAsync());
        var credentials = await PythonCsv.ReadAsync((await bounty.PathAsync())!);
        Assert.Equal(2, credentials.Count);
        Assert.Equal(["198.51.100.31", "credential"], credentials[1].Skip(4).Take(2));
        Assert.Contains("hunter2", credentials[1][6], StringComparison.Ordinal);

        await GoAsync("/attackers");
        await Assertions.Expect(Page.GetByTestId("attacker-card")).ToHaveCountAsync(2, new() { Timeout = 30_000 });
        await Page.GetByTestId("ip-search").FillAsync("198.51.100.32");
        await Page.GetByTestId("ip-search").PressAsync("Enter");
        await Assertions.Expect(Page.GetByTestId("attacker-card")).ToHaveCountAsync(1);
        var attackers = await Page.RunAndWaitForDownloadAsync(() => Page.GetByTestId("attackers-export").GetByTestId("export-json").ClickAsync());
        using var document = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync((await attackers.PathAsync())!));
        var only = Assert.Single(document.RootElement.EnumerateArray());
        Assert.Equal("198.51.100.32", only.GetProperty("ip").GetString());
    }

    /// <summary>The app bar's colour in each palette (DecnetTheme: #10151c dark, #eef1f4 light).</summary>
    private const string Dark = "rgb(16, 21, 28)";
    private const string Light = "rgb(238, 241, 244)";

    private static Task ExpectPaletteAsync(IPage page, string theme, string color) => Task.WhenAll(
        Assertions.Expect(page.GetByTestId("theme-toggle")).ToHaveAttributeAsync("data-theme", theme),
        Assertions.Expect(page.Locator(".mud-appbar")).ToHaveCSSAsync("background-color", color));

    private static async Task SignInElsewhereAsync(IPage page, string username)
    {
        await page.GotoAsync("/account/login");
        await page.FillAsync("#username", username);
        await page.FillAsync("#password", username + "-password-1");
        await page.ClickAsync("button[type=submit]");
    }

    [Fact]
    public async Task The_light_theme_is_the_users_choice_across_sign_out_and_another_browser()
    {
        await _session.Factory.CreateActiveUserAsync("daylight", UserRole.Viewer);
        await _session.SignInAsync("daylight", "daylight-password-1");
        await _session.WaitForCircuitAsync();
        await ExpectPaletteAsync(Page, "dark", Dark);

        await Page.GetByTestId("theme-toggle").ClickAsync();

        await ExpectPaletteAsync(Page, "light", Light);

        // Signed out and in again: still light, from the first paint.
        await Page.GetByTestId("logout").ClickAsync();
        await Assertions.Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"));
        await _session.SignInAsync("daylight", "daylight-password-1");
        await ExpectPaletteAsync(Page, "light", Light);

        // Another browser (no shared cookies or storage): the same user sees light, another user dark.
        await using var other = await _session.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = _session.BaseUrl });
        var page = await other.NewPageAsync();
        await SignInElsewhereAsync(page, "daylight");
        await ExpectPaletteAsync(page, "light", Light);

        await _session.Factory.CreateActiveUserAsync("nightowl", UserRole.Viewer);
        await using var third = await _session.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = _session.BaseUrl });
        var night = await third.NewPageAsync();
        await SignInElsewhereAsync(night, "nightowl");
        await ExpectPaletteAsync(night, "dark", Dark);

        // Back to dark is kept as well.
        await _session.WaitForCircuitAsync();
        await Page.GetByTestId("theme-toggle").ClickAsync();
        await ExpectPaletteAsync(Page, "dark", Dark);
        await page.ReloadAsync();
        await ExpectPaletteAsync(page, "dark", Dark);
    }
}
