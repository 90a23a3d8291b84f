using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Decnet.Tests.Infrastructure;

/// <summary>
/// The master on a real Kestrel socket and Debian's Chromium driven by Playwright. The browser is the
/// system package: Playwright's own browser download cannot work here.
/// </summary>
public sealed class BrowserSession : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly DecnetWebFactory? _factory;

    private BrowserSession(DecnetWebFactory? factory, IPlaywright playwright, IBrowser browser, IPage page, string baseUrl)
    {
        _factory = factory;
        Playwright = playwright;
        Browser = browser;
        Page = page;
        BaseUrl = baseUrl;
    }

    /// <summary>The in-test master (sessions from <see cref="StartAsync()"/>).</summary>
    public DecnetWebFactory Factory => _factory ?? throw new InvalidOperationException("This session drives a master in another process.");
    public IPlaywright Playwright { get; }
    public IBrowser Browser { get; }
    public IPage Page { get; }
    public string BaseUrl { get; }

    /// <summary>Starts the master in this process on a real Kestrel socket and opens Chromium on it.</summary>
    /// <param name="settings">Master settings over the test defaults (e.g. the swarm turned on).</param>
    public static async Task<BrowserSession> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var factory = new DecnetWebFactory(settings);
        factory.UseKestrel();
        factory.StartServer();
        var addresses = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var baseUrl = addresses.First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
        return await OpenAsync(factory, baseUrl);
    }

    /// <summary>Opens Chromium on a master that is already running (another process).</summary>
    public static Task<BrowserSession> AttachAsync(string baseUrl) => OpenAsync(null, baseUrl);

    private static async Task<BrowserSession> OpenAsync(DecnetWebFactory? factory, string baseUrl)
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: the test command installs Debian's chromium package (apt-get install chromium).");
        }
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = baseUrl });
        page.SetDefaultTimeout(20_000);
        return new BrowserSession(factory, playwright, browser, page, baseUrl);
    }

    /// <summary>Signs in through the real login form as a user that needs no password change.</summary>
    public async Task SignInAsync(string username, string password)
    {
        await Page.GotoAsync("/account/login");
        await Page.FillAsync("#username", username);
        await Page.FillAsync("#password", password);
        await Page.ClickAsync("button[type=submit]");
        await Assertions.Expect(Page.GetByTestId("user-menu")).ToBeVisibleAsync();
    }

    /// <summary>Waits until the page's Blazor circuit is live, so clicks reach their handlers.</summary>
    /// <summary>
    /// Waits until the master has stored at least <paramref name="count"/> log rows matching <paramref name="search"/>
    /// (Live Logs lists what was stored when it loads; tailing is the operator's choice), so a page opened next shows them.
    /// </summary>
    public async Task WaitForStoredLogsAsync(string search, int count = 1)
    {
        var logs = Factory.Services.GetRequiredService<Decnet.Core.Search.LogSearch>();
        var query = Decnet.Core.Search.LogQuery.Parse(search).Query!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await logs.SearchAsync(query, null, null, 1, 0, TestContext.Current.CancellationToken)).Total < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} rows matching '{search}' were stored within 30 s");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Waits until the profiler has made a profile for <paramref name="ip"/> (the attacker pages and the dashboard's row links need it) and returns its id.</summary>
    public async Task<Guid> WaitForAttackerAsync(string ip)
    {
        var directory = Factory.Services.GetRequiredService<Decnet.Core.Attackers.AttackerDirectory>();
        for (var attempt = 0; attempt < 120; attempt++)
        {
            var found = (await directory.ListAsync(new Decnet.Core.Attackers.AttackerQuery(Search: ip), CancellationToken.None)).Data.FirstOrDefault(a => a.Ip == ip);
            if (found is not null)
            {
                return found.Id;
            }
            await Task.Delay(250);
        }
        throw new Xunit.Sdk.XunitException($"No attacker profile for {ip} within 30 s.");
    }

    public Task WaitForCircuitAsync() =>
        Page.GetByTestId("circuit-ready").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });

    public async Task ScreenshotAsync(string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
    }
}
