using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Protocol;
using Decnet.Tests.Benchmarks;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Controller;

/// <summary>
/// How many heartbeats the master absorbs over mutual TLS, from simulated workers that each present
/// their own certificate on their own connection, and what 1,000 workers at a 30 s interval cost the
/// master in CPU. The master is the real Decnet.Web process (its CPU read from /proc); the reference,
/// measured in the same run on the same connections, is the controller's GET /health (TLS and HTTP
/// only, no pinning lookups, no database write). The steady state is heartbeats that report what the
/// previous one did (answered from the master's memory, times written in batches); a second phase has
/// every heartbeat change a shard's state, so each one is written.
/// </summary>
[Trait("Category", "Benchmark")]
[Collection(BenchmarkCollection.Name)]
public sealed class HeartbeatBenchmark(ITestOutputHelper output)
{
    private const int Workers = 200;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Heartbeats_per_second_over_mutual_tls_and_cpu_per_thousand_workers()
    {
        var report = new BenchmarkReport(output, "swarm heartbeat");
        report.Machine();
        using var data = new TempDirectory("decnet-bench-master");
        var port = FreePort();
        using var master = StartMaster(data.Path, port);
        try
        {
            var (identity, trust) = await WaitForMasterAsync(data.Path, port, master);
            var controller = new Uri($"https://127.0.0.1:{port}");
            HttpClient Client(IssuedIdentity who) => new(PinnedTls.CreateHandler(who.ToCertificate(), trust, identity.Fingerprint, TimeSpan.FromSeconds(10))) { BaseAddress = controller, Timeout = TimeSpan.FromSeconds(60) };

            using var cli = Client(identity);
            var workers = new List<(Guid Id, HttpClient Client)>();
            for (var i = 0; i < Workers; i++)
            {
                using var response = await cli.PostAsJsonAsync("/swarm/enroll", new { name = $"bench-{i:000}", address = "127.0.0.1", agent_port = FreePort() });
                response.EnsureSuccessStatusCode();
                var body = await response.Content.ReadFromJsonAsync<JsonElement>();
                var worker = new IssuedIdentity($"bench-{i:000}", body.GetProperty("worker_cert_pem").GetString()!, body.GetProperty("worker_key_pem").GetString()!, body.GetProperty("fingerprint").GetString()!);
                workers.Add((body.GetProperty("host_uuid").GetGuid(), Client(worker)));
            }
            // The master owns placement: two deckies per worker are placed first (the agents are not
            // running, so the dispatch records them failed), and the heartbeats then report on them.
            var placed = workers.SelectMany(w => new[] { "-a", "-b" }.Select(suffix =>
                new Decnet.Core.Deckies.DeckyConfig { Name = w.Id.ToString("N")[..12] + suffix, Ip = "10.0.0.1", Services = ["ssh"], Hostname = "bench", HostUuid = w.Id })).ToList();
            var deployment = new Decnet.Core.Deckies.DecnetConfig { Mode = Decnet.Core.Deckies.DeploymentMode.Swarm, Interface = "lo", Subnet = "10.0.0.0/24", Gateway = "10.0.0.254", Deckies = placed };
            using (var deploy = await cli.PostAsJsonAsync("/swarm/deploy", new { config = deployment }, Decnet.Core.Deckies.DeckyConfigJson.Options))
            {
                deploy.EnsureSuccessStatusCode();
            }
            // One heartbeat each first: every worker's TLS session exists before the clock starts.
            // Handshakes a few at a time: 200 at once on a loaded 2-core machine would measure the backlog.
            using var gate = new SemaphoreSlim(8);
            await Task.WhenAll(workers.Select(async w =>
            {
                await gate.WaitAsync();
                try
                {
                    using var warm = await SwarmMaster.SendHeartbeatAsync(w.Client, SwarmMaster.Heartbeat(w.Id, (w.Id.ToString("N")[..12] + "-a", "10.0.0.1", true)));
                    warm.EnsureSuccessStatusCode();
                }
                finally
                {
                    gate.Release();
                }
            }));

            HeartbeatRequest Beat(Guid id, bool bravoHealthy) =>
                SwarmMaster.Heartbeat(id, (id.ToString("N")[..12] + "-a", "10.0.0.1", true), (id.ToString("N")[..12] + "-b", "10.0.0.2", bravoHealthy));
            var heartbeats = await MeasureAsync(master, workers, w => SwarmMaster.SendHeartbeatAsync(w.Client, Beat(w.Id, bravoHealthy: false)), HttpStatusCode.NoContent);
            // Each worker's loop is sequential: its own counter needs no lock.
            var beatsSent = workers.ToDictionary(w => w.Id, _ => new StrongBox<int>());
            var changing = await MeasureAsync(master, workers, w => SwarmMaster.SendHeartbeatAsync(w.Client, Beat(w.Id, bravoHealthy: ++beatsSent[w.Id].Value % 2 == 0)), HttpStatusCode.NoContent);
            var health = await MeasureAsync(master, workers, w => w.Client.GetAsync("/health"), HttpStatusCode.OK);

            report.Line($"{Workers} workers, each with its own certificate and keep-alive connection, {Window.TotalSeconds:0} s per phase");
            report.Figure("heartbeats absorbed (pinned, 2 shards reported, unchanged)", heartbeats.PerSecond, "req/s", "GET /health on the same mTLS connections", health.PerSecond);
            report.Figure("heartbeats absorbed (every one changes a shard state: written)", changing.PerSecond, "req/s", "GET /health on the same mTLS connections", health.PerSecond);
            var cpuPerHeartbeatMs = heartbeats.MasterCpu.TotalMilliseconds / heartbeats.Count;
            var cpuPerHealthMs = health.MasterCpu.TotalMilliseconds / health.Count;
            report.Figure("master CPU per heartbeat (unchanged)", cpuPerHeartbeatMs * 1000, "us", "GET /health", cpuPerHealthMs * 1000);
            report.Figure("master CPU per heartbeat (changing, written)", changing.MasterCpu.TotalMilliseconds / changing.Count * 1000, "us", "GET /health", cpuPerHealthMs * 1000);
            // 1,000 workers every 30 s = 33.3 heartbeats/s; the CPU share of one core that takes.
            var coreShare = 1000.0 / 30.0 * cpuPerHeartbeatMs / 1000.0 * 100.0;
            report.Figure("master CPU for 1,000 workers at 30 s", coreShare, "% of one core", "same load as /health", 1000.0 / 30.0 * cpuPerHealthMs / 1000.0 * 100.0);
            report.Line(string.Create(CultureInfo.InvariantCulture, $"failures: heartbeats {heartbeats.Failures}, changing heartbeats {changing.Failures}, health {health.Failures}"));
            Assert.True(heartbeats.Count > 0 && heartbeats.Failures == 0, $"{heartbeats.Failures} heartbeats failed");
            Assert.True(changing.Count > 0 && changing.Failures == 0, $"{changing.Failures} changing heartbeats failed");
            foreach (var worker in workers)
            {
                worker.Client.Dispose();
            }
        }
        finally
        {
            if (!master.HasExited)
            {
                master.Kill(entireProcessTree: true);
                await master.WaitForExitAsync();
            }
        }
    }

    private sealed record Phase(int Count, int Failures, double PerSecond, TimeSpan MasterCpu);

    private static async Task<Phase> MeasureAsync(Process master, List<(Guid Id, HttpClient Client)> workers, Func<(Guid Id, HttpClient Client), Task<HttpResponseMessage>> send, HttpStatusCode expected)
    {
        var count = 0;
        var failures = 0;
        var cpuBefore = ProcessCpu(master.Id);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(workers.Select(async worker =>
        {
            while (clock.Elapsed < Window)
            {
                try
                {
                    using var response = await send(worker);
                    Interlocked.Increment(ref response.StatusCode == expected ? ref count : ref failures);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        var elapsed = clock.Elapsed;
        var cpu = ProcessCpu(master.Id) - cpuBefore;
        return new Phase(count, failures, count / elapsed.TotalSeconds, cpu);
    }

    /// <summary>utime + stime of a process from /proc, in clock ticks of 10 ms (USER_HZ 100 on Linux).</summary>
    private static TimeSpan ProcessCpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    private static Process StartMaster(string data, int port)
    {
        var web = Path.Combine(AppContext.BaseDirectory, "Decnet.Web.dll");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(web);
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Decnet__Storage__DataDirectory"] = data;
        start.Environment["Decnet__Logging__Directory"] = Path.Combine(data, "logs");
        start.Environment["Decnet__Users__AdminPassword"] = "bench-admin-password";
        start.Environment["Decnet__Runtime__Kind"] = "embedded";
        start.Environment["Decnet__Swarm__ControllerUrl"] = $"https://127.0.0.1:{port}";
        var process = Process.Start(start)!;
        // Drain output so the child never blocks on a full pipe.
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }

    private static async Task<(IssuedIdentity Master, SwarmTrust Trust)> WaitForMasterAsync(string data, int port, Process master)
    {
        var ca = Path.Combine(data, "swarm", "ca");
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline && !master.HasExited)
        {
            if (File.Exists(Path.Combine(ca, "master", "master.key")))
            {
                var identity = IssuedIdentity.Load(Path.Combine(ca, "master", "master.crt"), Path.Combine(ca, "master", "master.key"));
                var trust = SwarmTrust.FromFile(Path.Combine(ca, "ca.crt"));
                try
                {
                    using var client = new HttpClient(PinnedTls.CreateHandler(identity.ToCertificate(), trust, identity.Fingerprint, TimeSpan.FromSeconds(5))) { BaseAddress = new Uri($"https://127.0.0.1:{port}") };
                    using var response = await client.GetAsync("/health");
                    if (response.IsSuccessStatusCode)
                    {
                        return (identity, trust);
                    }
                }
                catch (HttpRequestException)
                {
                }
            }
            await Task.Delay(250);
        }
        throw new InvalidOperationException("The master did not start its swarm controller.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
