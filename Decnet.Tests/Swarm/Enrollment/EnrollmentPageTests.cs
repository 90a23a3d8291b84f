using AngleSharp.Dom;
using Bunit;
using Decnet.Core.Notifications;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Authentication;
using Decnet.Web.Components;
using EnrollmentPage = Decnet.Web.Swarm.Pages.Enrollment;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MudBlazor.Services;

namespace Decnet.Tests.Swarm.Enrollment;

/// <summary>The Agent Enrollment page with the real enrollment service and a hand-driven clock.</summary>
[Trait("Category", TestCategories.Unit)]
public sealed class EnrollmentPageTests : BunitContext, IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private CoreTestBed _bed = null!;

    public async ValueTask InitializeAsync()
    {
        _bed = await CoreTestBed.StartAsync(time: _time);
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<TimeProvider>(_time);
        Services.AddSingleton(_bed.Services.GetRequiredService<EnrollmentService>());
        Services.AddSingleton(_bed.Services.GetRequiredService<NotificationHub>());
        Services.AddSingleton(_bed.Services.GetRequiredService<IOptions<SwarmOptions>>());
        Services.AddSingleton(_bed.Users);
        Services.AddSingleton<SessionValidator>();
        Services.AddScoped<CurrentOperator>();
        Admin = await _bed.CreateActiveUserAsync("chief", "chief-password-1", UserRole.Admin);
        Decnet.Tests.Web.Components.DashboardAuthorization.SignIn(this, Admin);
    }

    private User Admin { get; set; } = null!;

    public new async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _bed.DisposeAsync();
    }

    private static IElement Field(IRenderedComponent<EnrollmentPage> cut, string id)
    {
        var element = cut.Find($"[data-testid={id}]");
        return element.TagName is "INPUT" or "TEXTAREA" ? element : element.QuerySelector("input, textarea")!;
    }

    [Fact]
    public async Task Generating_shows_the_one_liner_with_a_countdown_that_ticks_down_to_expired()
    {
        var cut = Render<EnrollmentPage>();
        Assert.Equal("localhost", Field(cut, "master-host").GetAttribute("value"));
        Assert.NotNull(cut.Find("[data-testid=enroll-empty]"));

        Field(cut, "master-host").Change("10.1.2.3");
        Field(cut, "agent-name").Change("wifi-7");
        Field(cut, "use-ipvlan").Change(true);
        await cut.Find("[data-testid=enroll-generate]").ClickAsync(new());

        var pin = _bed.Services.GetRequiredService<SwarmMasterCredentials>().MasterPublicKeyPin;
        cut.WaitForAssertion(() => Assert.StartsWith($"curl -fsS --proto =https --insecure --pinnedpubkey 'sha256//{pin}' 'https://10.1.2.3:8771/enroll/", cut.Find("[data-testid=enroll-command]").TextContent));
        Assert.EndsWith(".sh' | sudo bash", cut.Find("[data-testid=enroll-command]").TextContent);
        // What the worker must reach, and no warning for a LAN address.
        var reach = cut.FindAll("[data-testid=enroll-reach] li").Select(li => li.TextContent).ToList();
        Assert.Equal(3, reach.Count);
        Assert.StartsWith("10.1.2.3:8771", reach[0]);
        Assert.StartsWith("10.1.2.3:8770", reach[1]);
        Assert.StartsWith("10.1.2.3:6514", reach[2]);
        Assert.Empty(cut.FindAll("[data-testid=enroll-warning]"));
        Assert.Equal("5:00", cut.Find("[data-testid=enroll-countdown]").TextContent.Trim());
        var host = (await _bed.Services.GetRequiredService<SwarmOverview>().HostRecordsAsync(null, withShards: false, CancellationToken.None)).Single();
        Assert.Equal(("wifi-7", true), (host.Name, host.UseIpvlan));

        _time.Advance(TimeSpan.FromSeconds(61));
        cut.WaitForAssertion(() => Assert.Equal("3:59", cut.Find("[data-testid=enroll-countdown]").TextContent.Trim()));

        _time.Advance(TimeSpan.FromMinutes(4));
        cut.WaitForAssertion(() => Assert.Equal("expired", cut.Find("[data-testid=enroll-countdown]").TextContent.Trim()));
        Assert.True(cut.Find("[data-testid=enroll-copy]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task The_copy_button_puts_the_command_on_the_clipboard()
    {
        var clipboard = JSInterop.SetupVoid("navigator.clipboard.writeText", _ => true);
        clipboard.SetVoidResult();
        var cut = Render<EnrollmentPage>();
        Field(cut, "agent-name").Change("copy-me");
        await cut.Find("[data-testid=enroll-generate]").ClickAsync(new());
        cut.WaitForAssertion(() => cut.Find("[data-testid=enroll-command]"));

        await cut.Find("[data-testid=enroll-copy]").ClickAsync(new());

        var copied = Assert.Single(clipboard.Invocations);
        Assert.Equal(cut.Find("[data-testid=enroll-command]").TextContent, copied.Arguments[0]);
        cut.WaitForAssertion(() => Assert.Contains("Copied", cut.Find("[data-testid=enroll-copied]").TextContent));
    }

    [Fact]
    public async Task A_loopback_master_host_shows_a_warning_next_to_the_command()
    {
        var cut = Render<EnrollmentPage>();

        Field(cut, "agent-name").Change("local-7");
        await cut.Find("[data-testid=enroll-generate]").ClickAsync(new());

        cut.WaitForAssertion(() => Assert.Contains("localhost is a loopback address", cut.Find("[data-testid=enroll-warning]").TextContent));
        Assert.NotNull(cut.Find("[data-testid=enroll-command]"));
    }

    [Fact]
    public async Task A_taken_name_shows_the_error_and_no_command()
    {
        var busy = await _bed.Services.GetRequiredService<EnrollmentService>().EnrollAsync(new WorkerEnrollmentRequest("busy", "10.0.0.2"), CancellationToken.None);
        // Connected once: the name is taken for good (a name that never connected could be enrolled again).
        await _bed.Services.GetRequiredService<SwarmStore>().RecordHeartbeatAsync(busy.Host.Id, new Decnet.Core.Swarm.Protocol.AgentStatus(false, "embedded", []), "10.0.0.2", CancellationToken.None);
        var cut = Render<EnrollmentPage>();

        Field(cut, "agent-name").Change("busy");
        await cut.Find("[data-testid=enroll-generate]").ClickAsync(new());

        cut.WaitForAssertion(() => Assert.Contains("already enrolled", cut.Find("[data-testid=enroll-error]").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=enroll-command]"));
    }

    [Fact]
    public async Task The_first_heartbeat_of_the_new_worker_is_announced_live()
    {
        var cut = Render<EnrollmentPage>();
        Field(cut, "agent-name").Change("announce");
        await cut.Find("[data-testid=enroll-generate]").ClickAsync(new());
        cut.WaitForAssertion(() => cut.Find("[data-testid=enroll-command]"));
        var host = (await _bed.Services.GetRequiredService<SwarmOverview>().HostRecordsAsync(null, withShards: false, CancellationToken.None)).Single();

        await _bed.Services.GetRequiredService<SwarmStore>().RecordHeartbeatAsync(host.Id, new Decnet.Core.Swarm.Protocol.AgentStatus(false, "embedded", []), null, CancellationToken.None);

        cut.WaitForAssertion(() => Assert.Contains("announce sent its first heartbeat", cut.Find("[data-testid=enroll-checked-in]").TextContent));
    }

    [Fact]
    public async Task Generating_from_an_open_page_after_the_admin_was_demoted_is_refused()
    {
        var cut = Render<EnrollmentPage>();
        Field(cut, "agent-name").Change("late-worker");
        Assert.True((await _bed.Users.SetRoleAsync(Guid.NewGuid(), "other-admin", Admin.Id, UserRole.Viewer, CancellationToken.None)).Succeeded);

        await cut.Find("[data-testid=enroll-generate]").ClickAsync(new());

        cut.WaitForAssertion(() => Assert.Equal(CurrentOperator.AdminRightsGone, cut.Find("[data-testid=enroll-error]").TextContent.Trim()));
        Assert.Empty(cut.FindAll("[data-testid=enroll-command]"));
        Assert.Empty(await _bed.Services.GetRequiredService<Decnet.Core.Swarm.SwarmOverview>().HostRecordsAsync(null, false, CancellationToken.None));
    }
}
