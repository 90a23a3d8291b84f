using Bunit;
using Decnet.Core.Attackers;
using Decnet.Core.Recordings;
using Decnet.Core.Notifications;
using Decnet.Core.Search;
using Decnet.Core.Users;
using Decnet.Tests.Attackers;
using Decnet.Tests.Web.Components;
using Decnet.Web.Attackers.Pages;
using Decnet.Web.Events.Pages;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Recordings;

/// <summary>Attacker detail's recorded sessions and artifact drawer, and the Live Logs drawer, on the real services.</summary>
public sealed class AttackerSessionsPageTests : ComponentTestContext
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Services.AddSingleton(Bed.Services.GetRequiredService<AttackerDirectory>());
        Services.AddSingleton(Bed.Services.GetRequiredService<NotificationHub>());
        Services.AddSingleton(Bed.Services.GetRequiredService<SessionRecordings>());
        Services.AddSingleton(Bed.Services.GetRequiredService<LogSearch>());
        SignIn(await Bed.CreateActiveUserAsync("viewer", "viewer-password-1", UserRole.Viewer));
        await AttackerSeed.AddAsync(Bed.Services, [.. AttackerSeed.Scenario(),
            AttackerSeed.Log(50, "decky-01", "ssh", "session_recorded", "198.51.100.7",
                $$"""{"recording":"{{RecordingsApiTests.Recording}}","bytes":"200","duration":"1.000","truncated":"false","username":"root"}""")]);
        await Bed.Services.GetRequiredService<AttackerProfiler>().RunOnceAsync(CancellationToken.None);
        var folder = Directory.CreateDirectory(Path.Combine(Bed.DataDirectory, "deckies", "decky-01", "ssh", "recordings"));
        await File.WriteAllTextAsync(Path.Combine(folder.FullName, RecordingsApiTests.Recording), RecordingsApiTests.Cast);
    }

    private async Task<IRenderedComponent<AttackerDetail>> DetailAsync()
    {
        var attacker = (await Bed.Services.GetRequiredService<AttackerDirectory>().ListAsync(new AttackerQuery(Search: "198.51.100.7"), CancellationToken.None)).Data.Single();
        var page = Render<AttackerDetail>(p => p.Add(x => x.Id, attacker.Id));
        page.WaitForAssertion(() => page.Find("[data-testid=detail-ip]"));
        return page;
    }

    [Fact]
    public async Task A_recorded_session_is_listed_and_replays_in_the_page()
    {
        var page = await DetailAsync();

        var row = page.Find("[data-testid=session-row]");
        Assert.Contains("root", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("decky-01", row.TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=session-replay]"));

        page.Find("[data-testid=session-replay-open]").Click();

        // The player reads the recording asynchronously: seek once it is there, again until the frame shows.
        page.WaitForAssertion(() =>
        {
            page.Find("[data-testid=replay-seek]").Change("1000");
            Assert.Contains("Linux gate", page.Find("[data-testid=replay-screen]").TextContent, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_session_whose_file_is_gone_cannot_be_replayed()
    {
        File.Delete(Path.Combine(Bed.DataDirectory, "deckies", "decky-01", "ssh", "recordings", RecordingsApiTests.Recording));

        var page = await DetailAsync();

        Assert.True(page.Find("[data-testid=session-replay-open]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task The_artifact_icon_opens_the_drawer_with_the_capture_metadata()
    {
        var page = await DetailAsync();

        page.Find("[data-testid=artifact-open]").Click();

        page.WaitForAssertion(() => Assert.Equal("/tmp/y", page.Find("[data-testid=artifact-path]").TextContent.Trim()));
        Assert.Equal("00", page.Find("[data-testid=artifact-sha256]").TextContent.Trim());
        Assert.Empty(page.FindAll("[data-testid=artifact-download]"));
    }

    [Fact]
    public void On_live_logs_the_artifact_icon_opens_the_drawer_without_expanding_the_row()
    {
        // The seeded events are from 2026-01-01: outside the default 24 hours.
        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo("/logs?range=all");
        var page = Render<LiveLogs>();
        page.WaitForAssertion(() => page.Find("[data-testid=artifact]"));

        page.Find("[data-testid=artifact]").Click();

        page.WaitForAssertion(() => Assert.Equal("/tmp/y", page.Find("[data-testid=artifact-path]").TextContent.Trim()));
        Assert.Equal("00", page.Find("[data-testid=artifact-sha256]").TextContent.Trim());
        Assert.Empty(page.FindAll("[data-testid=log-details]"));
    }
}
