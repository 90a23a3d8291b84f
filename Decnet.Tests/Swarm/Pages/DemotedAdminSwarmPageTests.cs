using Bunit;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Swarm.Dispatch;
using Decnet.Tests.Web.Components;
using Decnet.Web.Components;
using Decnet.Web.Deckies.Pages;
using Decnet.Web.Swarm.Pages;
using MudBlazor;

namespace Decnet.Tests.Swarm.Pages;

/// <summary>Swarm actions from an admin's page left open after another admin demoted it: refused at the click.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class DemotedAdminSwarmPageTests : SwarmPageContext
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    private static string Ini()
    {
        var net = Clients.LabSubnetPrefix();
        return $"[general]\nnet = {net}.0/24\ngw = {net}.1\n\n[d1]\nip = {net}.20\nservices = redis\n";
    }

    [Fact]
    public async Task A_shard_teardown_from_a_demoted_admins_open_fleet_page_is_refused()
    {
        var (agent, _) = await WorkerAsync("worker-a");
        Assert.True((await Get<DeckyFleet>().DeployAsync("chief", Ini(), CancellationToken.None)).Succeeded);
        var chief = await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin);
        SignIn(chief);
        Render<MudPopoverProvider>();
        var snackbars = Render<MudSnackbarProvider>();
        var cut = Render<DecoyFleet>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=swarm-decky-d1] [data-testid=shard-teardown]"), s_wait);

        await DemoteAsync(chief);
        cut.ClickLive("[data-testid=swarm-decky-d1] [data-testid=shard-teardown]");
        cut.ClickLive("[data-testid=swarm-decky-d1] [data-testid=shard-teardown]");

        snackbars.WaitForAssertion(() => Assert.Contains(CurrentOperator.AdminRightsGone, snackbars.Markup, StringComparison.Ordinal), s_wait);
        await Get<ShardTeardownQueue>().DrainAsync();
        Assert.Empty(agent.Teardowns);
        Assert.All(await SwarmBed.ShardsAsync(Bed.Services), s => Assert.Equal(DeckyShardState.Running, s.State));
    }

    [Theory]
    [InlineData("host-teardown")]
    [InlineData("host-decommission")]
    public async Task Host_actions_confirmed_after_a_demotion_are_refused(string button)
    {
        var (agent, host) = await WorkerAsync("worker-a");
        Assert.True((await Get<DeckyFleet>().DeployAsync("chief", Ini(), CancellationToken.None)).Succeeded);
        var chief = await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin);
        SignIn(chief);
        Render<MudPopoverProvider>();
        var snackbars = Render<MudSnackbarProvider>();
        var dialogs = Render<MudDialogProvider>();
        var cut = Render<SwarmHosts>();
        cut.WaitForAssertion(() => cut.Find($"[data-testid=host-worker-a] [data-testid={button}]"), s_wait);

        // The confirmation dialog is open when the rights go: the click on "yes" is what is refused.
        cut.ClickLive($"[data-testid=host-worker-a] [data-testid={button}]");
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=confirm-yes]"));
        await DemoteAsync(chief);
        dialogs.ClickLive("[data-testid=confirm-yes]");

        snackbars.WaitForAssertion(() => Assert.Contains(CurrentOperator.AdminRightsGone, snackbars.Markup, StringComparison.Ordinal), s_wait);
        await Get<ShardTeardownQueue>().DrainAsync();
        Assert.Empty(agent.Teardowns);
        Assert.Equal(0, agent.SelfDestructs);
        Assert.Equal(SwarmHostStatus.Active, (await Get<SwarmOverview>().HostsAsync(CancellationToken.None)).Single(h => h.Id == host.Id).Status);
        Assert.All(await SwarmBed.ShardsAsync(Bed.Services), s => Assert.Equal(DeckyShardState.Running, s.State));
    }
}
