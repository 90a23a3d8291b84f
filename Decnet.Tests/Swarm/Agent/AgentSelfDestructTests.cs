using System.Diagnostics;
using System.Globalization;
using System.Net;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm.Protocol;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Agent;

/// <summary>Self-destruct in a sandboxed install: the detached reaper wipes the worker (install, settings, state), stops supervised processes and keeps the logs.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AgentSelfDestructTests
{
    [Fact]
    public async Task The_reaper_wipes_the_install_even_when_the_agent_is_killed_right_after_the_202()
    {
        await using var sandbox = new AgentSandbox();
        await sandbox.StartAsync();
        using var master = sandbox.MasterClient();
        // Where systemd does not run, the bootstrap left a supervised forwarder with its pid file.
        using var forwarder = Process.Start(new ProcessStartInfo("setsid", ["sleep", "300"]) { UseShellExecute = false })!;
        var run = Path.Combine(sandbox.StateDirectory, "run");
        Directory.CreateDirectory(run);
        await File.WriteAllTextAsync(Path.Combine(run, "decnet-forwarder.pid"), forwarder.Id.ToString(CultureInfo.InvariantCulture));
        await File.WriteAllTextAsync(Path.Combine(sandbox.StateDirectory, "deployment.json"), "{}");

        using var response = await master.PostAsync("self-destruct", null);
        sandbox.Process!.Kill();
        await sandbox.Process.WaitForExitAsync();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("self_destruct_scheduled", (await AgentSandbox.ReadAsync<AgentActionResult>(response)).Status);
        await AssertWipedAsync(sandbox);
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await forwarder.WaitForExitAsync(exit.Token);
        }
        Assert.Contains("stopped supervised decnet-forwarder", await File.ReadAllTextAsync(Path.Combine(sandbox.LogDirectory, "self-destruct.log")));
    }

    [Fact]
    public async Task Self_destruct_tears_the_deckies_down_and_the_agent_exits_on_its_own()
    {
        await using var sandbox = new AgentSandbox();
        await sandbox.StartAsync();
        using var master = sandbox.MasterClient();
        var net = Clients.LabSubnetPrefix();
        var share = new DecnetConfig
        {
            Interface = "lo", Subnet = $"{net}.0/24", Gateway = $"{net}.1",
            Deckies = [new DeckyConfig { Name = "sd-01", Ip = $"{net}.50", Services = ["redis"], Hostname = "SD-01" }],
        };
        using var deployed = await AgentSandbox.PostAsync(master, "deploy", new AgentDeployRequest(share));
        Assert.Equal(HttpStatusCode.OK, deployed.StatusCode);
        Assert.True(await Clients.IsListeningAsync($"{net}.50", 6379));

        using var response = await master.PostAsync("self-destruct", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await sandbox.Process!.WaitForExitAsync(exit.Token);
        }
        Assert.Equal(0, sandbox.Process.ExitCode);
        Assert.Contains("Self-destruct: every decky was torn down", sandbox.Output, StringComparison.Ordinal);
        Assert.False(await Clients.IsListeningAsync($"{net}.50", 6379));
        await AssertWipedAsync(sandbox);
    }

    private static async Task AssertWipedAsync(AgentSandbox sandbox)
    {
        var units = Path.Combine(sandbox.UnitsDirectory, "decnet-agent.service");
        var command = Path.Combine(sandbox.BinDirectory, "decnet-agent");
        await sandbox.WaitUntilAsync(() => !Directory.Exists(sandbox.InstallDirectory) && !Directory.Exists(sandbox.ConfigDirectory)
            && !Directory.Exists(sandbox.StateDirectory) && !File.Exists(units) && !File.Exists(command), "the reaper's wipe", seconds: 60);

        // Only DECNET's own files went; the logs stay for the operator.
        Assert.True(File.Exists(Path.Combine(sandbox.UnitsDirectory, "unrelated.service")));
        Assert.True(File.Exists(Path.Combine(sandbox.BinDirectory, "other-tool")));
        Assert.True(File.Exists(sandbox.SpoolPath));
        var reaperLog = Path.Combine(sandbox.LogDirectory, "self-destruct.log");
        await sandbox.WaitUntilAsync(() => File.Exists(reaperLog) && File.ReadAllText(reaperLog).Contains("reaper done", StringComparison.Ordinal), "the reaper's log");
    }
}
