using Bunit;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Notifications;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Deckies.Pages;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Decnet.Tests.Web.Components;

[Trait("Category", TestCategories.Integration)]
public sealed class FleetPageTests : ComponentTestContext
{
    private readonly string _net = Clients.LabSubnetPrefix();

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Services.AddSingleton(Bed.Services.GetRequiredService<DeckyFleet>());
        Services.AddSingleton(Bed.Services.GetRequiredService<NotificationHub>());
        Services.AddSingleton(Bed.Services.GetRequiredService<Decnet.Core.Swarm.Dispatch.SwarmDeploymentMode>());
        Services.AddSingleton(Bed.Services.GetRequiredService<Decnet.Core.Swarm.SwarmOverview>());
    }

    private string Ini => $"[general]\nnet = {_net}.0/24\ngw = {_net}.1\n\n[alpha]\nip = {_net}.60\nservices = redis\n\n[beta]\nip = {_net}.61\nservices = redis, http\n";

    private DeckyFleet Fleet => Bed.Services.GetRequiredService<DeckyFleet>();

    [Fact]
    public async Task Admins_see_a_card_per_decky_with_live_service_state_and_every_action()
    {
        Assert.True((await Fleet.DeployAsync("t", Ini, CancellationToken.None)).Succeeded);
        SignIn(await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin));
        Render<MudPopoverProvider>();

        var cut = Render<DecoyFleet>();

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=decky-beta]")));
        var beta = cut.Find("[data-testid=decky-beta]");
        Assert.Contains($"{_net}.61", beta.TextContent, StringComparison.Ordinal);
        Assert.Contains("running", beta.QuerySelector("[data-testid=decky-state]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("redis · running", beta.QuerySelector("[data-testid=decky-services]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("30m (global)", beta.QuerySelector("[data-testid=decky-interval]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("6379/tcp", beta.QuerySelector("[data-testid=decky-endpoints]")!.TextContent, StringComparison.Ordinal);
        Assert.NotNull(beta.QuerySelector("[data-testid=mutate]"));
        Assert.NotNull(beta.QuerySelector("[data-testid=teardown]"));
        Assert.NotNull(cut.Find("[data-testid=open-deploy]"));
        Assert.Contains("deploy locally", cut.Find("[data-testid=mode-banner]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_card_counts_its_deckys_hits_and_shows_the_last_activity_live()
    {
        using var stop = new CancellationTokenSource();
        var ingest = Bed.Services.GetRequiredService<Decnet.Core.Ingest.EventIngester>().RunAsync(stop.Token);
        var overview = Bed.Services.GetRequiredService<Decnet.Core.Overview.DashboardOverview>().RunAsync(stop.Token);
        try
        {
            Assert.True((await Fleet.DeployAsync("t", Ini, CancellationToken.None)).Succeeded);
            SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));
            var cut = Render<DecoyFleet>();
            cut.WaitForAssertion(() => Assert.Equal("none yet", cut.Find("[data-testid=decky-alpha] [data-testid=decky-last-activity]").TextContent.Trim()));
            Assert.Equal("0", cut.Find("[data-testid=decky-alpha] [data-testid=decky-hits]").TextContent.Trim());

            // A real client against alpha only: its card counts the connection's events, beta's stays at zero.
            await Clients.RunAsync("redis-cli", ["-h", $"{_net}.60", "-p", "6379", "AUTH", "guess-1"]);

            cut.WaitForAssertion(() =>
            {
                var hits = long.Parse(cut.Find("[data-testid=decky-alpha] [data-testid=decky-hits]").TextContent.Trim(), System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(hits >= 2, $"{hits} hits");
                Assert.Equal("just now", cut.Find("[data-testid=decky-alpha] [data-testid=decky-last-activity]").TextContent.Trim());
            }, TimeSpan.FromSeconds(20));
            Assert.Equal("0", cut.Find("[data-testid=decky-beta] [data-testid=decky-hits]").TextContent.Trim());
        }
        finally
        {
            await stop.CancelAsync();
            await ingest;
            await overview;
        }
    }

    [Fact]
    public async Task Insert_lab_example_inserts_exactly_the_shipped_lab_ini()
    {
        SignIn(await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin));
        Render<MudPopoverProvider>();
        var cut = Render<DecoyFleet>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=open-deploy]").Click());

        cut.ClickLive("[data-testid=ini-sample]");

        var expected = await File.ReadAllTextAsync(RepositoryFiles.Path("deploy", "examples", "lab.ini"));
        cut.WaitForAssertion(() => Assert.Equal(expected, cut.Find("[data-testid=ini-editor]").GetAttribute("value")));
    }

    [Fact]
    public async Task Viewers_see_the_cards_without_any_action()
    {
        Assert.True((await Fleet.DeployAsync("t", Ini, CancellationToken.None)).Succeeded);
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));

        var cut = Render<DecoyFleet>();

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=decky-alpha]")));
        Assert.Empty(cut.FindAll("[data-testid=mutate]"));
        Assert.Empty(cut.FindAll("[data-testid=teardown]"));
        Assert.Empty(cut.FindAll("[data-testid=open-deploy]"));
    }

    [Fact]
    public async Task A_change_made_elsewhere_arrives_without_reloading()
    {
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));
        var cut = Render<DecoyFleet>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=fleet-empty]")));

        Assert.True((await Fleet.DeployAsync("api-user", Ini, CancellationToken.None)).Succeeded);

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=decky-alpha]")), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Teardown_takes_two_clicks_and_the_card_disappears()
    {
        Assert.True((await Fleet.DeployAsync("t", Ini, CancellationToken.None)).Succeeded);
        SignIn(await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin));
        Render<MudPopoverProvider>();
        var cut = Render<DecoyFleet>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=decky-alpha] [data-testid=teardown]"));

        cut.ClickLive("[data-testid=decky-alpha] [data-testid=teardown]");
        // Live activity renders the cards from other threads too: the click's render may come after Click returns.
        cut.WaitForAssertion(() => Assert.Contains("Confirm teardown", cut.Find("[data-testid=decky-alpha] [data-testid=teardown]").TextContent, StringComparison.Ordinal));
        Assert.Equal(2, (await Fleet.ListAsync(CancellationToken.None)).Count);

        cut.ClickLive("[data-testid=decky-alpha] [data-testid=teardown]");
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=decky-alpha]")), TimeSpan.FromSeconds(10));
        Assert.NotNull(cut.Find("[data-testid=decky-beta]"));
    }

    [Fact]
    public async Task The_deploy_panel_shows_errors_at_their_line_then_a_preview_then_deploys()
    {
        SignIn(await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin));
        Render<MudPopoverProvider>();
        var cut = Render<DeployPanel>();

        cut.Find("[data-testid=ini-editor]").Input("[general]\nnet = 10.0.0.0/24\n\n[bad]\nservices = nosuchservice\n");
        cut.ClickLive("[data-testid=ini-validate]");
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=ini-errors]")));
        Assert.Contains("has-error", cut.Find(".ini-line[data-line='5']").ClassName, StringComparison.Ordinal);
        Assert.Contains("line 5", cut.Find("[data-testid=line-error]").TextContent, StringComparison.Ordinal);
        Assert.Contains("nosuchservice", cut.Find("[data-testid=line-error]").TextContent, StringComparison.Ordinal);
        Assert.True(cut.Find("[data-testid=ini-deploy]").HasAttribute("disabled"));

        cut.Find("[data-testid=ini-editor]").Input(Ini);
        cut.ClickLive("[data-testid=ini-validate]");
        cut.WaitForAssertion(() => Assert.Contains("alpha", cut.Find("[data-testid=ini-preview]").TextContent, StringComparison.Ordinal));
        Assert.Contains($"{_net}.61", cut.Find("[data-testid=ini-preview]").TextContent, StringComparison.Ordinal);

        cut.ClickLive("[data-testid=ini-deploy]");
        cut.WaitForAssertion(() => Assert.Contains("Deployed 2", cut.Find("[data-testid=deploy-result]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.Equal(2, (await Fleet.ListAsync(CancellationToken.None)).Count);
    }
}
