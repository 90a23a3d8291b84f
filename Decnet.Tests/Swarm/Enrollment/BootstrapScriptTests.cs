using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Security;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Swarm.Controller;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm.Enrollment;

/// <summary>
/// The real bootstrap script, run exactly as the Enrollment page prints it, by a worker in a network
/// namespace of its own (its agent binds the fixed agent port there) joined to the master by a veth pair
/// the test creates. Each run also gets a private mount namespace, where the test decides whether
/// systemd "runs" (<c>/run/systemd/system</c>) and which <c>systemctl</c> is on PATH: a fake that records
/// its arguments, since systemd cannot be PID 1 here. Covered: the choice between systemd and the
/// supervised fallback, a rerun after a failure part way, the token ending at the first heartbeat or at
/// expiry (host swept, certificate refused at the handshake), and decommission of an updater-mode install.
/// </summary>
[Trait("Category", TestCategories.EndToEnd)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class BootstrapScriptTests : IAsyncLifetime
{
    /// <summary>In the run's mount namespace: a running systemd, as far as the script can tell, with a unit folder of its own.</summary>
    private const string SystemdRuns =
        "mount -t tmpfs decnet-test /run/systemd 2>/dev/null || mount -t tmpfs decnet-test /run || exit 97\n"
        + "mkdir -p /run/systemd/system /etc/systemd/system || exit 97\n"
        + "mount -t tmpfs decnet-test /etc/systemd/system || exit 97\n";

    /// <summary>In the run's mount namespace: no running systemd.</summary>
    private const string SystemdAbsent =
        "mount -t tmpfs decnet-test /run/systemd 2>/dev/null || mount -t tmpfs decnet-test /run || exit 97\n"
        + "if [ -d /run/systemd/system ]; then exit 97; fi\n";

    private readonly string _tag = Guid.NewGuid().ToString("N")[..6];
    private readonly TempDirectory _root = new("decnet-bootstrap");
    private int _subnet;
    private bool _namespace;
    private bool _link;
    private SwarmMaster? _master;
    private HttpClient? _admin;

    private string Namespace => $"dnb{_tag}";

    private string Outside => $"vb{_tag}h";

    private string MasterIp => $"10.212.{_subnet}.1";

    private string WorkerIp => $"10.212.{_subnet}.2";

    private SwarmMaster Master => _master!;

    private HttpClient Admin => _admin!;

    /// <summary>A <c>systemctl</c> that records each call, one line each, and lists the decnet units it was told about.</summary>
    private string FakeTools => Path.Combine(_root.Path, "fake-tools");

    private string SystemctlCalls => Path.Combine(_root.Path, "systemctl.calls");

    private string FakeSystemctl => $"export PATH={FakeTools}:$PATH\n";

    /// <summary>
    /// A PATH of every command this machine has except systemctl (links in a folder of the test's), so the
    /// script finds no systemctl the way a machine without systemd installed would.
    /// </summary>
    private string NoSystemctl
    {
        get
        {
            var folder = Path.Combine(_root.Path, "no-systemctl");
            if (!Directory.Exists(folder))
            {
                Directory.CreateDirectory(folder);
                var taken = new HashSet<string>(StringComparer.Ordinal) { "systemctl" };
                var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                    .Concat(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
                foreach (var directory in path.Where(Directory.Exists))
                {
                    foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
                    {
                        if (taken.Add(Path.GetFileName(entry)))
                        {
                            File.CreateSymbolicLink(Path.Combine(folder, Path.GetFileName(entry)), entry);
                        }
                    }
                }
            }
            return $"export PATH={folder}\nif command -v systemctl; then echo 'systemctl is still on PATH' >&2; exit 97; fi\n";
        }
    }

    public async ValueTask InitializeAsync()
    {
        Assert.True(Environment.IsPrivilegedProcess, "this test builds network and mount namespaces and runs the bootstrap script: it needs root (./test.sh runs as root)");
        var (_, addresses) = await Clients.RunAsync("ip", ["-4", "-o", "addr"]);
        do
        {
            _subnet = Random.Shared.Next(10, 250);
        }
        while (addresses.Contains($" 10.212.{_subnet}.", StringComparison.Ordinal));
        var inside = $"vb{_tag}n";
        await IpAsync("netns", "add", Namespace);
        _namespace = true;
        await IpAsync("link", "add", Outside, "type", "veth", "peer", "name", inside);
        _link = true;
        await IpAsync("link", "set", inside, "netns", Namespace);
        await IpAsync("addr", "add", $"{MasterIp}/24", "dev", Outside);
        await IpAsync("link", "set", Outside, "up");
        await IpAsync("netns", "exec", Namespace, "ip", "addr", "add", $"{WorkerIp}/24", "dev", inside);
        await IpAsync("netns", "exec", Namespace, "ip", "link", "set", inside, "up");
        await IpAsync("netns", "exec", Namespace, "ip", "link", "set", "lo", "up");

        Directory.CreateDirectory(FakeTools);
        var systemctl = Path.Combine(FakeTools, "systemctl");
        await File.WriteAllTextAsync(systemctl,
            "#!/bin/sh\n"
            + $"echo \"$*\" >> '{SystemctlCalls}'\n"
            + "exit 0\n");
        File.SetUnixFileMode(systemctl, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public async ValueTask DisposeAsync()
    {
        if (_namespace)
        {
            await KillWorkerProcessesAsync();
            await Clients.RunAsync("ip", ["netns", "del", Namespace]);
        }
        if (_link)
        {
            // Deleting the namespace usually took the pair with it.
            await Clients.RunAsync("ip", ["link", "del", Outside]);
        }
        _admin?.Dispose();
        if (_master is not null)
        {
            await _master.DisposeAsync();
        }
        _root.Dispose();
    }

    [Fact]
    public async Task The_script_uses_systemd_only_where_systemctl_and_a_running_systemd_are_both_present_and_no_systemd_forces_the_fallback()
    {
        await StartMasterAsync();
        var first = await CreateBundleAsync("mode-units");
        var unitsPrefix = Path.Combine(_root.Path, "units");

        // systemctl on PATH and /run/systemd/system: the units go to /etc/systemd/system, pointing into
        // the prefix, and are enabled and restarted; nothing is started by the script itself.
        var (exit, output) = await BootstrapAsync(first.Command, unitsPrefix, "", SystemdRuns + FakeSystemctl,
            then: "cat /etc/systemd/system/decnet-agent.service");

        Assert.True(exit == 0, output);
        Assert.Contains("decnet: starting the systemd units: decnet-agent.service decnet-forwarder.service", output, StringComparison.Ordinal);
        Assert.DoesNotContain("systemd is not managing", output, StringComparison.Ordinal);
        Assert.Contains($"{unitsPrefix}/opt/decnet/current/Decnet.Agent", output, StringComparison.Ordinal);
        Assert.Equal(
            ["daemon-reload", "enable decnet-agent.service decnet-forwarder.service", "restart decnet-agent.service decnet-forwarder.service"],
            await File.ReadAllLinesAsync(SystemctlCalls));
        Assert.Contains("units-dir = /etc/systemd/system", await File.ReadAllTextAsync(Path.Combine(unitsPrefix, "etc", "decnet", "decnet.ini")), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(unitsPrefix, "usr", "local", "bin", "decnet-supervise")), "the systemd path wrote the supervised fallback");
        Assert.Null((await Master.Overview.HostAsync(first.HostId, CancellationToken.None))!.LastHeartbeat);

        // The same machine and command with --no-systemd: supervised, systemctl never called. Nothing ran
        // before, so the token still serves.
        var forcedPrefix = Path.Combine(_root.Path, "forced");
        (exit, output) = await BootstrapAsync(first.Command, forcedPrefix, "--no-systemd", SystemdRuns + FakeSystemctl);

        AssertSupervised(exit, output, forcedPrefix);
        Assert.Equal(3, (await File.ReadAllLinesAsync(SystemctlCalls)).Length);
        await WaitForAsync(async () => (await Master.Overview.HostAsync(first.HostId, CancellationToken.None))?.Status == SwarmHostStatus.Active,
            "the supervised agent's first heartbeat");
        await KillWorkerProcessesAsync();

        // A running systemd but no systemctl on PATH: the fallback, by itself.
        var noTool = await CreateBundleAsync("mode-no-tool");
        var noToolPrefix = Path.Combine(_root.Path, "no-tool");
        (exit, output) = await BootstrapAsync(noTool.Command, noToolPrefix, "", SystemdRuns + NoSystemctl);
        AssertSupervised(exit, output, noToolPrefix);
        await KillWorkerProcessesAsync();

        // systemctl on PATH but systemd not running (a container): the fallback, systemctl never called.
        var noSystemd = await CreateBundleAsync("mode-no-pid1");
        var noSystemdPrefix = Path.Combine(_root.Path, "no-pid1");
        (exit, output) = await BootstrapAsync(noSystemd.Command, noSystemdPrefix, "", SystemdAbsent + FakeSystemctl);
        AssertSupervised(exit, output, noSystemdPrefix);
        Assert.Equal(3, (await File.ReadAllLinesAsync(SystemctlCalls)).Length);
    }

    [Fact]
    public async Task A_run_that_fails_part_way_succeeds_when_rerun_with_the_same_command_and_the_first_heartbeat_ends_the_token()
    {
        await StartMasterAsync();
        var bundle = await CreateBundleAsync("retry-me");
        var prefix = Path.Combine(_root.Path, "retry");
        // etc cannot become a folder: the script fails after the release is installed, before the settings.
        Directory.CreateDirectory(prefix);
        await File.WriteAllTextAsync(Path.Combine(prefix, "etc"), "in the way");

        var (exit, output) = await BootstrapAsync(bundle.Command, prefix, "--no-systemd", SystemdAbsent);

        Assert.True(exit != 0, $"the bootstrap succeeded with {prefix}/etc a file:\n{output}");
        Assert.Contains("installing the worker build", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(prefix, "opt", "decnet", "current", "Decnet.Agent")), "the failed run did not get as far as the release");
        Assert.Null((await Master.Overview.HostAsync(bundle.HostId, CancellationToken.None))!.LastHeartbeat);

        File.Delete(Path.Combine(prefix, "etc"));
        (exit, output) = await BootstrapAsync(bundle.Command, prefix, "--no-systemd", SystemdAbsent);

        AssertSupervised(exit, output, prefix);
        await WaitForAsync(async () => (await Master.Overview.HostAsync(bundle.HostId, CancellationToken.None))?.Status == SwarmHostStatus.Active,
            "the rerun's agent heartbeats");
        // The token is used: neither the script nor the archive is served any more, from the worker or anywhere.
        var (curlExit, curlOutput) = await Clients.RunAsync("ip", ["netns", "exec", Namespace, "bash", "-c", CurlOf(bundle.Command) + " -o /dev/null -w '%{http_code}'"]);
        Assert.True(curlExit != 0, curlOutput);
        Assert.Contains("404", curlOutput, StringComparison.Ordinal);
        using var anonymous = Master.EnrollmentClient();
        using (var archive = await anonymous.GetAsync(bundle.ScriptUrl.AbsolutePath.Replace(".sh", ".tgz", StringComparison.Ordinal)))
        {
            Assert.Equal(HttpStatusCode.NotFound, archive.StatusCode);
        }
        Assert.Equal(0, await Master.Services.GetRequiredService<EnrollmentBundleStore>().PendingCountAsync(CancellationToken.None));
        Assert.Equal(SwarmHostStatus.Active, (await Master.Overview.HostAsync(bundle.HostId, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task An_enrollment_that_expires_without_a_heartbeat_is_swept_and_its_installed_certificate_is_refused_at_the_handshake()
    {
        await StartMasterAsync(bundleLifetime: TimeSpan.FromSeconds(40));
        var bundle = await CreateBundleAsync("never-up");
        var prefix = Path.Combine(_root.Path, "never-up");
        // Installed under (fake) systemd, whose units never start: no heartbeat will ever come.
        var (exit, output) = await BootstrapAsync(bundle.Command, prefix, "", SystemdRuns + FakeSystemctl);
        Assert.True(exit == 0, output);
        using var certificate = IssuedIdentity.Load(Path.Combine(prefix, "etc", "decnet", "agent", "worker.crt"), Path.Combine(prefix, "etc", "decnet", "agent", "worker.key")).ToCertificate();
        Assert.Equal(SwarmHostStatus.Enrolled, (await Master.Overview.HostAsync(bundle.HostId, CancellationToken.None))!.Status);

        var store = Master.Services.GetRequiredService<EnrollmentBundleStore>();
        await WaitForAsync(async () =>
        {
            if (DateTimeOffset.UtcNow <= bundle.ExpiresAt)
            {
                return false;
            }
            await store.SweepAsync(CancellationToken.None);
            return await Master.Overview.HostAsync(bundle.HostId, CancellationToken.None) is null;
        }, "the sweep after expiry removes the host");

        Assert.False(await Master.Overview.NameExistsAsync("never-up", CancellationToken.None));
        Assert.True(Master.Services.GetRequiredService<SwarmRevocations>().IsRevoked(CertificateFingerprint.Of(certificate)));
        using var client = new HttpClient(PinnedTls.CreateHandler(certificate, Master.Credentials.Trust, Master.Credentials.MasterFingerprint, TimeSpan.FromSeconds(10)))
        {
            BaseAddress = Master.ControllerUri,
        };
        await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(bundle.HostId)));
        Assert.Contains(Master.Services.GetRequiredService<SwarmSecurityEvents>().Recent(),
            e => e.Refusal == SwarmRefusal.Revoked && e.Fingerprint == CertificateFingerprint.Of(certificate));
        using var anonymous = Master.EnrollmentClient();
        using var script = await anonymous.GetAsync(bundle.ScriptUrl.AbsolutePath);
        Assert.Equal(HttpStatusCode.NotFound, script.StatusCode);
    }

    [Fact]
    public async Task Decommissioning_a_supervised_updater_install_stops_updater_agent_and_forwarder_for_good()
    {
        await StartMasterAsync();
        var bundle = await CreateBundleAsync("updating", withUpdater: true);
        var prefix = Path.Combine(_root.Path, "updating");
        var (exit, output) = await BootstrapAsync(bundle.Command, prefix, "--no-systemd", SystemdAbsent);
        AssertSupervised(exit, output, prefix);
        Assert.Contains("started the updater (which runs the agent and its forwarder)", output, StringComparison.Ordinal);
        await WaitForAsync(async () => (await Master.Overview.HostAsync(bundle.HostId, CancellationToken.None))?.Status == SwarmHostStatus.Active,
            "the updater's agent heartbeats");
        var running = await WorkerProcessesAsync();
        Assert.Contains(running, p => p.Contains(" updater ", StringComparison.Ordinal));
        Assert.Contains(running, p => p.Contains(" serve ", StringComparison.Ordinal) && !p.Contains("--no-forwarder", StringComparison.Ordinal));

        using (var decommission = await Admin.DeleteAsync($"/api/v1/swarm/hosts/{bundle.HostId}"))
        {
            Assert.Equal(HttpStatusCode.OK, decommission.StatusCode);
        }

        // Supervisor, updater and the agent that ran the forwarder: all end, the install goes, the logs stay.
        await WaitForAsync(async () => (await WorkerProcessesAsync()).Count == 0 && !Directory.Exists(Path.Combine(prefix, "opt", "decnet"))
            && !Directory.Exists(Path.Combine(prefix, "etc", "decnet")) && !Directory.Exists(Path.Combine(prefix, "var", "lib", "decnet")),
            "every process of the install ended and the reaper wiped it");
        var reaperLog = await File.ReadAllTextAsync(Path.Combine(prefix, "var", "log", "decnet", "self-destruct.log"));
        Assert.Contains("stopped supervised decnet-updater", reaperLog, StringComparison.Ordinal);
        Assert.Contains("reaper done", reaperLog, StringComparison.Ordinal);
        // Longer than decnet-supervise's restart delay: nothing came back.
        await Task.Delay(TimeSpan.FromSeconds(7));
        Assert.Empty(await WorkerProcessesAsync());
    }

    private async Task StartMasterAsync(TimeSpan? bundleLifetime = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Decnet:Swarm:HeartbeatSeconds"] = "1",
            ["Decnet:Swarm:ControllerUrl"] = $"https://{MasterIp}:0",
            ["Decnet:Swarm:EnrollmentUrl"] = $"https://{MasterIp}:0",
            ["Decnet:Swarm:SyslogUrl"] = $"{MasterIp}:0",
        };
        if (bundleLifetime is { } lifetime)
        {
            settings["Decnet:Swarm:BundleLifetime"] = lifetime.ToString("c", CultureInfo.InvariantCulture);
        }
        _master = await SwarmMaster.StartAsync(settings: settings);
        _admin = await Master.SignedInClientAsync("bootstrapper", UserRole.Admin);
    }

    private async Task<(Guid HostId, string Command, Uri ScriptUrl, DateTimeOffset ExpiresAt)> CreateBundleAsync(string name, bool withUpdater = false)
    {
        using var created = await Admin.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = MasterIp, agent_name = name, with_updater = withUpdater });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var command = body.GetProperty("command").GetString()!;
        Assert.EndsWith(" | sudo bash", command, StringComparison.Ordinal);
        return (body.GetProperty("host_uuid").GetGuid(), command, new Uri(body.GetProperty("script_url").GetString()!), body.GetProperty("expires_at").GetDateTimeOffset());
    }

    /// <summary>The printed command (no sudo: the test is root) in the worker's namespace, after <paramref name="setup"/> in a private mount namespace.</summary>
    private async Task<(int Exit, string Output)> BootstrapAsync(string command, string prefix, string options, string setup, string? then = null)
    {
        var run = CurlOf(command) + $" | bash -s -- --prefix {prefix} {options}";
        var script = $"{setup}{run} || exit $?\n{then}\n";
        return await Clients.RunAsync("ip", ["netns", "exec", Namespace, "unshare", "--mount", "--propagation", "private", "bash", "-c", script], TimeSpan.FromMinutes(5));
    }

    private static string CurlOf(string command) => command[..command.IndexOf(" | sudo bash", StringComparison.Ordinal)];

    private static void AssertSupervised(int exit, string output, string prefix)
    {
        Assert.True(exit == 0, output);
        Assert.Contains("decnet: systemd is not managing this install: started", output, StringComparison.Ordinal);
        Assert.DoesNotContain("starting the systemd units", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(prefix, "usr", "local", "bin", "decnet-supervise")));
        Assert.Contains($"units-dir = {prefix}/etc/systemd/system", File.ReadAllText(Path.Combine(prefix, "etc", "decnet", "decnet.ini")), StringComparison.Ordinal);
    }

    /// <summary>Command lines of every process in the worker's network namespace.</summary>
    private async Task<List<string>> WorkerProcessesAsync()
    {
        var (_, pids) = await Clients.RunAsync("ip", ["netns", "pids", Namespace]);
        var lines = new List<string>();
        foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                lines.Add(" " + (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).Replace('\0', ' '));
            }
            catch (IOException)
            {
                // Ended between the listing and the read.
            }
        }
        return lines;
    }

    private async Task KillWorkerProcessesAsync()
    {
        for (var round = 0; round < 20; round++)
        {
            var (_, pids) = await Clients.RunAsync("ip", ["netns", "pids", Namespace]);
            var list = pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (list.Length == 0)
            {
                return;
            }
            foreach (var pid in list)
            {
                await Clients.RunAsync("kill", ["-KILL", pid]);
            }
            await Task.Delay(200);
        }
    }

    private async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what}: not within 120 s.\n{Diagnostics()}");
            }
            await Task.Delay(250);
        }
    }

    private string Diagnostics()
    {
        var text = new System.Text.StringBuilder();
        foreach (var log in Directory.Exists(_root.Path) ? Directory.EnumerateFiles(_root.Path, "*.log", SearchOption.AllDirectories) : [])
        {
            var content = File.ReadAllText(log);
            text.Append(CultureInfo.InvariantCulture, $"[{log}]\n{(content.Length > 4000 ? content[^4000..] : content)}\n");
        }
        return text.ToString();
    }

    private static async Task IpAsync(params string[] arguments)
    {
        var (exit, output) = await Clients.RunAsync("ip", arguments);
        Assert.True(exit == 0, $"ip {string.Join(' ', arguments)}: {output}");
    }
}
