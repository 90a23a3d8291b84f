using Decnet.Core.Deckies.Embedded;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Decnet.Tests.E2E;

/// <summary>
/// Real attacker clients against two embedded deckies; the analyst then sees the attack in the
/// browser: live logs, the attacker's traversal and commands, and the captured credential.
/// </summary>
[Trait("Category", TestCategories.EndToEnd)]
public sealed class AttackFlowTests : IAsyncLifetime
{
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync() => _session = await BrowserSession.StartAsync();

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task An_ssh_login_and_an_http_scan_show_up_as_one_traversing_attacker_with_commands_and_bounty()
    {
        var net = Clients.LabSubnetPrefix();
        var services = _session.Factory.Services;
        var ini = $"[general]\nnet = {net}.0/24\ngw = {net}.1\n\n[gate-ssh]\nip = {net}.80\nservices = ssh\n\n[gate-web]\nip = {net}.81\nservices = http\n";
        var deployed = await services.GetRequiredService<DeckyFleet>().DeployAsync("e2e", ini, CancellationToken.None);
        Assert.True(deployed.Succeeded, deployed.Message);
        var offset = services.GetRequiredService<EmbeddedDeckyRuntime>().PortOffset;

        var (sshExit, sshOutput) = await Clients.RunAsync("sshpass", ["-p", "admin", "ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "ConnectTimeout=10", "-p", (22 + offset).ToString(System.Globalization.CultureInfo.InvariantCulture), $"root@{net}.80", "uname -a; id"], TimeSpan.FromSeconds(60));
        Assert.True(sshExit == 0, sshOutput);
        Assert.Contains("uid=0(root)", sshOutput, StringComparison.Ordinal);
        var (curlExit, _) = await Clients.RunAsync("curl", ["-s", "-o", "/dev/null", "-A", "sqlmap/1.7", $"http://{net}.81:{80 + offset}/admin/config.php"]);
        Assert.Equal(0, curlExit);

        await _session.Factory.CreateActiveUserAsync("analyst", UserRole.Viewer);
        await _session.SignInAsync("analyst", "analyst-password-1");
        var page = _session.Page;

        await _session.WaitForStoredLogsAsync("decky:gate-ssh \"uname -a\"");
        await page.GotoAsync($"/logs?q={Uri.EscapeDataString("decky:gate-ssh")}");
        await Assertions.Expect(page.GetByTestId("log-table")).ToContainTextAsync("uname -a", new() { Timeout = 30_000 });

        await page.GotoAsync("/attackers");
        var card = page.GetByTestId("attacker-card").Filter(new() { HasText = "gate-web" });
        await Assertions.Expect(card).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await card.First.ClickAsync();

        await Assertions.Expect(page.GetByTestId("traversal-path")).ToContainTextAsync("gate-ssh", new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("traversal-path")).ToContainTextAsync("gate-web", new() { Timeout = 30_000 });
        // The profile may list the traversal before its commands: the page shows them when the profiler's next pass lands.
        await Assertions.Expect(page.GetByTestId("commands")).ToContainTextAsync("uname -a", new() { Timeout = 30_000 });
        await _session.ScreenshotAsync("attacker-detail");

        await page.GotoAsync("/bounty");
        await Assertions.Expect(page.GetByTestId("bounty-table")).ToContainTextAsync("sqlmap/1.7", new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("bounty-table")).ToContainTextAsync("root", new() { Timeout = 30_000 });
    }
}
