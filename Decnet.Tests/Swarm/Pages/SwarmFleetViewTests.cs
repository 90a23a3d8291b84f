using Bunit;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Web.Components;
using Decnet.Web.Deckies.Pages;
using MudBlazor;

namespace Decnet.Tests.Swarm.Pages;

/// <summary>The Decoy Fleet page when the fleet is sharded across workers.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SwarmFleetViewTests : SwarmPageContext
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    private async Task<(Dispatch.TlsAgentServer Agent, SwarmHost Host)> DeployedAsync(string ini)
    {
        var worker = await WorkerAsync("worker-a");
        Assert.True((await Get<DeckyFleet>().DeployAsync("chief", ini, CancellationToken.None)).Succeeded);
        return worker;
    }

    private static string PersonaIni()
    {
        var net = Clients.LabSubnetPrefix();
        return $"[general]\nnet = {net}.0/24\ngw = {net}.1\n\n[d1]\nip = {net}.20\nservices = http, redis\nmutate_interval = 45\n\n[d1.http]\nfake_app = wordpress\n\n"
            + $"[d2]\nip = {net}.21\nservices = redis\n\n[d3]\nip = {net}.22\nservices = redis\n";
    }

    [Fact]
    public async Task Each_shard_is_a_rich_card_from_its_snapshot_and_a_row_without_snapshot_still_renders()
    {
        var (_, host) = await DeployedAsync(PersonaIni());
        await AddLegacyShardAsync(host.Id);
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));

        var cut = Render<DecoyFleet>();

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=swarm-decky-d1]")));
        Assert.Contains("will shard across 1 host", cut.Find("[data-testid=mode-banner]").TextContent, StringComparison.Ordinal);
        var d1 = cut.Find("[data-testid=swarm-decky-d1]");
        var snapshot = (await Get<SwarmOverview>().DeckiesAsync(null, null, CancellationToken.None)).Single(d => d.Name == "d1").Config!;
        Assert.Equal($"{snapshot.Ip} · {snapshot.Hostname}", d1.QuerySelector("[data-testid=shard-address]")!.TextContent);
        Assert.Equal(snapshot.Hostname, d1.QuerySelector("[data-testid=decky-hostname]")!.TextContent);
        Assert.Contains(snapshot.Distro, d1.QuerySelector("[data-testid=decky-facts]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("45m", d1.QuerySelector("[data-testid=decky-interval]")!.TextContent);
        // The planner stamps a fresh decky as just mutated; the card reads it from the snapshot.
        Assert.NotNull(snapshot.LastMutated);
        Assert.Equal("just now", d1.QuerySelector("[data-testid=decky-last-mutated]")!.TextContent);
        Assert.Contains("http: fake_app=wordpress", d1.QuerySelector("[data-testid=decky-persona]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("worker-a", d1.QuerySelector("[data-testid=shard-host]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("running", d1.QuerySelector("[data-testid=shard-state]")!.TextContent.Trim());
        Assert.Contains("s ago", d1.QuerySelector("[data-testid=shard-last-seen]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("30m (global)", cut.Find("[data-testid=swarm-decky-d2] [data-testid=decky-interval]").TextContent);

        var legacy = cut.Find("[data-testid=swarm-decky-legacy]");
        Assert.Equal("10.9.8.7 · —", legacy.QuerySelector("[data-testid=shard-address]")!.TextContent);
        Assert.Equal("—", legacy.QuerySelector("[data-testid=decky-hostname]")!.TextContent);
        Assert.Equal("—", legacy.QuerySelector("[data-testid=decky-interval]")!.TextContent);
        Assert.Equal("failed", legacy.QuerySelector("[data-testid=shard-state]")!.TextContent.Trim());
        Assert.Equal("worker ran out of disk", legacy.QuerySelector("[data-testid=shard-error]")!.TextContent);
        Assert.Equal("never", legacy.QuerySelector("[data-testid=shard-last-seen]")!.TextContent);
        Assert.Contains("ssh", legacy.QuerySelector("[data-testid=decky-services]")!.TextContent, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("[data-testid=shard-teardown]"));
    }

    [Fact]
    public async Task Several_teardowns_run_at_once_and_their_final_state_arrives_without_reloading()
    {
        var (agent, _) = await DeployedAsync(PersonaIni());
        agent.TeardownGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SignIn(await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin));
        Render<MudPopoverProvider>();
        var cut = Render<DecoyFleet>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=swarm-decky-d1] [data-testid=shard-teardown]")));

        foreach (var name in new[] { "d1", "d2" })
        {
            cut.ClickLive($"[data-testid=swarm-decky-{name}] [data-testid=shard-teardown]");
            // Activity pushes render the cards from other threads too: the click may be handled after Click returns.
            cut.WaitForAssertion(() => Assert.Equal("Confirm teardown", cut.Find($"[data-testid=swarm-decky-{name}] [data-testid=shard-teardown]").TextContent.Trim()));
        }
        Assert.Empty(agent.Teardowns);
        foreach (var name in new[] { "d1", "d2" })
        {
            cut.ClickLive($"[data-testid=swarm-decky-{name}] [data-testid=shard-teardown]");
        }

        cut.WaitForAssertion(() =>
        {
            foreach (var name in new[] { "d1", "d2" })
            {
                var card = cut.Find($"[data-testid=swarm-decky-{name}]");
                Assert.Equal("tearing_down", card.QuerySelector("[data-testid=shard-state]")!.TextContent.Trim());
                Assert.Equal("Tearing down…", card.QuerySelector("[data-testid=shard-teardown]")!.TextContent.Trim());
                Assert.True(card.QuerySelector("[data-testid=shard-teardown]")!.HasAttribute("disabled"));
            }
        }, s_wait);
        Assert.False(cut.Find("[data-testid=swarm-decky-d3] [data-testid=shard-teardown]").HasAttribute("disabled"));

        agent.TeardownGate.SetResult();
        await Get<ShardTeardownQueue>().DrainAsync();

        cut.WaitForAssertion(() =>
        {
            Assert.Empty(cut.FindAll("[data-testid=swarm-decky-d1]"));
            Assert.Empty(cut.FindAll("[data-testid=swarm-decky-d2]"));
        }, s_wait);
        Assert.NotNull(cut.Find("[data-testid=swarm-decky-d3]"));
        Assert.Equal(["d1", "d2"], agent.Teardowns.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_failed_teardown_shows_teardown_failed_with_the_workers_error()
    {
        var (agent, _) = await DeployedAsync(PersonaIni());
        agent.FailTeardownWith = "container d3-redis is stuck";
        SignIn(await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin));
        Render<MudPopoverProvider>();
        var cut = Render<DecoyFleet>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=swarm-decky-d3] [data-testid=shard-teardown]")));

        cut.ClickLive("[data-testid=swarm-decky-d3] [data-testid=shard-teardown]");
        cut.ClickLive("[data-testid=swarm-decky-d3] [data-testid=shard-teardown]");
        await Dispatch.SwarmTeardownTests.WaitForAsync(() => agent.Teardowns.Count == 1);
        await Get<ShardTeardownQueue>().DrainAsync();

        cut.WaitForAssertion(() =>
        {
            var card = cut.Find("[data-testid=swarm-decky-d3]");
            Assert.Equal("teardown_failed", card.QuerySelector("[data-testid=shard-state]")!.TextContent.Trim());
            Assert.Contains("container d3-redis is stuck", card.QuerySelector("[data-testid=shard-error]")!.TextContent, StringComparison.Ordinal);
            Assert.Equal("Retry teardown", card.QuerySelector("[data-testid=shard-teardown]")!.TextContent.Trim());
        }, s_wait);
    }

    [Fact]
    public async Task A_worker_running_deckies_placed_elsewhere_is_shown_reconciling_until_its_heartbeats_match()
    {
        var (_, host) = await DeployedAsync(PersonaIni());
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));
        var cut = Render<DecoyFleet>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=swarm-decky-d1]")));
        Assert.Empty(cut.FindAll("[data-testid=reconciling-worker-a]"));
        var fingerprint = host.ClientCertFingerprint;
        var running = new Core.Swarm.Protocol.AgentDeckyStatus("d1", DeckyShardState.Running, null, []);
        var stray = new Core.Swarm.Protocol.AgentDeckyStatus("old-web", DeckyShardState.Running, null, []);

        var verdict = await Get<SwarmHeartbeats>().AcceptAsync(fingerprint,
            new Core.Swarm.Protocol.HeartbeatRequest(host.Id, "test", new Core.Swarm.Protocol.AgentStatus(true, "embedded", [running, stray])), "127.0.0.1", CancellationToken.None);

        Assert.Equal(["old-web"], verdict.Teardown);
        cut.WaitForAssertion(() => Assert.Contains("worker-a still runs old-web", cut.Find("[data-testid=reconciling-worker-a]").TextContent, StringComparison.Ordinal), s_wait);
        Assert.DoesNotContain(await Get<SwarmOverview>().ShardsAsync(null, CancellationToken.None), s => s.DeckyName == "old-web");

        verdict = await Get<SwarmHeartbeats>().AcceptAsync(fingerprint,
            new Core.Swarm.Protocol.HeartbeatRequest(host.Id, "test", new Core.Swarm.Protocol.AgentStatus(true, "embedded", [running])), "127.0.0.1", CancellationToken.None);

        Assert.Empty(verdict.Teardown);
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=reconciling-worker-a]")), s_wait);
    }

    [Fact]
    public async Task The_shards_of_a_worker_that_falls_silent_turn_unreachable_without_reloading()
    {
        var (_, host) = await DeployedAsync(PersonaIni());
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));
        var cut = Render<DecoyFleet>();
        cut.WaitForAssertion(() => Assert.Equal("running", cut.Find("[data-testid=swarm-decky-d1] [data-testid=shard-state]").TextContent.Trim()), s_wait);

        // The offline sweep finds the worker silent: its last "running" is no longer what the master knows.
        Assert.Equal(1, await Get<SwarmStore>().MarkSilentHostsUnreachableAsync(DateTime.UtcNow.AddMinutes(1), CancellationToken.None));

        cut.WaitForAssertion(() => Assert.All(cut.FindAll("[data-testid=shard-state]"),
            state => Assert.Equal(DeckyShardState.Unreachable, state.TextContent.Trim())), s_wait);
        Assert.Equal(3, cut.FindAll("[data-testid=shard-state]").Count);
        Assert.Equal(SwarmHostStatus.Unreachable, (await Get<SwarmOverview>().HostAsync(host.Id, CancellationToken.None))!.Status);
    }

    private async Task AddLegacyShardAsync(Guid hostId)
    {
        await using var db = await Get<Microsoft.EntityFrameworkCore.IDbContextFactory<Core.Storage.DecnetDbContext>>().CreateDbContextAsync();
        db.DeckyShards.Add(new DeckyShard
        {
            DeckyName = "legacy",
            HostId = hostId,
            Services = "[\"ssh\"]",
            DeckyConfig = null,
            DeckyIp = "10.9.8.7",
            State = DeckyShardState.Failed,
            LastError = "worker ran out of disk",
        });
        await db.SaveChangesAsync();
    }
}
