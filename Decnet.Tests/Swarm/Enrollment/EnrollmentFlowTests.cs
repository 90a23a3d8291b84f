using System.Diagnostics;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Decnet.Tests.Swarm.Enrollment;

/// <summary>
/// In Chromium: an admin opens Agent Enrollment from the menu, generates the command, watches the
/// countdown tick, and the printed URL really serves the script once (fetched with curl).
/// </summary>
[Trait("Category", TestCategories.EndToEnd)]
public sealed class EnrollmentFlowTests : IAsyncLifetime
{
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync() => _session = await BrowserSession.StartAsync();

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task An_admin_generates_the_bootstrap_command_and_sees_the_countdown()
    {
        await _session.Factory.CreateActiveUserAsync("enroller", UserRole.Admin);
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
        await Assertions.Expect(command).ToContainTextAsync("curl -fsSL http://127.0.0.1:", new() { Timeout = 60_000 });
        await Assertions.Expect(command).ToContainTextAsync("| sudo bash");
        var countdown = page.GetByTestId("enroll-countdown");
        await Assertions.Expect(countdown).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[45]:[0-5][0-9]$"));
        var first = (await countdown.InnerTextAsync()).Trim();
        // Live: the countdown moves on its own over the circuit.
        await Assertions.Expect(countdown).Not.ToHaveTextAsync(first, new() { Timeout = 5_000 });
        await _session.ScreenshotAsync("enrollment");

        // The printed command works once: curl gets the script, a second curl is refused.
        var url = (await command.InnerTextAsync()).Split(' ')[2];
        var (ok, script) = await CurlAsync(url);
        Assert.Equal(0, ok);
        Assert.Contains("lab-worker-1", script);
        var (again, _) = await CurlAsync(url);
        Assert.NotEqual(0, again);
    }

    private static async Task<(int ExitCode, string Output)> CurlAsync(string url)
    {
        var start = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-fsSL", "--max-time", "20", url })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
