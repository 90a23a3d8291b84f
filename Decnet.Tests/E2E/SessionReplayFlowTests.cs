using System.Globalization;
using Decnet.Core.Attackers;
using Decnet.Core.Deckies.Embedded;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Recordings;
using Decnet.Core.Users;
using Decnet.Tests.Honeypots;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Decnet.Tests.E2E;

/// <summary>
/// A real OpenSSH client works in a decky's shell and uploads a file; in the browser the analyst replays
/// the recorded session on the attacker's page and, as an admin, downloads the file from the artifact drawer.
/// </summary>
[Trait("Category", TestCategories.EndToEnd)]
public sealed class SessionReplayFlowTests : IAsyncLifetime
{
    private static readonly string[] SshOptions =
    [
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=30",
        "-o", "PubkeyAuthentication=no", "-o", "GSSAPIAuthentication=no",
    ];

    private BrowserSession _session = null!;
    private readonly TempDirectory _files = new("decnet-replay-e2e");

    public async ValueTask InitializeAsync() => _session = await BrowserSession.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task An_ssh_session_is_replayed_on_the_attacker_page_and_its_upload_downloads_from_the_drawer()
    {
        var net = Clients.LabSubnetPrefix();
        var services = _session.Factory.Services;
        var deployed = await services.GetRequiredService<DeckyFleet>().DeployAsync("e2e", $"[general]\nnet = {net}.0/24\ngw = {net}.1\n\n[replay-gate]\nip = {net}.90\nservices = ssh\n", CancellationToken.None);
        Assert.True(deployed.Succeeded, deployed.Message);
        var port = (22 + services.GetRequiredService<EmbeddedDeckyRuntime>().PortOffset).ToString(CultureInfo.InvariantCulture);
        var marker = "replay-marker-" + Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);

        var shell = await ClientProcess.RunAsync("sshpass", ["-p", "admin", "ssh", "-tt", .. SshOptions, "-p", port, $"root@{net}.90"],
            $"echo {marker}\nuname -a\nexit\n");
        Assert.True(shell.ExitCode == 0, shell.Stderr);
        var payload = Path.Combine(_files.Path, "dropper.sh");
        await File.WriteAllTextAsync(payload, "#!/bin/sh\necho " + marker + "\n");
        var upload = await ClientProcess.RunAsync("sshpass", ["-p", "admin", "scp", "-O", .. SshOptions, "-P", port, payload, $"root@{net}.90:/tmp/"]);
        Assert.True(upload.ExitCode == 0, upload.Stderr);

        await _session.Factory.CreateActiveUserAsync("hunter", UserRole.Admin);
        await _session.SignInAsync("hunter", "hunter-password-1");
        var page = _session.Page;

        // The recording is announced when the shell closes; wait until ingest and profiler have it, then open the attacker.
        var attacker = await WaitForAttackerWithRecordingAsync(services);
        await page.GotoAsync($"/attackers/{attacker}");
        await _session.WaitForCircuitAsync();

        await Assertions.Expect(page.GetByTestId("session-row")).ToContainTextAsync("replay-gate");
        await page.GetByTestId("session-replay-open").First.ClickAsync();
        await Assertions.Expect(page.GetByTestId("replay-play")).ToBeVisibleAsync();
        await page.GetByTestId("replay-speed").SelectOptionAsync("16");
        await page.GetByTestId("replay-play").ClickAsync();
        await Assertions.Expect(page.GetByTestId("replay-screen")).ToContainTextAsync(marker, new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("replay-screen")).ToContainTextAsync("Linux", new() { Timeout = 30_000 });
        await _session.ScreenshotAsync("session-replay");

        await Assertions.Expect(page.GetByTestId("artifact-open")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.GetByTestId("artifact-open").First.ClickAsync();
        await Assertions.Expect(page.GetByTestId("artifact-path")).ToHaveTextAsync("/tmp/dropper.sh");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("artifact-download").ClickAsync());
        Assert.Equal("dropper.sh", download.SuggestedFilename);
        Assert.Equal(await File.ReadAllTextAsync(payload), await File.ReadAllTextAsync((await download.PathAsync())!));
    }

    private static async Task<Guid> WaitForAttackerWithRecordingAsync(IServiceProvider services)
    {
        var directory = services.GetRequiredService<AttackerDirectory>();
        var recordings = services.GetRequiredService<SessionRecordings>();
        for (var attempt = 0; attempt < 120; attempt++)
        {
            foreach (var attacker in (await directory.ListAsync(new AttackerQuery(Service: "ssh"), CancellationToken.None)).Data)
            {
                var sessions = await recordings.ListAsync(attacker.Id, CancellationToken.None) ?? [];
                var artifacts = await directory.ArtifactsAsync(attacker.Id, CancellationToken.None) ?? [];
                if (sessions.Any(r => r.Available) && artifacts.Count > 0)
                {
                    return attacker.Id;
                }
            }
            await Task.Delay(250);
        }
        throw new Xunit.Sdk.XunitException("No attacker with a recorded session and a captured file appeared within 30 s.");
    }
}
