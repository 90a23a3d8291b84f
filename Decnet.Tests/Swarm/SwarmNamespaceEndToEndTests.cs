using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Decnet.Core.Storage;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Shipping;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Swarm.Controller;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm;

/// <summary>
/// The swarm as an operator builds it, on one machine: the master in the root namespace on a bridge the
/// test creates, two workers in network namespaces of their own, each installed by the product's bundle
/// script run exactly as the Enrollment page prints it (pinned HTTPS download, SHA-256 check) with
/// <c>--prefix</c> so both share this filesystem, and started by the no-systemd fallback (decnet-supervise).
/// Then: a sharded fleet, events shipped from both, one worker killed and restarted across a redeploy
/// (no split brain), that worker decommissioned (its install wiped, its supervised processes gone, logs
/// kept) and its old certificate replayed against the controller (refused at the TLS handshake).
/// Needs root. The bridge, namespaces and subnet get random names so another run can share the machine.
/// </summary>
[Trait("Category", TestCategories.EndToEnd)]
public sealed class SwarmNamespaceEndToEndTests : IAsyncLifetime
{
    private readonly string _tag = Guid.NewGuid().ToString("N")[..6];
    private readonly TempDirectory _root = new("decnet-swarm-netns");
    private readonly List<NamespaceWorker> _workers = [];
    private int _subnet;
    private bool _bridge;
    private SwarmMaster? _master;
    private HttpClient? _admin;

    private string Bridge => $"dns{_tag}";

    private string MasterIp => $"10.211.{_subnet}.1";

    private SwarmMaster Master => _master!;

    private HttpClient Admin => _admin!;

    public async ValueTask InitializeAsync()
    {
        Assert.True(Environment.IsPrivilegedProcess, "this test builds network namespaces and runs the bootstrap script: it needs root (./test.sh runs as root)");
        var (_, addresses) = await Clients.RunAsync("ip", ["-4", "-o", "addr"]);
        do
        {
            _subnet = Random.Shared.Next(10, 250);
        }
        while (addresses.Contains($" 10.211.{_subnet}.", StringComparison.Ordinal));
        await IpAsync("link", "add", Bridge, "type", "bridge");
        _bridge = true;
        await IpAsync("addr", "add", $"{MasterIp}/24", "dev", Bridge);
        await IpAsync("link", "set", Bridge, "up");

        // The master listens for workers on the bridge only; its dashboard on loopback and on the bridge.
        _master = await SwarmMaster.StartAsync(settings: new Dictionary<string, string?>
        {
            ["urls"] = $"http://127.0.0.1:0;http://{MasterIp}:0",
            ["Decnet:Swarm:HeartbeatSeconds"] = "1",
            ["Decnet:Swarm:ControllerUrl"] = $"https://{MasterIp}:0",
            ["Decnet:Swarm:EnrollmentUrl"] = $"https://{MasterIp}:0",
            ["Decnet:Swarm:SyslogUrl"] = $"{MasterIp}:0",
        });
        _admin = await Master.SignedInClientAsync("swarm-admin", UserRole.Admin);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.StopAsync();
            await IpAsync("netns", "del", worker.Namespace);
        }
        if (_bridge)
        {
            await IpAsync("link", "del", Bridge);
        }
        _admin?.Dispose();
        if (_master is not null)
        {
            await _master.DisposeAsync();
        }
        _root.Dispose();
    }

    [Fact]
    public async Task Two_bundle_installed_workers_in_namespaces_shard_ship_survive_an_outage_without_split_brain_and_one_is_decommissioned()
    {
        var alpha = await AddWorkerAsync("ns-alpha", 11);
        var beta = await AddWorkerAsync("ns-beta", 12);
        await EnrollAsync(alpha);
        await EnrollAsync(beta);
        await WaitForAsync(async () => (await HostAsync(alpha)).Status == SwarmHostStatus.Active && (await HostAsync(beta)).Status == SwarmHostStatus.Active,
            "both bundle-installed workers heartbeat");
        Assert.Equal(alpha.Address, (await HostAsync(alpha)).Address);
        Assert.Equal(beta.Address, (await HostAsync(beta)).Address);

        // A sharded fleet: two deckies per worker, each served inside its worker's namespace.
        var deckyNet = Clients.LabSubnetPrefix();
        var ini = new StringBuilder($"[general]\nnet = {deckyNet}.0/24\ngw = {deckyNet}.1\n\n");
        for (var i = 0; i < 4; i++)
        {
            ini.Append(CultureInfo.InvariantCulture, $"[edge-{i}]\nip = {deckyNet}.{10 + i}\nservices = redis\n\n");
        }
        await DeployAsync(ini.ToString());
        var shards = await ShardsAsync();
        Assert.Equal(2, shards.Count(s => s.Host == alpha.HostId));
        Assert.Equal(2, shards.Count(s => s.Host == beta.HostId));
        await WaitForAsync(async () => (await ShardsAsync()).All(s => s.State == DeckyShardState.Running), "every shard reported running");

        // Events from both workers reach the master through their supervised forwarders.
        foreach (var worker in new[] { alpha, beta })
        {
            var decky = shards.First(s => s.Host == worker.HostId);
            var ip = DeckyIp(deckyNet, decky.Name);
            await WaitForAsync(async () => (await worker.RedisAsync(ip, "PING")).Contains("PONG", StringComparison.Ordinal), $"{decky.Name} answers in {worker.Name}'s namespace");
            await worker.RedisAsync(ip, "AUTH", $"guess-{worker.Name}");
            await WaitForAsync(() => ShippedAsync(decky.Name, worker.Name, $"guess-{worker.Name}"), $"{worker.Name}'s event is stored on the master");
        }

        // alpha goes down; the redeploy moves everything to beta.
        var alphasOwn = shards.Where(s => s.Host == alpha.HostId).Select(s => s.Name).ToList();
        await alpha.StopAsync();
        await WaitForAsync(async () => (await HostAsync(alpha)).Status == SwarmHostStatus.Unreachable, "alpha turns unreachable");
        await DeployAsync(ini.ToString());
        Assert.All(await ShardsAsync(), s => Assert.Equal(beta.HostId, s.Host));

        // alpha comes back (supervised again) and restores its old deckies: the master keeps them on beta
        // and tells alpha to tear them down; beta serves every one of them, alpha none.
        await alpha.StartSupervisedAsync();
        await WaitForAsync(async () =>
        {
            Assert.All(await ShardsAsync(), s => Assert.Equal(beta.HostId, s.Host));
            var view = (await GetJsonAsync("/api/v1/swarm/hosts")).EnumerateArray().Single(h => h.GetProperty("uuid").GetGuid() == alpha.HostId);
            return view.GetProperty("status").GetString() == SwarmHostStatus.Active && view.GetProperty("stray_deckies").GetArrayLength() == 0
                && File.Exists(alpha.AgentLog) && File.ReadAllText(alpha.AgentLog).Contains("torn down here", StringComparison.Ordinal);
        }, "alpha is back and reconciled");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.All(await ShardsAsync(), s => Assert.Equal(beta.HostId, s.Host));
        foreach (var name in alphasOwn)
        {
            var ip = DeckyIp(deckyNet, name);
            Assert.Contains("PONG", await beta.RedisAsync(ip, "PING"), StringComparison.Ordinal);
            Assert.DoesNotContain("PONG", await alpha.RedisAsync(ip, "PING"), StringComparison.Ordinal);
        }
        var audit = await Master.Services.GetRequiredService<Decnet.Core.Audit.AuditTrail>().RecentAsync(100, CancellationToken.None);
        Assert.Contains(audit, a => a.Action == "swarm.reconcile" && a.Target == alpha.Name);

        // Decommission alpha: its supervised agent and forwarder end, its install and state go, its logs stay.
        var oldIdentity = IssuedIdentity.Load(Path.Combine(alpha.ConfigDirectory, "agent", "worker.crt"), Path.Combine(alpha.ConfigDirectory, "agent", "worker.key"));
        Assert.Equal(alpha.Name, oldIdentity.CommonName);
        var supervised = alpha.SupervisorPids();
        Assert.Equal(2, supervised.Count);
        using (var decommission = await Admin.DeleteAsync($"/api/v1/swarm/hosts/{alpha.HostId}"))
        {
            Assert.Equal(HttpStatusCode.OK, decommission.StatusCode);
        }
        await WaitForAsync(() => Task.FromResult(!Directory.Exists(alpha.InstallDirectory) && !Directory.Exists(alpha.ConfigDirectory)
            && !Directory.Exists(alpha.StateDirectory)), "the reaper wipes alpha's install, settings and state");
        await WaitForAsync(() => Task.FromResult(supervised.All(pid => !Directory.Exists($"/proc/{pid}"))), "alpha's supervised agent and forwarder have ended");
        Assert.True(File.Exists(Path.Combine(alpha.LogDirectory, "self-destruct.log")));
        Assert.Contains("stopped supervised decnet-forwarder", await File.ReadAllTextAsync(Path.Combine(alpha.LogDirectory, "self-destruct.log")), StringComparison.Ordinal);
        Assert.True(Directory.Exists(beta.InstallDirectory), "decommissioning alpha touched beta's install");

        // alpha's old certificate, replayed: refused at the handshake and shown as a security event.
        using var identity = oldIdentity.ToCertificate();
        using var replay = new HttpClient(PinnedTls.CreateHandler(identity, Master.Credentials.Trust, Master.Credentials.MasterFingerprint, TimeSpan.FromSeconds(10)))
        {
            BaseAddress = Master.ControllerUri,
        };
        await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(replay, SwarmMaster.Heartbeat(alpha.HostId)));
        var events = await GetJsonAsync("/api/v1/swarm/security-events");
        Assert.Contains(events.EnumerateArray(), e => e.GetProperty("refusal").GetString() == "revoked"
            && e.GetProperty("fingerprint").GetString() == CertificateFingerprint.Of(identity));
        Assert.Equal(SwarmHostStatus.Active, (await HostAsync(beta)).Status);
    }

    private async Task<NamespaceWorker> AddWorkerAsync(string name, int host)
    {
        var id = _workers.Count;
        var worker = new NamespaceWorker(name, $"dns{_tag}{id}", $"10.211.{_subnet}.{host}", Path.Combine(_root.Path, name));
        _workers.Add(worker);
        var outside = $"v{_tag}{id}h";
        var inside = $"v{_tag}{id}n";
        await IpAsync("netns", "add", worker.Namespace);
        await IpAsync("link", "add", outside, "type", "veth", "peer", "name", inside);
        await IpAsync("link", "set", inside, "netns", worker.Namespace);
        await IpAsync("link", "set", outside, "master", Bridge);
        await IpAsync("link", "set", outside, "up");
        await IpAsync("netns", "exec", worker.Namespace, "ip", "addr", "add", $"{worker.Address}/24", "dev", inside);
        await IpAsync("netns", "exec", worker.Namespace, "ip", "link", "set", inside, "up");
        await IpAsync("netns", "exec", worker.Namespace, "ip", "link", "set", "lo", "up");
        return worker;
    }

    /// <summary>The wizard's API, then its printed command run in the worker's namespace with a prefix (no sudo here: the test is root).</summary>
    private async Task EnrollAsync(NamespaceWorker worker)
    {
        using var created = await Admin.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = MasterIp, agent_name = worker.Name });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        worker.HostId = body.GetProperty("host_uuid").GetGuid();
        var command = body.GetProperty("command").GetString()!;
        Assert.EndsWith(" | sudo bash", command, StringComparison.Ordinal);
        // The ports the wizard names are the ones bound on the bridge, and a dashboard that is not
        // loopback-only with a LAN master address draws no warning.
        var reach = body.GetProperty("reach").EnumerateArray().Select(r => (r.GetProperty("host").GetString(), r.GetProperty("port").GetInt32())).ToList();
        var syslog = Master.Services.GetRequiredService<Decnet.Web.Swarm.Shipping.SwarmLogListenerService>().Endpoint!;
        Assert.Equal([(MasterIp, Master.EnrollmentUri.Port), (MasterIp, Master.ControllerUri.Port), (MasterIp, syslog.Port)], reach);
        Assert.Empty(body.GetProperty("warnings").EnumerateArray());
        var run = command[..^"sudo bash".Length] + $"bash -s -- --prefix {worker.Prefix} --no-systemd";

        var (exit, output) = await Clients.RunAsync("ip", ["netns", "exec", worker.Namespace, "bash", "-c", run], TimeSpan.FromMinutes(5));

        Assert.True(exit == 0, $"the bootstrap of {worker.Name} failed:\n{output}");
        Assert.Contains("systemd is not managing this install", output, StringComparison.Ordinal);
        Assert.Contains("decnet-supervise", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(worker.ConfigDirectory, "decnet.ini")));
        Assert.Contains($"state-dir = {worker.StateDirectory}", await File.ReadAllTextAsync(Path.Combine(worker.ConfigDirectory, "decnet.ini")), StringComparison.Ordinal);
    }

    private async Task DeployAsync(string ini)
    {
        using var deploy = await Admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = ini });
        Assert.True(deploy.StatusCode == HttpStatusCode.OK, await deploy.Content.ReadAsStringAsync());
    }

    private async Task<bool> ShippedAsync(string decky, string worker, string password)
    {
        await using var db = await Master.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        var rows = await db.Logs.AsNoTracking().Where(l => l.Decky == decky).ToListAsync();
        return rows.Any(r => r.Fields.Contains(password, StringComparison.Ordinal)
            && JsonDocument.Parse(r.Fields).RootElement.GetProperty(ShippedLine.SourceWorkerField).GetString() == worker);
    }

    private async Task<SwarmHost> HostAsync(NamespaceWorker worker) =>
        await Master.Overview.HostAsync(worker.HostId, CancellationToken.None) ?? throw new InvalidOperationException($"{worker.Name} is gone");

    private async Task<List<(string Name, Guid Host, string State)>> ShardsAsync() =>
        [.. (await GetJsonAsync("/api/v1/swarm/deckies")).EnumerateArray().Select(s =>
            (s.GetProperty("name").GetString()!, s.GetProperty("host_uuid").GetGuid(), s.GetProperty("state").GetString()!))];

    private async Task<JsonElement> GetJsonAsync(string url)
    {
        using var response = await Admin.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string DeckyIp(string net, string name) => $"{net}.{10 + int.Parse(name["edge-".Length..], CultureInfo.InvariantCulture)}";

    private async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what}: not within 120 s.\n" + string.Join("\n", _workers.Select(w => w.Diagnostics())));
            }
            await Task.Delay(250);
        }
    }

    private static async Task IpAsync(params string[] arguments)
    {
        var (exit, output) = await Clients.RunAsync("ip", arguments);
        Assert.True(exit == 0, $"ip {string.Join(' ', arguments)}: {output}");
    }

    /// <summary>A worker: its namespace and address, and the install its bundle put under its prefix.</summary>
    private sealed class NamespaceWorker(string name, string ns, string address, string prefix)
    {
        public string Name { get; } = name;
        public string Namespace { get; } = ns;
        public string Address { get; } = address;
        public string Prefix { get; } = prefix;
        public Guid HostId { get; set; }
        public string InstallDirectory => Path.Combine(Prefix, "opt", "decnet");
        public string ConfigDirectory => Path.Combine(Prefix, "etc", "decnet");
        public string StateDirectory => Path.Combine(Prefix, "var", "lib", "decnet");
        public string LogDirectory => Path.Combine(Prefix, "var", "log", "decnet");
        public string RunDirectory => Path.Combine(StateDirectory, "run");
        public string AgentLog => Path.Combine(LogDirectory, "agent.log");
        private string Supervise => Path.Combine(Prefix, "usr", "local", "bin", "decnet-supervise");
        private string Agent => Path.Combine(InstallDirectory, "current", "Decnet.Agent");
        private string Config => Path.Combine(ConfigDirectory, "decnet.ini");

        public async Task<string> RedisAsync(string ip, params string[] command)
        {
            var (_, output) = await Clients.RunAsync("ip", ["netns", "exec", Namespace, "redis-cli", "-h", ip, "-p", "6379", .. command]);
            return output;
        }

        /// <summary>The supervisors' pids (decnet-supervise), from their pid files.</summary>
        public List<int> SupervisorPids() =>
            Directory.Exists(RunDirectory)
                ? [.. Directory.EnumerateFiles(RunDirectory, "*.pid").Select(f => int.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture))]
                : [];

        /// <summary>Starts agent and forwarder again the way the bootstrap's fallback does (a reboot would need the operator).</summary>
        public async Task StartSupervisedAsync()
        {
            var script = string.Create(CultureInfo.InvariantCulture,
                $"setsid {Supervise} {RunDirectory} decnet-agent {LogDirectory}/agent.log {Agent} serve --config {Config} --no-forwarder </dev/null >/dev/null 2>&1 &\n"
                + $"setsid {Supervise} {RunDirectory} decnet-forwarder {LogDirectory}/forwarder.log {Agent} forward --config {Config} </dev/null >/dev/null 2>&1 &\n");
            var (exit, output) = await Clients.RunAsync("ip", ["netns", "exec", Namespace, "bash", "-c", script]);
            Assert.True(exit == 0, output);
        }

        /// <summary>TERM to each supervisor (it stops its process first), then whatever still runs in the namespace.</summary>
        public async Task StopAsync()
        {
            foreach (var pid in SupervisorPids())
            {
                await Clients.RunAsync("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]);
            }
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (SupervisorPids().Count > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
            var (_, pids) = await Clients.RunAsync("ip", ["netns", "pids", Namespace]);
            foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                await Clients.RunAsync("kill", ["-KILL", pid]);
            }
        }

        public string Diagnostics()
        {
            var text = new StringBuilder($"--- {Name} ({Address}):\n");
            foreach (var log in new[] { "agent.log", "forwarder.log", "self-destruct.log" })
            {
                var path = Path.Combine(LogDirectory, log);
                if (File.Exists(path))
                {
                    var content = File.ReadAllText(path);
                    text.Append(CultureInfo.InvariantCulture, $"[{log}]\n{(content.Length > 6000 ? content[^6000..] : content)}\n");
                }
            }
            return text.ToString();
        }
    }
}
