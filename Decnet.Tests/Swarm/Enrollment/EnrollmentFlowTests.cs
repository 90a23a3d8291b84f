using System.Diagnostics;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Decnet.Tests.Swarm.Enrollment;

/// <summary>
/// In Chromium: an admin opens Agent Enrollment from the menu, generates the command, watches the
/// countdown tick and reads where workers must connect; the printed command's pinned curl really
/// fetches the script from the enrollment endpoint, again on a retry.
/// </summary>
[Trait("Category", TestCategories.EndToEnd)]
public sealed class EnrollmentFlowTests : IAsyncLifetime
{
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync() => _session = await BrowserSession.StartAsync(new Dictionary<string, string?>
    {
        ["Decnet:Swarm:Enabled"] = "true",
    });

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task An_admin_generates_the_bootstrap_command_and_sees_the_countdown()
    {
        // Straight through the directory: with the swarm on, the factory's own client would pick the https endpoint.
        var users = _session.Factory.Users;
        var created = await users.CreateAsync("test", "enroller", "enroller-password-1-temp", UserRole.Admin, CancellationToken.None);
        Assert.True((await users.ChangePasswordAsync(created.User!.Id, "enroller-password-1-temp", "enroller-password-1", CancellationToken.None)).Succeeded);
        await _session.SignInAsync("enroller", "enroller-password-1");
        var page = _session.Page;
        await _session.WaitForCircuitAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Agent Enrollment" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("enroll-empty")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("master-host")).ToHaveValueAsync("127.0.0.1");
        await page.GetByTestId("agent-name").FillAsync("lab-worker-1");
        await page.GetByTestId("enroll-generate").ClickAsync();

        var command = page.GetByTestId("enroll-command");
        // Building the bundle compresses the whole agent build: allow for a busy machine.
        await Assertions.Expect(command).ToContainTextAsync("curl -fsS --proto =https --insecure --pinnedpubkey 'sha256//", new() { Timeout = 60_000 });
        await Assertions.Expect(command).ToContainTextAsync("https://127.0.0.1:");
        await Assertions.Expect(command).ToContainTextAsync("| sudo bash");
        var countdown = page.GetByTestId("enroll-countdown");
        await Assertions.Expect(countdown).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[45]:[0-5][0-9]$"));
        var first = (await countdown.InnerTextAsync()).Trim();
        // Live: the countdown moves on its own over the circuit.
        await Assertions.Expect(countdown).Not.ToHaveTextAsync(first, new() { Timeout = 5_000 });
        await Assertions.Expect(page.GetByTestId("enroll-reach").Locator("li")).ToHaveCountAsync(3);
        // This test master listens on loopback only: the page says so.
        await Assertions.Expect(page.GetByTestId("enroll-warning").First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("The dashboard listens only on loopback")).ToBeVisibleAsync();
        await _session.ScreenshotAsync("enrollment");

        // The printed command's curl (the part before the pipe) gets the script, and again on a retry.
        var text = (await command.InnerTextAsync()).Trim();
        var curl = text[..text.IndexOf(" | sudo bash", StringComparison.Ordinal)];
        var (ok, script) = await BashAsync(curl);
        Assert.True(ok == 0, script);
        Assert.Contains("AGENT_NAME='lab-worker-1'", script);
        var (again, scriptAgain) = await BashAsync(curl);
        Assert.Equal(0, again);
        Assert.Equal(script, scriptAgain);
    }

    private static async Task<(int ExitCode, string Output)> BashAsync(string command)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command + " --max-time 20");
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, process.ExitCode == 0 ? output : error);
    }
}
