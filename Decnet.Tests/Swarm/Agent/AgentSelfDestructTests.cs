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

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Where_systemd_runs_self_destruct_disables_and_stops_every_decnet_unit_the_agents_own_last()
    {
        Assert.True(Environment.IsPrivilegedProcess, "the agent runs in a private mount namespace (unshare): root only");
        await using var sandbox = new AgentSandbox();
        // systemd cannot be PID 1 here: a systemctl that records its calls and lists the decnet units,
        // and a systemd-run that records its call and runs the command, as a transient scope would.
        var tools = Path.Combine(sandbox.Path, "fake-systemd");
        var calls = Path.Combine(sandbox.Path, "systemd.calls");
        Directory.CreateDirectory(tools);
        await WriteExecutableAsync(Path.Combine(tools, "systemctl"),
            "#!/bin/sh\n"
            + $"echo \"systemctl $*\" >> '{calls}'\n"
            + "case \"$1\" in\n"
            + "  list-units) printf 'decnet-agent.service loaded active running DECNET agent\\ndecnet-forwarder.service loaded active running DECNET forwarder\\n' ;;\n"
            + "  list-unit-files) printf 'decnet-agent.service enabled enabled\\ndecnet-forwarder.service enabled enabled\\ndecnet-updater.service disabled enabled\\n' ;;\n"
            + "esac\n");
        await WriteExecutableAsync(Path.Combine(tools, "systemd-run"),
            "#!/bin/sh\n"
            + $"echo \"systemd-run $*\" >> '{calls}'\n"
            + "while [ $# -gt 0 ]; do case \"$1\" in --*) shift ;; *) break ;; esac; done\n"
            + "exec \"$@\"\n");
        // In its own mount namespace the agent sees a running systemd (/run/systemd/system).
        sandbox.LaunchPrefix = ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
            "{ mount -t tmpfs decnet-test /run/systemd 2>/dev/null || mount -t tmpfs decnet-test /run; } && mkdir -p /run/systemd/system && exec \"$@\"", "sh"];
        await sandbox.StartAsync(environment: new Dictionary<string, string> { ["PATH"] = $"{tools}:{Environment.GetEnvironmentVariable("PATH")}" });
        using var master = sandbox.MasterClient();

        using var response = await master.PostAsync("self-destruct", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await sandbox.Process!.WaitForExitAsync(exit.Token);
        }
        Assert.Equal(0, sandbox.Process.ExitCode);
        await AssertWipedAsync(sandbox);
        var recorded = await File.ReadAllLinesAsync(calls);
        var disabled = recorded.Where(c => c.StartsWith("systemctl disable --now --no-block ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, disabled.Count);
        Assert.Contains("systemctl disable --now --no-block decnet-forwarder.service", disabled);
        Assert.Contains("systemctl disable --now --no-block decnet-updater.service", disabled);
        Assert.Contains("systemctl disable --now --no-block decnet-agent.service", disabled);
        // The reaper left the agent's cgroup through a transient scope, and reloaded systemd after the wipe.
        Assert.Contains(recorded, c => c.StartsWith("systemd-run --scope --collect --quiet /bin/sh ", StringComparison.Ordinal) && c.EndsWith("reaper.sh", StringComparison.Ordinal));
        Assert.Contains("systemctl daemon-reload", recorded);
        Assert.Contains("systemctl reset-failed", recorded);
        Assert.True(Array.IndexOf(recorded, "systemctl daemon-reload") > recorded.ToList().FindLastIndex(c => c.StartsWith("systemctl disable", StringComparison.Ordinal)),
            "systemd was reloaded before the units were disabled");
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static async Task WriteExecutableAsync(string path, string content)
    {
        await File.WriteAllTextAsync(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
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
