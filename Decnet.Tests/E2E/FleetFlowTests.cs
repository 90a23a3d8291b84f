using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Decnet.Tests.E2E;

[Trait("Category", TestCategories.EndToEnd)]
public sealed class FleetFlowTests : IAsyncLifetime
{
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync() => _session = await BrowserSession.StartAsync();

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task An_admin_pastes_an_ini_sees_the_preview_deploys_and_sees_the_cards()
    {
        var net = Clients.LabSubnetPrefix();
        await _session.Factory.CreateActiveUserAsync("operator", UserRole.Admin);
        await _session.SignInAsync("operator", "operator-password-1");
        var page = _session.Page;

        await _session.WaitForCircuitAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Decoy Fleet" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("fleet-empty")).ToBeVisibleAsync();
        await page.GetByTestId("open-deploy").ClickAsync();

        var ini = $"[general]\nnet = {net}.0/24\ngw = {net}.1\n\n[edge-web]\nip = {net}.70\nservices = http\n\n[edge-cache]\nip = {net}.71\nservices = redis\n";
        await page.GetByTestId("ini-editor").FillAsync(ini);
        await page.GetByTestId("ini-validate").ClickAsync();
        await Assertions.Expect(page.GetByTestId("ini-preview")).ToContainTextAsync("edge-web");
        await Assertions.Expect(page.GetByTestId("ini-preview")).ToContainTextAsync($"{net}.71");

        var previewedHostname = await page.GetByTestId("ini-preview").Locator("tbody tr").First.Locator("td").Nth(2).InnerTextAsync();
        await page.GetByTestId("ini-deploy").ClickAsync();
        await Assertions.Expect(page.GetByTestId("deploy-result")).ToContainTextAsync("Deployed 2");
        await Assertions.Expect(page.GetByTestId("decky-edge-web")).ToContainTextAsync($"{net}.70 · {previewedHostname}");
        await Assertions.Expect(page.GetByTestId("decky-edge-cache").GetByTestId("decky-state")).ToHaveTextAsync("running");
        await Assertions.Expect(page.GetByTestId("decky-edge-cache").GetByTestId("decky-services")).ToContainTextAsync("redis · running");
        await _session.ScreenshotAsync("fleet");

        // The decky really answers on its own address.
        Assert.True(await Clients.IsListeningAsync($"{net}.71", 6379));
    }
}
