using Bunit;
using Decnet.Core.Settings;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Config.Pages;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Decnet.Tests.Web.Components;

[Trait("Category", TestCategories.Unit)]
public sealed class ConfigPageTests : ComponentTestContext
{
    [Fact]
    public async Task Admins_see_editable_limits_and_the_user_table()
    {
        var admin = await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin);
        await Bed.CreateActiveUserAsync("analyst", "analyst-password-1", UserRole.Viewer);
        SignIn(admin);
        Render<MudPopoverProvider>();

        var cut = Render<Config>();

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=users-table]")));
        Assert.NotEmpty(cut.FindAll("[data-testid=limit-save]"));
        Assert.Empty(cut.FindAll("[data-testid=limit-value]"));
        var table = cut.Find("[data-testid=users-table]").TextContent;
        Assert.Contains("analyst", table, StringComparison.Ordinal);
        Assert.Contains("chief", table, StringComparison.Ordinal);
        Assert.Contains("(you)", table, StringComparison.Ordinal);
        // Never offered a way to delete or re-role yourself.
        Assert.Empty(cut.FindAll("[data-testid=delete-chief]"));
        Assert.NotEmpty(cut.FindAll("[data-testid=delete-analyst]"));
    }

    [Fact]
    public async Task Viewers_read_the_values_and_see_no_controls_or_users()
    {
        var viewer = await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer);
        await Bed.Services.GetRequiredService<SystemSettingsService>().SetDeploymentLimitAsync("admin", 77, CancellationToken.None);
        SignIn(viewer);

        var cut = Render<Config>();

        cut.WaitForAssertion(() => Assert.Equal("77", cut.Find("[data-testid=limit-value]").TextContent.Trim()));
        Assert.Equal("30m", cut.Find("[data-testid=interval-value]").TextContent.Trim());
        Assert.Empty(cut.FindAll("[data-testid=users-table]"));
        Assert.Empty(cut.FindAll("[data-testid=limit-save]"));
        Assert.Empty(cut.FindAll("button"));
    }

    [Fact]
    public async Task An_admin_creates_a_user_who_must_change_the_password()
    {
        var admin = await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin);
        SignIn(admin);
        Render<MudPopoverProvider>();
        var cut = Render<Config>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=users-table]"));

        cut.Find("input[data-testid=new-username]").Change("newcomer");
        cut.Find("input[data-testid=new-password]").Change("temporary-password-1");
        cut.Find("[data-testid=create-user]").Click();

        cut.WaitForAssertion(() => Assert.Contains("newcomer", cut.Find("[data-testid=users-table]").TextContent, StringComparison.Ordinal));
        var created = (await Bed.Users.ListAsync(CancellationToken.None)).Single(u => u.Username == "newcomer");
        Assert.True(created.MustChangePassword);
        Assert.Equal(UserRole.Viewer, created.Role);
    }

    [Fact]
    public async Task A_too_short_temporary_password_shows_the_policy_error()
    {
        var admin = await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin);
        SignIn(admin);
        Render<MudPopoverProvider>();
        var cut = Render<Config>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=users-table]"));

        cut.Find("input[data-testid=new-username]").Change("shorty");
        cut.Find("input[data-testid=new-password]").Change("short");
        cut.Find("[data-testid=create-user]").Click();

        cut.WaitForAssertion(() => Assert.Contains("at least 12 characters", cut.Find("[data-testid=create-error]").TextContent, StringComparison.Ordinal));
        Assert.DoesNotContain(await Bed.Users.ListAsync(CancellationToken.None), u => u.Username == "shorty");
    }

    [Fact]
    public async Task Deleting_a_user_takes_two_clicks()
    {
        var admin = await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin);
        await Bed.CreateActiveUserAsync("doomed", "doomed-password-1", UserRole.Viewer);
        SignIn(admin);
        Render<MudPopoverProvider>();
        var cut = Render<Config>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=delete-doomed]"));

        cut.Find("[data-testid=delete-doomed]").Click();
        Assert.Contains(await Bed.Users.ListAsync(CancellationToken.None), u => u.Username == "doomed");
        Assert.Contains("Confirm delete", cut.Find("[data-testid=delete-doomed]").TextContent, StringComparison.Ordinal);

        cut.Find("[data-testid=delete-doomed]").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=delete-doomed]")));
        Assert.DoesNotContain(await Bed.Users.ListAsync(CancellationToken.None), u => u.Username == "doomed");
    }

    [Fact]
    public async Task Saving_an_invalid_interval_shows_the_error_and_keeps_the_old_value()
    {
        var admin = await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin);
        SignIn(admin);
        Render<MudPopoverProvider>();
        var cut = Render<Config>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=interval-save]"));

        cut.Find("input[data-testid=interval-input]").Change("15s");
        cut.Find("[data-testid=interval-save]").Click();

        cut.WaitForAssertion(() => Assert.Contains("seconds", cut.Markup, StringComparison.Ordinal));
        Assert.Equal(30, (await Bed.Services.GetRequiredService<SystemSettingsService>().GetAsync(CancellationToken.None)).GlobalMutationIntervalMinutes);
    }

    [Fact]
    public async Task An_admin_sets_the_log_retention_and_sees_the_last_purge()
    {
        var admin = await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin);
        await Decnet.Tests.Events.LogRetentionTests.InsertAsync(Bed.Services, Enumerable.Range(0, 12).Select(i => DateTime.UtcNow.AddDays(-40 - i)).Append(DateTime.UtcNow));
        SignIn(admin);
        Render<MudPopoverProvider>();
        var cut = Render<Config>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=retention-save]"));
        Assert.Contains("No purge has run", cut.Find("[data-testid=retention-last-purge]").TextContent, StringComparison.Ordinal);
        Assert.Equal("90", cut.Find("input[data-testid=retention-days-input]").GetAttribute("value"));

        cut.Find("input[data-testid=retention-days-input]").Change("0");
        cut.Find("[data-testid=retention-save]").Click();
        cut.WaitForAssertion(() => Assert.Contains("between 1 and 3650 days", cut.Find("[data-testid=retention-error]").TextContent, StringComparison.Ordinal));

        cut.Find("input[data-testid=retention-days-input]").Change("30");
        cut.Find("input[data-testid=retention-rows-input]").Change("20000");
        cut.Find("[data-testid=retention-save]").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=retention-error]")));
        var saved = await Bed.Services.GetRequiredService<SystemSettingsService>().GetAsync(CancellationToken.None);
        Assert.Equal((30, 20_000L), (saved.LogRetentionDays, saved.LogRetentionMaxRows));

        // The purge (here run directly; the master's worker runs it on the change) shows on the page.
        await Bed.Services.GetRequiredService<Decnet.Core.Events.Retention.LogPurger>().PurgeAsync(100, CancellationToken.None);
        var again = Render<Config>();
        again.WaitForAssertion(() => Assert.Contains("12 removed for age, 0 for the row limit, 1 kept", again.Find("[data-testid=retention-last-purge]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Viewers_read_the_log_retention_without_controls()
    {
        var viewer = await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer);
        await Bed.Services.GetRequiredService<SystemSettingsService>().SetLogRetentionAsync("admin", 14, 2_500_000, CancellationToken.None);
        SignIn(viewer);

        var cut = Render<Config>();

        cut.WaitForAssertion(() => Assert.Equal("14 days, at most 2,500,000 rows", cut.Find("[data-testid=retention-value]").TextContent.Trim()));
        Assert.Empty(cut.FindAll("[data-testid=retention-save]"));
    }
}
