using Bunit;
using Decnet.Core.Notifications;
using Decnet.Core.Swarm.Updates;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Swarm.Dispatch;
using Decnet.Tests.Web.Components;
using Decnet.Web.Components;
using Decnet.Web.Swarm.Pages;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Decnet.Tests.Swarm.Updates;

/// <summary>The Remote Updates page on the master's real services, against a real updater and agent.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class RemoteUpdatesPageTests : ComponentTestContext
{
    private static readonly TimeSpan s_wait = TimeSpan.FromMinutes(4);
    private UpdaterSandbox _sandbox = null!;
    private CoreTestBed _master = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _sandbox = new UpdaterSandbox();
        await _sandbox.StartAsync();
        var settings = SwarmBed.Settings(_sandbox.CaDirectory);
        settings["Decnet:Swarm:Updates:UpdaterPort"] = _sandbox.UpdaterPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _master = await CoreTestBed.StartAsync(settings);
        await SwarmBed.AddHostAsync(_master.Services, _sandbox.Host());
        Services.AddSingleton(_master.Services.GetRequiredService<SwarmUpdates>());
        Services.AddSingleton(_master.Services.GetRequiredService<NotificationHub>());
    }

    // An override, not a new method: xunit disposes through the base class's interface mapping, so a
    // hiding method would never run and the updater and agent processes would outlive the run.
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _master.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task An_admin_sees_the_release_slots_and_a_confirmed_push_shows_in_flight_then_updated_with_the_new_sha()
    {
        SignIn(await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin));
        Render<MudPopoverProvider>();
        var dialogs = Render<MudDialogProvider>();
        var cut = Render<RemoteUpdates>();

        cut.WaitForAssertion(() => Assert.Contains("reachable", cut.Find("[data-testid=update-host-worker-a] [data-testid=updater-reachable]").TextContent, StringComparison.Ordinal), s_wait);
        var row = cut.Find("[data-testid=update-host-worker-a]");
        Assert.Equal("—", row.QuerySelector("[data-testid=current-sha]")!.TextContent);
        Assert.True(row.QuerySelector("[data-testid=rollback]")!.HasAttribute("disabled"), "no previous release to roll back to");

        // Not awaited yet: the click's handler waits for the confirmation the dialog below gives.
        var pushing = cut.Find("[data-testid=update-host-worker-a] [data-testid=push]").ClickAsync(new());
        dialogs.WaitForAssertion(() => Assert.Contains("worker-a", dialogs.Find("[data-testid=confirm-text]").TextContent, StringComparison.Ordinal));
        var confirming = dialogs.Find("[data-testid=confirm-yes]").ClickAsync(new());

        cut.WaitForAssertion(() => Assert.Contains("pushing", cut.Find("[data-testid=update-host-worker-a] [data-testid=last-result]").TextContent, StringComparison.Ordinal), s_wait);
        await confirming;
        await pushing;
        cut.WaitForAssertion(() => Assert.Equal("updated", cut.Find("[data-testid=update-host-worker-a] [data-testid=last-result]").TextContent.Trim()), s_wait);
        var sha = _sandbox.ManifestSha("active");
        Assert.NotNull(sha);
        Assert.Equal(sha[..12], cut.Find("[data-testid=update-host-worker-a] [data-testid=current-sha]").TextContent);
        Assert.False(cut.Find("[data-testid=update-host-worker-a] [data-testid=rollback]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task A_push_confirmed_after_the_admin_was_demoted_is_refused_and_nothing_is_sent()
    {
        var chief = await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin);
        SignIn(chief);
        Render<MudPopoverProvider>();
        var snackbars = Render<MudSnackbarProvider>();
        var dialogs = Render<MudDialogProvider>();
        var cut = Render<RemoteUpdates>();
        cut.WaitForAssertion(() => Assert.Contains("reachable", cut.Find("[data-testid=update-host-worker-a] [data-testid=updater-reachable]").TextContent, StringComparison.Ordinal), s_wait);

        var pushing = cut.Find("[data-testid=update-host-worker-a] [data-testid=push]").ClickAsync(new());
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=confirm-yes]"));
        await DemoteAsync(chief);
        await dialogs.Find("[data-testid=confirm-yes]").ClickAsync(new());
        await pushing;

        snackbars.WaitForAssertion(() => Assert.Contains(CurrentOperator.AdminRightsGone, snackbars.Markup, StringComparison.Ordinal), s_wait);
        Assert.Null(_sandbox.ManifestSha("active"));
        Assert.Equal("—", cut.Find("[data-testid=update-host-worker-a] [data-testid=current-sha]").TextContent);
    }
}
