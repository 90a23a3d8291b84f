using System.Text.RegularExpressions;
using Decnet.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Decnet.Tests.Hosting;

/// <summary>
/// A newcomer's first run, end to end: the README's run command (a real process, Production), then
/// Chromium through the first login, the forced password change and a deploy of the example lab.
/// </summary>
[Collection(MasterProcessCollection.Name)]
[Trait("Category", TestCategories.EndToEnd)]
public sealed partial class ReadmeRunFlowTests(ReadmeMaster master) : IAsyncLifetime
{
    private BrowserSession _session = null!;
    private readonly List<string> _failedRequests = [];

    public async ValueTask InitializeAsync()
    {
        _session = await BrowserSession.AttachAsync(master.Process.BaseUrl);
        _session.Page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                _failedRequests.Add($"{response.Status} {response.Url}");
            }
        };
        _session.Page.RequestFailed += (_, request) => _failedRequests.Add($"failed {request.Url}: {request.Failure}");
    }

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task The_seeded_admin_signs_in_changes_the_password_and_deploys_the_example_lab()
    {
        var page = _session.Page;
        await page.GotoAsync("/");
        await Assertions.Expect(page).ToHaveURLAsync(LoginUrl());
        // Our theme stylesheet (assets/decnet.css) lays the account pages out.
        Assert.Equal("flex", await page.Locator(".account-shell").EvaluateAsync<string>("e => getComputedStyle(e).display"));
        await page.FillAsync("#username", ReadmeMaster.AdminUser);
        await page.FillAsync("#password", ReadmeMaster.AdminPassword);
        await page.ClickAsync("button[type=submit]");

        await Assertions.Expect(page).ToHaveURLAsync(ChangePasswordUrl());
        await page.FillAsync("#current", ReadmeMaster.AdminPassword);
        await page.FillAsync("#new", "the-operators-own-password");
        await page.FillAsync("#confirm", "the-operators-own-password");
        await page.ClickAsync("button[type=submit]");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        // The page is interactive only when the framework script and MudBlazor's script really ran.
        await _session.WaitForCircuitAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => typeof Blazor === 'object' && typeof window.mudElementRef === 'object'"),
            "blazor.web.js or MudBlazor.min.js did not run");
        // MudBlazor's stylesheet is applied: its app bar is a flex box, not a plain block.
        Assert.Equal("flex", await page.Locator(".mud-appbar").First.EvaluateAsync<string>("e => getComputedStyle(e).display"));

        await page.GetByRole(AriaRole.Link, new() { Name = "Decoy Fleet" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("fleet-empty")).ToBeVisibleAsync();
        await page.GetByTestId("open-deploy").ClickAsync();
        var lab = await File.ReadAllTextAsync(Path.Combine(MasterProcess.RepositoryRoot, "deploy", "examples", "lab.ini"));
        await page.GetByTestId("ini-editor").FillAsync(lab);
        await page.GetByTestId("ini-validate").ClickAsync();
        await Assertions.Expect(page.GetByTestId("ini-preview")).ToContainTextAsync("lab-mail");
        await page.GetByTestId("ini-deploy").ClickAsync();

        await Assertions.Expect(page.GetByTestId("deploy-result")).ToContainTextAsync("Deployed 3", new() { Timeout = 60_000 });
        foreach (var (decky, ip, service) in new[] { ("lab-web", "127.77.0.10", "ssh"), ("lab-db", "127.77.0.11", "redis"), ("lab-mail", "127.77.0.12", "smtp") })
        {
            var card = page.GetByTestId("decky-" + decky);
            await Assertions.Expect(card).ToContainTextAsync(ip);
            await Assertions.Expect(card.GetByTestId("decky-state")).ToHaveTextAsync("running");
            await Assertions.Expect(card.GetByTestId("service-" + service)).ToContainTextAsync("running");
        }
        await _session.ScreenshotAsync("readme-run-fleet");

        // The deckies answer on their own addresses (redis is above 1024: never offset).
        Assert.True(await Clients.IsListeningAsync("127.77.0.11", 6379));
        Assert.Empty(_failedRequests);
    }

    [GeneratedRegex("/account/login")]
    private static partial Regex LoginUrl();

    [GeneratedRegex("/account/change-password$")]
    private static partial Regex ChangePasswordUrl();
}
