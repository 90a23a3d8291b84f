using Bunit;
using Decnet.Core.Search;
using Decnet.Core.Users;
using Decnet.Web.Components.Controls;

namespace Decnet.Tests.Web.Components;

/// <summary>The artifact drawer: every viewer sees the capture metadata, only admins get the download.</summary>
public sealed class ArtifactDrawerTests : ComponentTestContext
{
    private static readonly ArtifactDetails Artifact = ArtifactDetails.From(new LogRow(
        42, new DateTime(2026, 1, 1, 12, 0, 5, DateTimeKind.Utc), "gate", "ssh", "file_captured", "198.51.100.7", "<13>1 ...",
        new Dictionary<string, string>
        {
            ["stored_as"] = "20260101T120005Z_0123456789ab_x.sh",
            ["sha256"] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ["size"] = "1234",
            ["orig_path"] = "/tmp/x.sh",
            ["ssh_user"] = "root",
            ["method"] = "scp",
        }, null, null, null));

    private IRenderedComponent<ArtifactDrawer> RenderOpen() =>
        Render<ArtifactDrawer>(p => p.Add(x => x.Open, true).Add(x => x.Artifact, Artifact));

    [Fact]
    public async Task An_admin_sees_the_metadata_and_a_download_link_to_the_exact_stored_file()
    {
        SignIn(await Bed.CreateActiveUserAsync("boss", "boss-password-1", UserRole.Admin));

        var drawer = RenderOpen();

        Assert.Equal("/tmp/x.sh", drawer.Find("[data-testid=artifact-path]").TextContent.Trim());
        Assert.Equal(Artifact.Sha256, drawer.Find("[data-testid=artifact-sha256]").TextContent.Trim());
        Assert.Equal("1,234 bytes", drawer.Find("[data-testid=artifact-size]").TextContent.Trim());
        Assert.Equal("gate", drawer.Find("[data-testid=artifact-decky]").TextContent.Trim());
        Assert.Equal("198.51.100.7", drawer.Find("[data-testid=artifact-ip]").TextContent.Trim());
        Assert.Contains("root", drawer.Find("[data-testid=artifact-metadata]").TextContent, StringComparison.Ordinal);
        Assert.Contains("2026-01-01 12:00:05", drawer.Find("[data-testid=artifact-metadata]").TextContent, StringComparison.Ordinal);
        Assert.Equal("/downloads/artifacts/gate/ssh/20260101T120005Z_0123456789ab_x.sh", drawer.Find("[data-testid=artifact-download]").GetAttribute("href"));
    }

    [Fact]
    public async Task A_viewer_sees_the_metadata_but_no_download()
    {
        SignIn(await Bed.CreateActiveUserAsync("watcher", "watcher-password-1", UserRole.Viewer));

        var drawer = RenderOpen();

        Assert.Equal(Artifact.Sha256, drawer.Find("[data-testid=artifact-sha256]").TextContent.Trim());
        Assert.Empty(drawer.FindAll("[data-testid=artifact-download]"));
        Assert.Empty(drawer.FindAll("a[href*='/artifacts/']"));
        Assert.NotNull(drawer.Find("[data-testid=artifact-download-admin-only]"));
    }

    [Fact]
    public async Task Closing_reports_the_drawer_closed()
    {
        SignIn(await Bed.CreateActiveUserAsync("watcher", "watcher-password-1", UserRole.Viewer));
        bool? open = null;
        var drawer = Render<ArtifactDrawer>(p => p.Add(x => x.Open, true).Add(x => x.Artifact, Artifact).Add(x => x.OpenChanged, value => open = value));

        drawer.Find("[data-testid=artifact-close]").Click();

        Assert.False(open);
    }
}
