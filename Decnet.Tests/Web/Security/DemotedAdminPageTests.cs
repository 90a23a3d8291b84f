using Bunit;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Notifications;
using Decnet.Core.Settings;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Web.Components;
using Decnet.Web.Components;
using Decnet.Web.Config.Pages;
using Decnet.Web.Deckies.Pages;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Decnet.Tests.Web.Security;

/// <summary>
/// An admin's page stays open while another admin demotes it: every admin button it still shows is
/// refused at the click, checked against the user store, and nothing changes.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class DemotedAdminPageTests : ComponentTestContext
{
    private readonly string _net = Clients.LabSubnetPrefix();
    private IRenderedComponent<MudSnackbarProvider> _snackbars = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Services.AddSingleton(Bed.Services.GetRequiredService<DeckyFleet>());
        Services.AddSingleton(Bed.Services.GetRequiredService<NotificationHub>());
        Services.AddSingleton(Bed.Services.GetRequiredService<Decnet.Core.Swarm.Dispatch.SwarmDeploymentMode>());
        Services.AddSingleton(Bed.Services.GetRequiredService<Decnet.Core.Swarm.SwarmOverview>());
    }

    private DeckyFleet Fleet => Bed.Services.GetRequiredService<DeckyFleet>();

    private string Ini => $"[general]\nnet = {_net}.0/24\ngw = {_net}.1\n\n[alpha]\nip = {_net}.70\nservices = redis\n";

    private async Task<User> SignInAdminAsync()
    {
        var chief = await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin);
        SignIn(chief);
        Render<MudPopoverProvider>();
        _snackbars = Render<MudSnackbarProvider>();
        return chief;
    }

    private void AssertRefused() =>
        _snackbars.WaitForAssertion(() => Assert.Contains(CurrentOperator.AdminRightsGone, _snackbars.Markup, StringComparison.Ordinal));

    [Theory]
    [InlineData("deployment limit")]
    [InlineData("mutation interval")]
    [InlineData("log retention")]
    [InlineData("create user")]
    [InlineData("change role")]
    [InlineData("reset password")]
    [InlineData("delete user")]
    public async Task Config_writes_from_a_demoted_admins_open_page_are_refused(string action)
    {
        var chief = await SignInAdminAsync();
        var analyst = await Bed.CreateActiveUserAsync("analyst", "analyst-password-1", UserRole.Viewer);
        var cut = Render<Config>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=users-table]"));
        var settingsBefore = await Bed.Services.GetRequiredService<SystemSettingsService>().GetAsync(CancellationToken.None);

        await DemoteAsync(chief);
        switch (action)
        {
            case "deployment limit":
                cut.Find("input[data-testid=limit-input]").Change("77");
                cut.ClickLive("[data-testid=limit-save]");
                break;
            case "mutation interval":
                cut.Find("input[data-testid=interval-input]").Change("2h");
                cut.ClickLive("[data-testid=interval-save]");
                break;
            case "log retention":
                cut.Find("input[data-testid=retention-days-input]").Change("1");
                cut.ClickLive("[data-testid=retention-save]");
                break;
            case "create user":
                cut.Find("input[data-testid=new-username]").Change("intruder");
                cut.Find("input[data-testid=new-password]").Change("temporary-password-1");
                cut.ClickLive("[data-testid=create-user]");
                break;
            case "change role":
                cut.ClickLive("[data-testid=role-analyst]");
                break;
            case "reset password":
                cut.ClickLive("[data-testid=reset-analyst]");
                cut.Find("input[data-testid=reset-input]").Change("another-password-1");
                cut.ClickLive("[data-testid=reset-confirm]");
                break;
            case "delete user":
                cut.ClickLive("[data-testid=delete-analyst]");
                cut.ClickLive("[data-testid=delete-analyst]");
                break;
        }

        AssertRefused();
        var settings = await Bed.Services.GetRequiredService<SystemSettingsService>().GetAsync(CancellationToken.None);
        Assert.Equal((settingsBefore.DeploymentLimit, settingsBefore.GlobalMutationIntervalMinutes, settingsBefore.LogRetentionDays), (settings.DeploymentLimit, settings.GlobalMutationIntervalMinutes, settings.LogRetentionDays));
        var users = await Bed.Users.ListAsync(CancellationToken.None);
        Assert.DoesNotContain(users, u => u.Username == "intruder");
        var after = Assert.Single(users, u => u.Username == "analyst");
        Assert.Equal((analyst.Role, analyst.PasswordHash, analyst.SecurityStamp, analyst.MustChangePassword), (after.Role, after.PasswordHash, after.SecurityStamp, after.MustChangePassword));
        // The page no longer offers what its user may not do.
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=users-table]")));
    }

    [Theory]
    [InlineData("mutate")]
    [InlineData("teardown")]
    [InlineData("interval")]
    public async Task Fleet_actions_from_a_demoted_admins_open_page_are_refused(string action)
    {
        Assert.True((await Fleet.DeployAsync("t", Ini, CancellationToken.None)).Succeeded);
        var before = Assert.Single(await Fleet.ListAsync(CancellationToken.None)).Config;
        var chief = await SignInAdminAsync();
        var cut = Render<DecoyFleet>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=decky-alpha] [data-testid=mutate]"));

        await DemoteAsync(chief);
        switch (action)
        {
            case "mutate":
                cut.ClickLive("[data-testid=decky-alpha] [data-testid=mutate]");
                break;
            case "teardown":
                cut.ClickLive("[data-testid=decky-alpha] [data-testid=teardown]");
                cut.ClickLive("[data-testid=decky-alpha] [data-testid=teardown]");
                break;
            case "interval":
                cut.ClickLive("[data-testid=decky-alpha] [data-testid=interval-edit]");
                // Activity pushes render the cards from other threads too: the click may be handled after Click returns.
                cut.WaitForAssertion(() => cut.Find("input[data-testid=interval-input]"));
                cut.Find("input[data-testid=interval-input]").Change("3h");
                cut.ClickLive("[data-testid=decky-alpha] [data-testid=interval-save]");
                break;
        }

        AssertRefused();
        var after = Assert.Single(await Fleet.ListAsync(CancellationToken.None)).Config;
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(before), System.Text.Json.JsonSerializer.Serialize(after));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=mutate]")));
    }

    [Fact]
    public async Task A_deploy_from_a_demoted_admins_open_panel_is_refused()
    {
        var chief = await SignInAdminAsync();
        var cut = Render<DeployPanel>();
        cut.Find("[data-testid=ini-editor]").Input(Ini);
        cut.ClickLive("[data-testid=ini-validate]");
        cut.WaitForAssertion(() => Assert.Contains("alpha", cut.Find("[data-testid=ini-preview]").TextContent, StringComparison.Ordinal));

        await DemoteAsync(chief);
        cut.ClickLive("[data-testid=ini-deploy]");

        cut.WaitForAssertion(() => Assert.Equal(CurrentOperator.AdminRightsGone, cut.Find("[data-testid=deploy-result]").TextContent.Trim()));
        Assert.Empty(await Fleet.ListAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("password reset")]
    [InlineData("account deleted")]
    public async Task A_reset_or_deleted_admin_account_refuses_the_open_pages_next_click(string change)
    {
        var chief = await SignInAdminAsync();
        var cut = Render<Config>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=limit-save]"));

        // A reset keeps the admin role but revokes the sessions the page belongs to.
        var done = change == "password reset"
            ? await Bed.Users.ResetPasswordAsync(Guid.NewGuid(), "other-admin", chief.Id, "reset-by-other-1", CancellationToken.None)
            : await Bed.Users.DeleteAsync(Guid.NewGuid(), "other-admin", chief.Id, CancellationToken.None);
        Assert.True(done.Succeeded);
        cut.Find("input[data-testid=limit-input]").Change("55");
        cut.ClickLive("[data-testid=limit-save]");

        AssertRefused();
        Assert.NotEqual(55, (await Bed.Services.GetRequiredService<SystemSettingsService>().GetAsync(CancellationToken.None)).DeploymentLimit);
    }
}
