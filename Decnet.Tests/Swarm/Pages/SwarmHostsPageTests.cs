using Bunit;
using Decnet.Core.Notifications;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Core.Swarm.Security;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Swarm.Dispatch;
using Decnet.Web.Swarm.Pages;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor;

namespace Decnet.Tests.Swarm.Pages;

[Trait("Category", TestCategories.Integration)]
public sealed class SwarmHostsPageTests : SwarmPageContext
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        // The page's clock only: heartbeat ages tick when the test advances it.
        Services.AddSingleton<TimeProvider>(_time);
    }

    private IRenderedComponent<SwarmHosts> RenderPage()
    {
        Render<MudPopoverProvider>();
        return Render<SwarmHosts>();
    }

    [Fact]
    public async Task A_worker_is_listed_from_its_enrollment_as_the_page_says_before_any_heartbeat()
    {
        SignIn(await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin));
        var cut = RenderPage();
        cut.WaitForAssertion(() => Assert.Contains("listed here as soon as it is enrolled", cut.Find("[data-testid=hosts-empty]").TextContent, StringComparison.Ordinal));

        await Get<Decnet.Core.Swarm.Enrollment.EnrollmentService>().CreateBundleAsync(
            new Decnet.Core.Swarm.Enrollment.BundleEnrollmentRequest("master.lab", "edge-7", WithUpdater: false, UseIpvlan: false, null),
            CancellationToken.None);

        // No heartbeat was sent: the row is there already, enrolled and waiting for its first connection.
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=host-edge-7]")), s_wait);
        var row = cut.Find("[data-testid=host-edge-7]");
        Assert.Contains("enrolled", row.QuerySelector("[data-testid=host-status]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("pending first connect", row.QuerySelector("[data-testid=host-address]")!.TextContent);
        Assert.Equal("never", row.QuerySelector("[data-testid=host-heartbeat]")!.TextContent);
    }

    [Fact]
    public async Task Each_host_shows_status_address_fingerprint_enrolled_decky_count_and_a_heartbeat_age_that_ticks()
    {
        var (agent, _) = await WorkerAsync("worker-a", h => h.LastHeartbeat = _time.GetUtcNow().UtcDateTime.AddSeconds(-5));
        await SwarmBed.AddHostAsync(Bed.Services, Pending(TlsAgentServer.DeadHost("worker-new", SwarmHostStatus.Enrolled)));
        await DeployAsync("d1", "d2");
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));

        var cut = RenderPage();

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=host-worker-a]")));
        var row = cut.Find("[data-testid=host-worker-a]");
        Assert.Contains("active", row.QuerySelector("[data-testid=host-status]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal($"127.0.0.1:{agent.Port}", row.QuerySelector("[data-testid=host-address]")!.TextContent);
        Assert.Equal("2", row.QuerySelector("[data-testid=host-deckies]")!.TextContent);
        var fingerprint = row.QuerySelector("[data-testid=host-fingerprint]")!;
        Assert.Equal($"{agent.Fingerprint[..8]}…{agent.Fingerprint[^8..]}", fingerprint.TextContent);
        Assert.Equal(agent.Fingerprint, fingerprint.GetAttribute("title"));
        Assert.Contains(DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), row.TextContent, StringComparison.Ordinal);
        Assert.Equal("5 s ago", row.QuerySelector("[data-testid=host-heartbeat]")!.TextContent);
        var pending = cut.Find("[data-testid=host-worker-new]");
        Assert.Equal("pending first connect", pending.QuerySelector("[data-testid=host-address]")!.TextContent);
        Assert.Equal("never", pending.QuerySelector("[data-testid=host-heartbeat]")!.TextContent);

        _time.Advance(TimeSpan.FromSeconds(1));
        cut.WaitForAssertion(() => Assert.Equal("6 s ago", cut.Find("[data-testid=host-worker-a] [data-testid=host-heartbeat]").TextContent), s_wait);
        _time.Advance(TimeSpan.FromSeconds(60));
        cut.WaitForAssertion(() => Assert.Equal("1 min 6 s ago", cut.Find("[data-testid=host-worker-a] [data-testid=host-heartbeat]").TextContent), s_wait);
        // Viewers read; only admins act.
        Assert.Empty(cut.FindAll("[data-testid=host-teardown]"));
        Assert.Empty(cut.FindAll("[data-testid=host-decommission]"));
    }

    [Fact]
    public async Task Teardown_all_is_confirmed_then_shows_its_own_in_flight_state_until_the_worker_answers()
    {
        var (agent, host) = await WorkerAsync("worker-a");
        await DeployAsync("d1", "d2");
        agent.TeardownGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SignIn(await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin));
        var dialogs = Render<MudDialogProvider>();
        var cut = RenderPage();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=host-worker-a] [data-testid=host-teardown]")));

        // Cancelling the confirmation changes nothing.
        cut.Find("[data-testid=host-teardown]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Tear down all 2 decky(ies) on worker-a", dialogs.Find("[data-testid=confirm-text]").TextContent, StringComparison.Ordinal));
        dialogs.Find("[data-testid=confirm-cancel]").Click();
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=confirm-text]")));
        Assert.Empty(agent.Teardowns);
        Assert.All(await SwarmBed.ShardsAsync(Bed.Services), s => Assert.Equal(DeckyShardState.Running, s.State));

        cut.Find("[data-testid=host-teardown]").Click();
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=confirm-yes]").Click());

        cut.WaitForAssertion(() =>
        {
            var button = cut.Find("[data-testid=host-worker-a] [data-testid=host-teardown]");
            Assert.Equal("Tearing down…", button.TextContent.Trim());
            Assert.True(button.HasAttribute("disabled"));
        }, s_wait);
        // Its own state: decommission on the same row is still available.
        Assert.False(cut.Find("[data-testid=host-worker-a] [data-testid=host-decommission]").HasAttribute("disabled"));
        Assert.All(await SwarmBed.ShardsAsync(Bed.Services), s => Assert.Equal(DeckyShardState.TearingDown, s.State));

        agent.TeardownGate.SetResult();
        await Get<ShardTeardownQueue>().DrainAsync();

        cut.WaitForAssertion(() =>
        {
            Assert.Equal("0", cut.Find("[data-testid=host-worker-a] [data-testid=host-deckies]").TextContent);
            Assert.Equal("Teardown all", cut.Find("[data-testid=host-worker-a] [data-testid=host-teardown]").TextContent.Trim());
        }, s_wait);
        Assert.Equal(SwarmHostStatus.Active, (await Get<SwarmOverview>().HostsAsync(CancellationToken.None)).Single(h => h.Id == host.Id).Status);
    }

    [Fact]
    public async Task Decommission_is_confirmed_shows_decommissioning_on_that_row_only_then_the_row_goes()
    {
        var (agent, _) = await WorkerAsync("worker-a");
        await WorkerAsync("worker-b");
        agent.SelfDestructGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SignIn(await Bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin));
        var dialogs = Render<MudDialogProvider>();
        var cut = RenderPage();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=host-worker-a] [data-testid=host-decommission]")));

        cut.Find("[data-testid=host-worker-a] [data-testid=host-decommission]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Decommission worker-a?", dialogs.Find("[data-testid=confirm-text]").TextContent, StringComparison.Ordinal));
        dialogs.Find("[data-testid=confirm-yes]").Click();

        cut.WaitForAssertion(() =>
        {
            var button = cut.Find("[data-testid=host-worker-a] [data-testid=host-decommission]");
            Assert.Equal("Decommissioning…", button.TextContent.Trim());
            Assert.True(button.HasAttribute("disabled"));
        }, s_wait);
        Assert.False(cut.Find("[data-testid=host-worker-b] [data-testid=host-decommission]").HasAttribute("disabled"));

        agent.SelfDestructGate.SetResult();

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=host-worker-a]")), s_wait);
        Assert.NotNull(cut.Find("[data-testid=host-worker-b]"));
        Assert.Equal(1, agent.SelfDestructs);
    }

    [Fact]
    public async Task Refused_swarm_connections_are_listed_as_security_events_and_new_ones_appear_within_a_tick()
    {
        var events = Get<SwarmSecurityEvents>();
        events.Record(SwarmGate.ControllerEndpoint, "10.66.0.5", SwarmRefusal.Revoked, "retired", new string('a', 64), "the certificate was revoked");
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));

        var cut = RenderPage();

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=security-event]")), s_wait);
        var row = cut.Find("[data-testid=security-event]");
        Assert.Contains("10.66.0.5", row.TextContent, StringComparison.Ordinal);
        Assert.Equal("revoked", row.QuerySelector("[data-testid=security-refusal]")!.TextContent);
        Assert.Contains("retired aaaaaaaa…aaaaaaaa", row.TextContent, StringComparison.Ordinal);

        // A self-signed knock on the log listener: listed at the next tick, newest first.
        events.Record(SwarmGate.LogListenerEndpoint, "10.66.0.9", SwarmRefusal.SelfSigned, "evil\u001b[31m", null, "a self-signed certificate");
        _time.Advance(TimeSpan.FromSeconds(1));
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=security-event]").Count), s_wait);
        var newest = cut.FindAll("[data-testid=security-event]")[0];
        Assert.Equal("self-signed", newest.QuerySelector("[data-testid=security-refusal]")!.TextContent);
        Assert.DoesNotContain("\u001b", newest.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_change_published_elsewhere_arrives_without_reloading()
    {
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));
        var cut = RenderPage();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=hosts-empty]")));

        var host = await SwarmBed.AddHostAsync(Bed.Services, TlsAgentServer.DeadHost("worker-late"));
        Get<NotificationHub>().Publish(new SwarmChanged("deployed", host.Id));

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=host-worker-late]")), s_wait);
        Assert.Contains("1 host(s) · 1 active", cut.Find("[data-testid=hosts-summary]").TextContent, StringComparison.Ordinal);
    }

    private static SwarmHost Pending(SwarmHost host)
    {
        host.Address = null;
        host.LastHeartbeat = null;
        return host;
    }
}
