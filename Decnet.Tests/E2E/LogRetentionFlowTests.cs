using Decnet.Core.Users;
using Decnet.Tests.Events;
using Decnet.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Decnet.Tests.E2E;

[Trait("Category", TestCategories.EndToEnd)]
public sealed class LogRetentionFlowTests : IAsyncLifetime
{
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync() => _session = await BrowserSession.StartAsync();

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task An_admin_lowers_the_log_retention_in_config_and_the_old_events_are_purged()
    {
        // 40 events two months old (kept by the default 90 days) and 5 from today.
        await LogRetentionTests.InsertAsync(_session.Factory.Services,
            Enumerable.Range(0, 40).Select(i => DateTime.UtcNow.AddDays(-60).AddMinutes(-i)).Concat(Enumerable.Range(0, 5).Select(i => DateTime.UtcNow.AddMinutes(-i))));
        await _session.Factory.CreateActiveUserAsync("keeper", UserRole.Admin);
        await _session.SignInAsync("keeper", "keeper-password-1");
        var page = _session.Page;

        await _session.WaitForCircuitAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Config" }).ClickAsync();
        var days = page.GetByTestId("retention-days-input");
        await Assertions.Expect(days).ToHaveValueAsync("90");

        await days.FillAsync("30");
        await page.GetByTestId("retention-save").ClickAsync();
        await Assertions.Expect(page.GetByText("Logs are kept 30 days")).ToBeVisibleAsync();

        // The master's purge worker runs on the change; the page shows its result.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await LogRetentionTests.RowsAsync(_session.Factory.Services)).Count != 5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
        Assert.Equal(5, (await LogRetentionTests.RowsAsync(_session.Factory.Services)).Count);
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByTestId("retention-last-purge")).ToContainTextAsync("40 removed for age, 0 for the row limit, 5 kept");
        await Assertions.Expect(page.GetByTestId("retention-days-input")).ToHaveValueAsync("30");
        await _session.ScreenshotAsync("config-retention");
    }
}
