using System.Text.RegularExpressions;
using Decnet.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Decnet.Tests.E2E;

[Trait("Category", TestCategories.EndToEnd)]
public sealed partial class LoginFlowTests : IAsyncLifetime
{
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync() => _session = await BrowserSession.StartAsync();

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task The_seeded_admin_is_forced_to_change_its_password_lands_on_the_dashboard_and_logs_out()
    {
        var page = _session.Page;

        await page.GotoAsync("/");
        await Assertions.Expect(page).ToHaveURLAsync(LoginUrl());

        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", DecnetWebFactory.AdminPassword);
        await page.ClickAsync("button[type=submit]");

        await Assertions.Expect(page).ToHaveURLAsync(ChangePasswordUrl());
        await Assertions.Expect(page.GetByTestId("must-change-notice")).ToBeVisibleAsync();

        // While the change is pending, the dashboard is out of reach.
        await page.GotoAsync("/");
        await Assertions.Expect(page).ToHaveURLAsync(ChangePasswordUrl());

        await page.FillAsync("#current", DecnetWebFactory.AdminPassword);
        await page.FillAsync("#new", "a-strong-new-admin-password");
        await page.FillAsync("#confirm", "a-strong-new-admin-password");
        await page.ClickAsync("button[type=submit]");

        await Assertions.Expect(page).ToHaveURLAsync(DashboardUrl());
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("user-menu")).ToContainTextAsync("admin");
        await Assertions.Expect(page.GetByTestId("stat-interactions")).ToContainTextAsync("0");
        await _session.ScreenshotAsync("dashboard");

        // The navigation works over the live circuit.
        await _session.WaitForCircuitAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Config" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("users-table")).ToContainTextAsync("admin");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Config" })).ToHaveAttributeAsync("aria-current", "page");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Dashboard" })).Not.ToHaveAttributeAsync("aria-current", "page");

        // The user menu opens on a click and leads to the password change, closing behind it.
        var changePassword = page.GetByRole(AriaRole.Menuitem, new() { Name = "Change password" });
        await Assertions.Expect(changePassword).ToBeHiddenAsync();
        await page.GetByTestId("user-menu").ClickAsync();
        await changePassword.ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(ChangePasswordUrl());
        await Assertions.Expect(page.Locator("#current")).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.Load);
        await page.GotoAsync("/");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();

        await page.GetByTestId("logout").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(LoginUrl());
        await page.GotoAsync("/config");
        await Assertions.Expect(page).ToHaveURLAsync(LoginUrl());
    }

    [Fact]
    public async Task A_wrong_password_keeps_the_operator_on_the_login_page_with_an_error()
    {
        var page = _session.Page;
        await page.GotoAsync("/account/login");
        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", "definitely-wrong");
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.GetByTestId("login-error")).ToHaveTextAsync("Invalid username or password.");
        await Assertions.Expect(page).ToHaveURLAsync(LoginUrl());
    }

    [GeneratedRegex("/account/login")]
    private static partial Regex LoginUrl();

    [GeneratedRegex("/account/change-password$")]
    private static partial Regex ChangePasswordUrl();

    [GeneratedRegex(@":\d+/$")]
    private static partial Regex DashboardUrl();
}
