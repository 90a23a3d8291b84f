using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Decnet.Core.Notifications;
using Decnet.Core.Storage;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Swarm.Controller;
using Decnet.Web.Swarm.Shipping;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm;

/// <summary>
/// The whole swarm for real: the master on Kestrel (dashboard, mutual-TLS controller, log listener) and
/// two worker agents as separate processes on their own loopback addresses, each installed from the
/// bundle the enrollment wizard's API hands out (downloaded by curl from the pinned enrollment endpoint).
/// </summary>
[Trait("Category", TestCategories.EndToEnd)]
public sealed class SwarmEndToEndTests : IAsyncLifetime
{
    private readonly List<Worker> _workers = [];
    private SwarmMaster _master = null!;
    private HttpClient _admin = null!;

    public async ValueTask InitializeAsync()
    {
        _master = await SwarmMaster.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Decnet:Swarm:HeartbeatSeconds"] = "1",
        });
        var users = _master.Services.GetRequiredService<UserDirectory>();
        const string password = "swarm-admin-password-1";
        var created = await users.CreateAsync("test", "swarm-admin", password + "-temp", UserRole.Admin, CancellationToken.None);
        Assert.True(created.Succeeded, string.Join(" ", created.Errors));
        Assert.True((await users.ChangePasswordAsync(created.User!.Id, password + "-temp", password, CancellationToken.None)).Succeeded);
        _admin = new HttpClient { BaseAddress = _master.DashboardUri };
        using var login = await _admin.PostAsJsonAsync("/api/v1/auth/login", new { username = "swarm-admin", password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString();
        _admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }
        _admin.Dispose();
        await _master.DisposeAsync();
    }

    [Fact]
    public async Task Two_enrolled_workers_shard_a_fleet_report_states_tear_down_go_offline_and_are_decommissioned()
    {
        var agentNet = Clients.LabSubnetPrefix();
        var deckyNet = Clients.LabSubnetPrefix();
        var alpha = await EnrollAndStartAsync("worker-alpha", $"{agentNet}.1");
        var beta = await EnrollAndStartAsync("worker-beta", $"{agentNet}.2");

        // First heartbeats: both hosts active, their address learnt from where the pinned heartbeat came from.
        await WaitForAsync(async () => (await HostAsync(alpha.HostId)).Status == SwarmHostStatus.Active
            && (await HostAsync(beta.HostId)).Status == SwarmHostStatus.Active, "both workers heartbeat", alpha, beta);
        Assert.Equal($"{agentNet}.1", (await HostAsync(alpha.HostId)).Address);
        Assert.Equal($"{agentNet}.2", (await HostAsync(beta.HostId)).Address);
        var mode = await GetJsonAsync("/api/v1/system/deployment-mode");
        Assert.Contains("2 hosts", mode.GetProperty("banner").GetString(), StringComparison.Ordinal);

        // One decky's HTTP port is taken before the deploy: that service cannot run on its worker.
        var blocked = new List<TcpListener>();
        foreach (var port in new[] { 80, 10080 })
        {
            var listener = new TcpListener(IPAddress.Parse($"{deckyNet}.13"), port);
            listener.Start();
            blocked.Add(listener);
        }
        try
        {
            var ini = new StringBuilder($"[general]\nnet = {deckyNet}.0/24\ngw = {deckyNet}.1\n\n");
            for (var i = 0; i < 4; i++)
            {
                ini.Append(CultureInfo.InvariantCulture, $"[edge-{i}]\nip = {deckyNet}.{10 + i}\nservices = redis, http\n\n");
            }
            using var deploy = await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = ini.ToString() });
            Assert.True(deploy.StatusCode == HttpStatusCode.OK, await deploy.Content.ReadAsStringAsync());

            // Two deckies per worker, and the workers' own runtimes really serve them.
            var shards = await ShardsAsync();
            Assert.Equal(4, shards.Count);
            Assert.Equal(2, shards.Count(s => s.Host == alpha.HostId));
            Assert.Equal(2, shards.Count(s => s.Host == beta.HostId));
            var (redisExit, redisOut) = await Clients.RunAsync("redis-cli", ["-h", $"{deckyNet}.10", "-p", RedisPort.ToString(CultureInfo.InvariantCulture), "PING"]);
            Assert.True(redisExit == 0, redisOut);

            // Heartbeats carry each runtime's view: the blocked decky is degraded, the others running.
            await WaitForAsync(async () =>
            {
                var now = await ShardsAsync();
                return now.Count == 4 && now.Single(s => s.Name == "edge-3").State == "degraded"
                    && now.Where(s => s.Name != "edge-3").All(s => s.State == "running");
            }, "heartbeats report running and degraded shards", alpha, beta);
        }
        finally
        {
            blocked.ForEach(l => l.Stop());
        }

        // Events the workers' deckies record reach the master over the shipped log, labelled by certificate.
        var edge0 = (await ShardsAsync()).Single(s => s.Name == "edge-0");
        await WaitForAsync(async () =>
        {
            await using var db = await _master.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
            return await db.Logs.AnyAsync(l => l.Decky == "edge-0" && l.Fields.Contains("source_worker"));
        }, "a shipped event of edge-0 is stored on the master", alpha, beta);

        // Asynchronous teardown of one decky: 202 at once, tearing_down visible, then gone (pushed to pages).
        var tornDown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = _master.Services.GetRequiredService<NotificationHub>().Subscribe<SwarmChanged>(change =>
        {
            if (change.Reason == SwarmChangeReasons.TornDown)
            {
                tornDown.TrySetResult();
            }
            return Task.CompletedTask;
        });
        var edge0Host = edge0.Host;
        using (var one = await _admin.PostAsJsonAsync($"/api/v1/swarm/hosts/{edge0Host}/teardown", new { decky_id = "edge-0" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, one.StatusCode);
        }
        await tornDown.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await WaitForAsync(async () => (await ShardsAsync()).All(s => s.Name != "edge-0"), "edge-0's shard is removed", alpha, beta);
        Assert.False(await Clients.IsListeningAsync($"{deckyNet}.10", RedisPort));

        // Whole host: the other worker's deckies go, the host stays enrolled.
        var other = edge0Host == alpha.HostId ? beta : alpha;
        using (var all = await _admin.PostAsync($"/api/v1/swarm/hosts/{other.HostId}/teardown", JsonContent.Create(new { decky_id = (string?)null })))
        {
            Assert.Equal(HttpStatusCode.Accepted, all.StatusCode);
        }
        await WaitForAsync(async () => (await ShardsAsync()).All(s => s.Host != other.HostId), "the whole host is torn down", alpha, beta);
        Assert.NotNull(await _master.Overview.HostAsync(other.HostId, CancellationToken.None));

        // A stopped agent turns unreachable after three silent intervals.
        await other.StopAsync();
        await WaitForAsync(async () => (await HostAsync(other.HostId)).Status == SwarmHostStatus.Unreachable, "the stopped worker turns unreachable", alpha, beta);

        // Decommission the live one: it wipes its install (logs kept) and its certificate is refused from now on.
        var live = other == alpha ? beta : alpha;
        using (var decommission = await _admin.DeleteAsync($"/api/v1/swarm/hosts/{live.HostId}"))
        {
            Assert.Equal(HttpStatusCode.OK, decommission.StatusCode);
        }
        await WaitForAsync(() => Task.FromResult(!Directory.Exists(live.ConfigDirectory) && !Directory.Exists(live.InstallDirectory)),
            "the decommissioned worker's reaper wipes its sandbox", alpha, beta);
        Assert.True(Directory.Exists(live.LogDirectory));
        // Its old certificate is refused at the TLS handshake, and that shows as a swarm security event.
        using var stale = _master.WorkerClient(live.Identity);
        await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(stale, SwarmMaster.Heartbeat(live.HostId)));
        var events = await GetJsonAsync("/api/v1/swarm/security-events");
        Assert.Contains(events.EnumerateArray(), e => e.GetProperty("refusal").GetString() == "revoked" && e.GetProperty("fingerprint").GetString() == live.Identity.Fingerprint);
    }

    [Fact]
    public async Task A_worker_back_from_an_outage_never_takes_back_deckies_a_redeploy_moved_and_tears_them_down()
    {
        var agentNet = Clients.LabSubnetPrefix();
        var deckyNet = Clients.LabSubnetPrefix();
        var alpha = await EnrollAndStartAsync("worker-alpha", $"{agentNet}.1");
        var beta = await EnrollAndStartAsync("worker-beta", $"{agentNet}.2");
        await WaitForAsync(async () => (await HostAsync(alpha.HostId)).Status == SwarmHostStatus.Active
            && (await HostAsync(beta.HostId)).Status == SwarmHostStatus.Active, "both workers heartbeat", alpha, beta);
        var ini = new StringBuilder($"[general]\nnet = {deckyNet}.0/24\ngw = {deckyNet}.1\n\n");
        for (var i = 0; i < 4; i++)
        {
            ini.Append(CultureInfo.InvariantCulture, $"[edge-{i}]\nip = {deckyNet}.{10 + i}\nservices = redis\n\n");
        }
        using (var deploy = await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = ini.ToString() }))
        {
            Assert.True(deploy.StatusCode == HttpStatusCode.OK, await deploy.Content.ReadAsStringAsync());
        }
        var alphasOwn = (await ShardsAsync()).Where(s => s.Host == alpha.HostId).Select(s => s.Name).ToList();
        Assert.Equal(2, alphasOwn.Count);
        Assert.True(File.Exists(Path.Combine(alpha.StateDirectory, "deployment.json")));

        // alpha goes dark; the redeploy places every decky on beta.
        await alpha.StopAsync();
        await WaitForAsync(async () => (await HostAsync(alpha.HostId)).Status == SwarmHostStatus.Unreachable, "alpha turns unreachable", alpha, beta);
        using (var redeploy = await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = ini.ToString() }))
        {
            Assert.True(redeploy.StatusCode == HttpStatusCode.OK, await redeploy.Content.ReadAsStringAsync());
        }
        Assert.All(await ShardsAsync(), s => Assert.Equal(beta.HostId, s.Host));

        // alpha comes back and restores its old deckies from its state: its heartbeats never move a shard,
        // the master tells it to tear them down, and the fleet view names it until it has.
        var reconciling = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = _master.Services.GetRequiredService<NotificationHub>().Subscribe<SwarmChanged>(change =>
        {
            if (change.Reason == SwarmChangeReasons.Reconciling && change.HostId == alpha.HostId)
            {
                reconciling.TrySetResult();
            }
            return Task.CompletedTask;
        });
        alpha.Start();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            Assert.All(await ShardsAsync(), s => Assert.Equal(beta.HostId, s.Host));
            var host = (await GetJsonAsync("/api/v1/swarm/hosts")).EnumerateArray().Single(h => h.GetProperty("uuid").GetGuid() == alpha.HostId);
            if (reconciling.Task.IsCompleted && host.GetProperty("status").GetString() == SwarmHostStatus.Active && host.GetProperty("stray_deckies").GetArrayLength() == 0)
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "alpha did not reconcile within 90 s:\n" + alpha.Output);
            await Task.Delay(200);
        }
        // The agent's log line travels through its console logger and our pipe reader: wait for it.
        await WaitForAsync(() => Task.FromResult(alpha.Output.Contains("torn down here", StringComparison.Ordinal)), "alpha logs the strays it tore down", alpha, beta);
        Assert.False(File.Exists(Path.Combine(alpha.StateDirectory, "deployment.json")), "alpha would restore the strays again at its next start");
        // A few more heartbeats: still no flip, and beta serves every decky.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.All(await ShardsAsync(), s => Assert.Equal(beta.HostId, s.Host));
        foreach (var name in alphasOwn)
        {
            var ip = $"{deckyNet}.{10 + int.Parse(name["edge-".Length..], CultureInfo.InvariantCulture)}";
            var (exit, output) = await Clients.RunAsync("redis-cli", ["-h", ip, "-p", RedisPort.ToString(CultureInfo.InvariantCulture), "PING"]);
            Assert.True(exit == 0 && output.Contains("PONG", StringComparison.Ordinal), $"{name} on beta: {output}\n{beta.Output}");
        }
        var audit = await _master.Services.GetRequiredService<Decnet.Core.Audit.AuditTrail>().RecentAsync(100, CancellationToken.None);
        Assert.Contains(audit, a => a.Action == "swarm.reconcile" && a.Target == "worker-alpha");
    }

    [Fact]
    public async Task The_fleet_api_lists_counts_mutates_and_tears_down_deckies_on_workers_and_a_silent_workers_are_unreachable()
    {
        var agentNet = Clients.LabSubnetPrefix();
        var deckyNet = Clients.LabSubnetPrefix();
        var alpha = await EnrollAndStartAsync("worker-alpha", $"{agentNet}.1");
        var beta = await EnrollAndStartAsync("worker-beta", $"{agentNet}.2");
        await WaitForAsync(async () => (await HostAsync(alpha.HostId)).Status == SwarmHostStatus.Active
            && (await HostAsync(beta.HostId)).Status == SwarmHostStatus.Active, "both workers heartbeat", alpha, beta);
        var ini = new StringBuilder($"[general]\nnet = {deckyNet}.0/24\ngw = {deckyNet}.1\n\n");
        for (var i = 0; i < 4; i++)
        {
            ini.Append(CultureInfo.InvariantCulture, $"[edge-{i}]\nip = {deckyNet}.{10 + i}\nservices = redis\n\n");
        }
        using (var deploy = await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = ini.ToString() }))
        {
            Assert.True(deploy.StatusCode == HttpStatusCode.OK, await deploy.Content.ReadAsStringAsync());
        }

        // GET /api/v1/deckies covers the workers' deckies, each naming its host; /stats counts them.
        await WaitForAsync(async () => (await FleetAsync()).Count(d => d.GetProperty("state").GetString() == "running") == 4, "four running deckies listed", alpha, beta);
        var listed = await FleetAsync();
        Assert.Equal(2, listed.Count(d => d.GetProperty("host").GetString() == "worker-alpha"));
        Assert.Equal(2, listed.Count(d => d.GetProperty("host").GetString() == "worker-beta"));
        await WaitForAsync(async () => (await GetJsonAsync("/api/v1/stats")).GetProperty("active_deckies").GetInt32() == 4, "stats count the workers' deckies", alpha, beta);

        // Mutation by hand goes to the worker's agent (/mutate), which applies and persists it.
        var edge0Host = Owner(listed, "edge-0") == "worker-alpha" ? alpha : beta;
        using (var mutated = await _admin.PostAsync("/api/v1/deckies/edge-0/mutate", null))
        {
            Assert.True(mutated.StatusCode == HttpStatusCode.OK, await mutated.Content.ReadAsStringAsync());
        }
        Assert.NotEqual(["redis"], WorkerServices(edge0Host, "edge-0"));
        Assert.Equal(WorkerServices(edge0Host, "edge-0"), Services(await FleetAsync(), "edge-0"));

        // The mutator honours intervals: only the decky whose interval has passed is rotated, once.
        var store = _master.Services.GetRequiredService<SwarmStore>();
        var edge1 = (await _master.Overview.DeckiesAsync(null, null, CancellationToken.None)).Single(d => d.Name == "edge-1");
        var edge1Host = edge1.HostId == alpha.HostId ? alpha : beta;
        Assert.True(await store.UpdateSnapshotAsync(edge1.HostId, edge1.Config! with { LastMutated = DateTime.UtcNow.AddDays(-2) }, CancellationToken.None));
        var mutator = _master.Services.GetRequiredService<Decnet.Core.Deckies.Fleet.DeckyMutator>();
        Assert.Equal(["edge-1"], await mutator.MutateDueAsync(CancellationToken.None));
        Assert.NotEqual(["redis"], WorkerServices(edge1Host, "edge-1"));
        Assert.Empty(await mutator.MutateDueAsync(CancellationToken.None));

        // DELETE /api/v1/deckies/{name} reaches the worker: 202, then the decky is gone there.
        using (var deleted = await _admin.DeleteAsync("/api/v1/deckies/edge-2"))
        {
            Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        }
        await WaitForAsync(async () => (await FleetAsync()).All(d => d.GetProperty("name").GetString() != "edge-2"), "edge-2 is torn down", alpha, beta);
        Assert.False(await Clients.IsListeningAsync($"{deckyNet}.12", RedisPort));

        // A worker falls silent: its deckies are unreachable (not running), uncounted, and left alone by the mutator.
        var silent = edge0Host == alpha ? beta : alpha;
        var silentName = silent == alpha ? "worker-alpha" : "worker-beta";
        var silentDeckies = (await FleetAsync()).Where(d => d.GetProperty("host").GetString() == silentName).Select(d => d.GetProperty("name").GetString()!).ToList();
        Assert.NotEmpty(silentDeckies);
        await silent.StopAsync();
        await WaitForAsync(async () => (await HostAsync(silent.HostId)).Status == SwarmHostStatus.Unreachable, "the stopped worker turns unreachable", alpha, beta);
        var fleet = await FleetAsync();
        Assert.All(fleet.Where(d => silentDeckies.Contains(d.GetProperty("name").GetString()!)), d =>
        {
            Assert.Equal("unreachable", d.GetProperty("state").GetString());
            Assert.All(d.GetProperty("runtime").EnumerateArray(), s => Assert.Equal("unreachable", s.GetProperty("state").GetString()));
        });
        Assert.All((await GetJsonAsync("/api/v1/swarm/deckies")).EnumerateArray().Where(d => d.GetProperty("host_uuid").GetGuid() == silent.HostId),
            d => Assert.Equal("unreachable", d.GetProperty("state").GetString()));
        await WaitForAsync(async () => (await GetJsonAsync("/api/v1/stats")).GetProperty("active_deckies").GetInt32() == 3 - silentDeckies.Count,
            "stats leave the silent worker's deckies out", alpha, beta);
        foreach (var name in silentDeckies)
        {
            var shard = (await _master.Overview.DeckiesAsync(null, null, CancellationToken.None)).Single(d => d.Name == name);
            await store.UpdateSnapshotAsync(shard.HostId, shard.Config! with { LastMutated = DateTime.UtcNow.AddDays(-2) }, CancellationToken.None);
        }
        Assert.Empty(await mutator.MutateDueAsync(CancellationToken.None));
        using var refused = await _admin.PostAsync($"/api/v1/deckies/{silentDeckies[0]}/mutate", null);
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
    }

    private async Task<List<JsonElement>> FleetAsync() => [.. (await GetJsonAsync("/api/v1/deckies")).EnumerateArray()];

    private static string? Owner(List<JsonElement> fleet, string name) =>
        fleet.Single(d => d.GetProperty("name").GetString() == name).GetProperty("host").GetString();

    private static List<string> Services(List<JsonElement> fleet, string name) =>
        [.. fleet.Single(d => d.GetProperty("name").GetString() == name).GetProperty("services").EnumerateArray().Select(s => s.GetString()!)];

    /// <summary>What the worker's agent itself persisted for the decky (its deployment.json).</summary>
    private static List<string> WorkerServices(Worker worker, string name) =>
        [.. Decnet.Core.Deckies.DeckyConfigJson.DeserializeDeployment(File.ReadAllText(Path.Combine(worker.StateDirectory, "deployment.json")))
            .Deckies.Single(d => d.Name == name).Services];

    private async Task<Worker> EnrollAndStartAsync(string name, string address)
    {
        using var created = await _admin.PostAsJsonAsync("/api/v1/swarm/enroll-bundle", new { master_host = "127.0.0.1", agent_name = name });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var bundleUrl = new Uri(body.GetProperty("archive_url").GetString()!);
        var pin = body.GetProperty("public_key_pin").GetString()!;

        var worker = new Worker(name, body.GetProperty("host_uuid").GetGuid(), address);
        _workers.Add(worker);
        var archive = Path.Combine(worker.Root.Path, "bundle.tgz");
        var (curlExit, curlOut) = await Clients.RunAsync("curl", ["-fsS", "--insecure", "--pinnedpubkey", "sha256//" + pin, "-o", archive, bundleUrl.AbsoluteUri], TimeSpan.FromSeconds(120));
        Assert.True(curlExit == 0, curlOut);
        var unpacked = Path.Combine(worker.Root.Path, "bundle");
        Directory.CreateDirectory(unpacked);
        var (tarExit, tarOut) = await Clients.RunAsync("tar", ["-xzf", archive, "-C", unpacked], TimeSpan.FromSeconds(120));
        Assert.True(tarExit == 0, tarOut);

        // Install what the bootstrap script installs, into the sandbox instead of / (no systemd here).
        CopyDirectory(Path.Combine(unpacked, "release"), worker.InstallDirectory);
        CopyDirectory(Path.Combine(unpacked, "etc", "decnet", "agent"), worker.AgentDirectory);
        var shipped = AgentHostSettings.Parse(await File.ReadAllTextAsync(Path.Combine(unpacked, "etc", "decnet", "decnet.ini")));
        Assert.Equal((worker.HostId, name, _master.Credentials.MasterFingerprint), (shipped.HostUuid, shipped.Name, shipped.MasterFingerprint));
        var syslog = _master.Services.GetRequiredService<SwarmLogListenerService>().Endpoint!;
        var settings = shipped with
        {
            SwarmControllerPort = _master.ControllerUri.Port,
            SyslogPort = syslog.Port,
            AgentHost = address,
            AgentDirectory = worker.AgentDirectory,
            UpdaterDirectory = Path.Combine(worker.ConfigDirectory, "updater"),
            StateDirectory = worker.StateDirectory,
            LogDirectory = worker.LogDirectory,
            InstallDirectory = worker.InstallDirectory,
            HeartbeatSeconds = 1,
        };
        await File.WriteAllTextAsync(worker.ConfigPath, settings.ToIni() + string.Create(CultureInfo.InvariantCulture,
            $"runtime = embedded\nconfig-dir = {worker.ConfigDirectory}\nunits-dir = {worker.UnitsDirectory}\nbin-dir = {worker.BinDirectory}\n"));
        worker.Identity = IssuedIdentity.Load(Path.Combine(worker.AgentDirectory, "worker.crt"), Path.Combine(worker.AgentDirectory, "worker.key"));
        worker.Start();
        return worker;
    }

    private async Task<SwarmHost> HostAsync(Guid id) =>
        await _master.Overview.HostAsync(id, CancellationToken.None) ?? throw new InvalidOperationException($"host {id} is gone");

    private async Task<List<ShardView>> ShardsAsync()
    {
        var list = await GetJsonAsync("/api/v1/swarm/deckies");
        return [.. list.EnumerateArray().Select(s => new ShardView(
            s.GetProperty("name").GetString()!,
            s.GetProperty("host_uuid").GetGuid(),
            s.GetProperty("state").GetString()!,
            s))];
    }

    private async Task<JsonElement> GetJsonAsync(string url)
    {
        using var response = await _admin.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Redis on a worker's decky: 6379, or +10000 when the agent (same user as the test) cannot bind low ports.</summary>
    private static int RedisPort => Environment.IsPrivilegedProcess ? 6379 : 16379;

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what, params Worker[] workers)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what}: not within 90 s.\n" + string.Join("\n", workers.Select(w => $"--- {w.Name}:\n{w.Output}")));
            }
            await Task.Delay(250);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    private sealed record ShardView(string Name, Guid Host, string State, JsonElement Raw);

    /// <summary>One worker: its sandboxed install from the bundle and its agent process.</summary>
    private sealed class Worker(string name, Guid hostId, string address) : IAsyncDisposable
    {
        private readonly StringBuilder _output = new();
        private Process? _process;

        public string Name { get; } = name;
        public Guid HostId { get; } = hostId;
        public string Address { get; } = address;
        public TempDirectory Root { get; } = new("decnet-swarm-e2e");
        public IssuedIdentity Identity { get; set; } = null!;
        public string ConfigDirectory => Path.Combine(Root.Path, "etc", "decnet");
        public string AgentDirectory => Path.Combine(ConfigDirectory, "agent");
        public string ConfigPath => Path.Combine(Root.Path, "decnet.ini");
        public string InstallDirectory => Path.Combine(Root.Path, "opt", "decnet");
        public string UnitsDirectory => Path.Combine(Root.Path, "systemd");
        public string BinDirectory => Path.Combine(Root.Path, "bin");
        public string LogDirectory => Path.Combine(Root.Path, "var", "log", "decnet");
        public string StateDirectory => Path.Combine(Root.Path, "var", "lib", "decnet");

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public void Start()
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = InstallDirectory,
            };
            // The agent from the bundle's release folder, not the test's own build.
            foreach (var argument in new[] { Path.Combine(InstallDirectory, "Decnet.Agent.dll"), "serve", "--config", ConfigPath })
            {
                start.ArgumentList.Add(argument);
            }
            start.Environment["DOTNET_NOLOGO"] = "1";
            _process?.Dispose();
            _process = Process.Start(start)!;
            _process.OutputDataReceived += (_, e) => Append(e.Data);
            _process.ErrorDataReceived += (_, e) => Append(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public async Task StopAsync()
        {
            if (_process is { HasExited: false })
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            _process?.Dispose();
            Root.Dispose();
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (_output)
            {
                if (_output.Length < 200_000)
                {
                    _output.AppendLine(line);
                }
            }
        }
    }
}
