using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Decnet.Core.Attackers;
using Decnet.Core.Bounty;
using Decnet.Core.Events;
using Decnet.Core.Overview;
using Decnet.Core.Storage;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// The REST API under load: wrk with 500 keep-alive connections replays upstream's locust mix (stats 10,
/// logs 8, attackers 8, bounty 6, histogram 5, log search 5, attacker search 4, log pagination 4), every
/// request with a viewer's JWT, against the whole master (Decnet.Web on a real Kestrel port, real auth,
/// real SQLite or real PostgreSQL) seeded with 100k logs, 1k attackers and 5k bounties. The full mix also
/// walks log pages by keyset cursor. The reference is a bare Kestrel endpoint hit by the same wrk command
/// in the same run.
/// </summary>
[Collection(BenchmarkCollection.Name)]
public sealed partial class ApiLoadBenchmark(ITestOutputHelper output)
{
    private const int Logs = 100_000;
    private const int AttackerCount = 1_000;
    private const int Bounties = 5_000;
    private const int Connections = 500;
    private const double FullMixTarget = 10_000;
    private const double FullMixP99TargetMs = 100;

    private static readonly string Duration = Environment.GetEnvironmentVariable("DECNET_BENCH_API_DURATION") ?? "15s";

    /// <summary>The hot paths of the issue with upstream's locust weights (UPSTREAM.md §10): unfiltered first pages.</summary>
    private static readonly (string Path, int Weight)[] HotMix =
    [
        ("/api/v1/stats", 10),
        ("/api/v1/logs", 8),
        ("/api/v1/attackers", 8),
        ("/api/v1/bounty", 6),
        ("/api/v1/logs/histogram", 5),
    ];

    /// <summary>
    /// The same plus upstream's other read tasks: log search 5, attacker search 4, log pagination 4 (by
    /// offset, as upstream's locust pages), plus a keyset page 2 (the cursor of the first page). These are
    /// filtered or later pages: each is shared by the readers of the same query for a short lifetime.
    /// </summary>
    private static (string Path, int Weight)[] FullMix(string cursor) =>
    [
        .. HotMix,
        ("/api/v1/logs?search=service:ssh", 2),
        ("/api/v1/logs?search=decky:decky-07", 2),
        ("/api/v1/logs?search=event:auth_attempt", 1),
        ("/api/v1/attackers?search=10.1.2", 2),
        ("/api/v1/attackers?service=ssh&sort_by=active", 2),
        ("/api/v1/logs?offset=50", 2),
        ("/api/v1/logs?offset=500&limit=50", 2),
        ("/api/v1/logs?cursor=" + Uri.EscapeDataString(cursor), 2),
    ];

    [GeneratedRegex(@"(\d+) requests in ([\d.]+)(m?s)")]
    private static partial Regex RequestsIn();

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline)]
    private static partial Regex P99();

    [GeneratedRegex(@"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline)]
    private static partial Regex P50();

    [Theory]
    [InlineData(StorageProvider.Sqlite)]
    [InlineData(StorageProvider.Postgres)]
    [Trait("Category", "Benchmark")]
    public async Task Api_mix_with_500_connections_vs_bare_kestrel(StorageProvider provider)
    {
        var report = new BenchmarkReport(output, $"api-load ({provider})");
        report.Machine();
        BenchmarkProcess.Require("wrk");
        var work = Directory.CreateTempSubdirectory("decnet-bench-api-").FullName;
        try
        {
            WrkResult api, identity, full;
            long statsLoads, bountyLoads, attackerLoads, attackerQueryLoads;
            (long, long, long) logLoads, logQueryLoads;
            using (var factory = await DecnetWebFactory.CreateAsync(provider))
            {
                factory.UseKestrel();
                factory.StartServer();
                var baseUrl = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
                    .First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
                var seed = Stopwatch.StartNew();
                await SeedAsync(factory.Services);
                report.Line($"seeded {Logs:N0} logs, {AttackerCount:N0} attackers, {Bounties:N0} bounties in {seed.Elapsed.TotalSeconds:0.0} s");
                var (_, token) = await factory.CreateActiveUserAsync("bench-viewer", UserRole.Viewer);
                var fullMix = FullMix(await FirstCursorAsync(factory, token));
                await CheckMixAsync(factory, token, fullMix, report);

                // Locust's HttpUser is a python-requests session, which sends "Accept-Encoding: gzip, deflate" on
                // every request; the main runs do the same. One hot run without it shows the uncompressed cost.
                var hotScript = Path.Combine(work, "hot.lua");
                var identityScript = Path.Combine(work, "hot-identity.lua");
                var fullScript = Path.Combine(work, "full.lua");
                await File.WriteAllTextAsync(hotScript, LuaMix(HotMix, token, LocustEncoding), TestContext.Current.CancellationToken);
                await File.WriteAllTextAsync(identityScript, LuaMix(HotMix, token, null), TestContext.Current.CancellationToken);
                await File.WriteAllTextAsync(fullScript, LuaMix(fullMix, token, LocustEncoding), TestContext.Current.CancellationToken);
                // Warm-up: JIT, connection pool, SQLite page cache; not measured.
                await WrkAsync(["-t2", "-c" + Connections, "-d3s", "-s", fullScript, baseUrl], work, print: false);
                await DrainAsync(report);
                var stats = factory.Services.GetRequiredService<EventStatistics>();
                var bounty = factory.Services.GetRequiredService<BountyQuery>();
                var attackers = factory.Services.GetRequiredService<AttackerDirectory>();
                var logs = factory.Services.GetRequiredService<Decnet.Core.Search.LogSearch>();
                (statsLoads, bountyLoads, attackerLoads, logLoads) = (stats.Loads, bounty.FirstPageLoads, attackers.FirstPageLoads, logs.CacheLoads);
                api = await WrkAsync(["-t2", "-c" + Connections, "-d" + Duration, "--latency", "--timeout", "10s", "-s", hotScript, baseUrl], work, print: true);
                statsLoads = stats.Loads - statsLoads;
                bountyLoads = bounty.FirstPageLoads - bountyLoads;
                attackerLoads = attackers.FirstPageLoads - attackerLoads;
                logLoads = (logs.CacheLoads.FirstPage - logLoads.Item1, logs.CacheLoads.Total - logLoads.Item2, logs.CacheLoads.Histogram - logLoads.Item3);
                report.Line($"thread pool after the hot mix: {ThreadPool.ThreadCount} threads, {ThreadPool.PendingWorkItemCount} queued");
                await DrainAsync(report);
                identity = await WrkAsync(["-t2", "-c" + Connections, "-d" + Duration, "--latency", "--timeout", "10s", "-s", identityScript, baseUrl], work, print: true);
                await DrainAsync(report);
                (logQueryLoads, attackerQueryLoads) = (logs.QueryCacheLoads, attackers.QueryLoads);
                full = await WrkAsync(["-t2", "-c" + Connections, "-d" + Duration, "--latency", "--timeout", "10s", "-s", fullScript, baseUrl], work, print: true);
                report.Line($"thread pool after the full mix: {ThreadPool.ThreadCount} threads, {ThreadPool.PendingWorkItemCount} queued");
                logQueryLoads = (logs.QueryCacheLoads.Pages - logQueryLoads.Item1, logs.QueryCacheLoads.Counts - logQueryLoads.Item2, logs.QueryCacheLoads.Histograms - logQueryLoads.Item3);
                attackerQueryLoads = attackers.QueryLoads - attackerQueryLoads;
                report.Line($"database loads of the per-query caches during the full-mix run ({full.Requests:N0} requests): log pages/counts/histograms {logQueryLoads}, attacker searches {attackerQueryLoads}; held now: logs {logs.QueryCacheHeld}, attackers {attackers.QueryCacheHeld}");
            }

            WrkResult kestrel;
            var port = BenchmarkProcess.FreePort(IPAddress.Loopback);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
            await using (var app = builder.Build())
            {
                app.MapGet("/", () => Results.Text("{\"total_logs\":100000,\"unique_attackers\":1000,\"active_deckies\":0}", "application/json"));
                await app.StartAsync(TestContext.Current.CancellationToken);
                kestrel = await WrkAsync(["-t2", "-c" + Connections, "-d" + Duration, "--latency", "--timeout", "10s", $"http://127.0.0.1:{port}/"], work, print: true);
                await app.StopAsync(TestContext.Current.CancellationToken);
            }

            report.Figure($"hot paths (stats/logs/attackers/bounty/histogram, locust weights) requests/s, wrk -t2 -c{Connections} -d{Duration}, JWT, Accept-Encoding: {LocustEncoding}", api.PerSecond, "req/s", "bare Kestrel MapGet, same wrk command", kestrel.PerSecond);
            report.Line(string.Create(CultureInfo.InvariantCulture, $"hot paths: p50 {api.P50Ms:0.0} ms, p99 {api.P99Ms:0.0} ms, errors: {api.Errors} | bare Kestrel p50 {kestrel.P50Ms:0.0} ms, p99 {kestrel.P99Ms:0.0} ms | target p99 < 200 ms"));
            report.Line(string.Create(CultureInfo.InvariantCulture, $"hot paths vs upstream's locust baseline (960 req/s, p99 2.9 s at 500 users): {api.PerSecond / 960:0.0}x; target 10x and >= 15% of bare Kestrel ({100 * api.PerSecond / kestrel.PerSecond:0.0}% here)"));
            report.Line(string.Create(CultureInfo.InvariantCulture, $"hot paths without Accept-Encoding (uncompressed bodies): {identity.PerSecond:0.0} req/s ({100 * identity.PerSecond / kestrel.PerSecond:0.0}% of bare Kestrel, {identity.PerSecond / 960:0.0}x upstream), p50 {identity.P50Ms:0.0} ms, p99 {identity.P99Ms:0.0} ms, errors: {identity.Errors}"));
            report.Figure("full locust read mix (+ log search, attacker search, log pagination) requests/s", full.PerSecond, "req/s", "bare Kestrel MapGet, same wrk command", kestrel.PerSecond);
            report.Line(string.Create(CultureInfo.InvariantCulture, $"full mix: p50 {full.P50Ms:0.0} ms, p99 {full.P99Ms:0.0} ms, errors: {full.Errors}; {full.PerSecond / 960:0.0}x upstream's 960 req/s"));
            report.Line(string.Create(CultureInfo.InvariantCulture,
                $"full mix against the target (>= {FullMixTarget:0} req/s with p99 < {FullMixP99TargetMs:0} ms at {Connections} connections): {full.PerSecond:0} req/s, p99 {full.P99Ms:0.0} ms: {(full.PerSecond >= FullMixTarget && full.P99Ms < FullMixP99TargetMs ? "met" : "NOT met")}"));
            report.Line(string.Create(CultureInfo.InvariantCulture,
                $"server CPU per request (this process, all threads): hot paths {api.CpuUsPerRequest:0} us, uncompressed {identity.CpuUsPerRequest:0} us, full mix {full.CpuUsPerRequest:0} us, bare Kestrel {kestrel.CpuUsPerRequest:0} us; wrk's own CPU per request: full mix {full.WrkCpuUsPerRequest:0} us, bare Kestrel {kestrel.WrkCpuUsPerRequest:0} us"));
            report.Line(string.Create(CultureInfo.InvariantCulture,
                $"CPU bound of the full mix on two otherwise idle cores (2 s of CPU per second / (server + wrk) per request): {2e6 / (full.CpuUsPerRequest + full.WrkCpuUsPerRequest):0} req/s; of bare Kestrel: {2e6 / (kestrel.CpuUsPerRequest + kestrel.WrkCpuUsPerRequest):0} req/s"));
            report.Line($"database loads of the shared entries during the hot-mix run: stats {statsLoads}, bounty first page {bountyLoads}, attackers first pages {attackerLoads}, logs first page/total/histogram {logLoads}");
            report.Machine();
            // Figures are reported, not asserted; correctness is: every request answered, none failed.
            Assert.DoesNotContain("Non-2xx", api.Errors + identity.Errors + full.Errors, StringComparison.Ordinal);
            Assert.True(api.Requests > 0);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private const string LocustEncoding = "gzip, deflate";

    /// <summary>
    /// Each run starts on an idle server: requests wrk abandoned at the end of the previous run may still be
    /// queued (a database query each, for the full mix), and would otherwise be charged to the next run.
    /// </summary>
    private static async Task DrainAsync(BenchmarkReport report)
    {
        var watch = Stopwatch.StartNew();
        while (ThreadPool.PendingWorkItemCount > 5 && watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }
        await Task.Delay(500);
        report.Line(string.Create(CultureInfo.InvariantCulture, $"server idle after {watch.Elapsed.TotalSeconds:0.0} s ({ThreadPool.PendingWorkItemCount} work items queued)"));
    }

    /// <summary>Every request of the mix answers 200 with this token before the load starts; the body sizes are reported.</summary>
    private static async Task<string> FirstCursorAsync(DecnetWebFactory factory, string token)
    {
        using var client = factory.CreateClient(token);
        using var first = await client.GetAsync("/api/v1/logs");
        using var body = System.Text.Json.JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("next_cursor").GetString()!;
    }

    private static async Task CheckMixAsync(DecnetWebFactory factory, string token, (string Path, int Weight)[] mix, BenchmarkReport report)
    {
        using var client = factory.CreateClient(token);
        foreach (var (path, _) in mix)
        {
            using var plain = await client.GetAsync(path);
            Assert.True(plain.StatusCode == HttpStatusCode.OK, $"{path}: {(int)plain.StatusCode} {await plain.Content.ReadAsStringAsync()}");
            var plainBytes = (await plain.Content.ReadAsByteArrayAsync()).Length;
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("Accept-Encoding", LocustEncoding);
            using var compressed = await client.SendAsync(request);
            var encoding = string.Join(",", compressed.Content.Headers.ContentEncoding);
            // One client, one request at a time: what each path costs without queueing.
            var times = new List<double>();
            for (var i = 0; i < 20; i++)
            {
                var watch = Stopwatch.StartNew();
                using var timed = await client.GetAsync(path);
                await timed.Content.ReadAsByteArrayAsync();
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            var compressedBytes = (await compressed.Content.ReadAsByteArrayAsync()).Length;
            report.Line(string.Create(CultureInfo.InvariantCulture, $"{path}: {plainBytes:N0} bytes, {compressedBytes:N0} with {LocustEncoding} ({(encoding.Length == 0 ? "sent uncompressed" : encoding)}); alone: median {times[10]:0.00} ms"));
        }
    }

    /// <summary>The weighted mix as a wrk script: requests are formatted once, then replayed round-robin per thread.</summary>
    private static string LuaMix((string Path, int Weight)[] mix, string token, string? acceptEncoding)
    {
        var lua = new StringBuilder();
        lua.AppendLine("local paths = {");
        foreach (var (path, weight) in mix)
        {
            for (var i = 0; i < weight; i++)
            {
                lua.Append("  \"").Append(path).AppendLine("\",");
            }
        }
        lua.AppendLine("}");
        lua.AppendLine(CultureInfo.InvariantCulture, $"wrk.headers[\"Authorization\"] = \"Bearer {token}\"");
        if (acceptEncoding is not null)
        {
            lua.AppendLine(CultureInfo.InvariantCulture, $"wrk.headers[\"Accept-Encoding\"] = \"{acceptEncoding}\"");
        }
        lua.AppendLine("""
            local requests = {}
            local index = 0
            function init(args)
              for i, p in ipairs(paths) do requests[i] = wrk.format("GET", p) end
              index = math.random(#requests)
            end
            function request()
              index = index % #requests + 1
              return requests[index]
            end
            """);
        return lua.ToString();
    }

    private async Task<WrkResult> WrkAsync(string[] args, string work, bool print)
    {
        // The server runs in this process (wrk does not): its CPU per request holds however busy the machine is.
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var childrenBefore = ReapedChildrenCpu();
        var run = await BenchmarkProcess.RunAsync("wrk", args, work, TimeSpan.FromMinutes(3));
        self.Refresh();
        var cpu = self.TotalProcessorTime - cpuBefore;
        var wrkCpu = ReapedChildrenCpu() - childrenBefore;
        if (print)
        {
            var line = $"wrk {string.Join(' ', args.Select(a => a.EndsWith(".lua", StringComparison.Ordinal) ? Path.GetFileName(a) : a))}\n{run.StdOut}{run.StdErr}";
            output.WriteLine(line);
            Console.WriteLine(line);
        }
        Assert.Equal(0, run.ExitCode);
        var total = RequestsIn().Match(run.StdOut);
        var rate = RequestsPerSecond().Match(run.StdOut);
        Assert.True(total.Success && rate.Success, "unexpected wrk output: " + run.StdOut);
        var errors = new List<string>();
        foreach (var line in run.StdOut.Split('\n'))
        {
            if (line.Contains("Socket errors", StringComparison.Ordinal) || line.Contains("Non-2xx", StringComparison.Ordinal))
            {
                errors.Add(line.Trim());
            }
        }
        var requests = long.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture);
        return new WrkResult(
            requests,
            double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture),
            Millis(P50().Match(run.StdOut)),
            Millis(P99().Match(run.StdOut)),
            errors.Count == 0 ? "none" : string.Join("; ", errors),
            requests == 0 ? double.NaN : cpu.TotalMicroseconds / requests,
            requests == 0 ? double.NaN : wrkCpu.TotalMicroseconds / requests);
    }

    /// <summary>CPU of this process's exited and reaped children (wrk): cutime + cstime of /proc/self/stat, in clock ticks of 10 ms.</summary>
    private static TimeSpan ReapedChildrenCpu()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        // Fields after the command name (which may hold spaces) start at field 3; cutime and cstime are fields 16 and 17.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    private static double Millis(Match match)
    {
        if (!match.Success)
        {
            return double.NaN;
        }
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    /// <summary>Realistic rows: 12 deckies, 8 services, 1k source addresses, a month of timestamps.</summary>
    private static async Task SeedAsync(IServiceProvider services)
    {
        string[] deckies = [.. Enumerable.Range(1, 12).Select(i => $"decky-{i:00}")];
        string[] servicesNames = ["ssh", "http", "ftp", "smtp", "mysql", "redis", "telnet", "smb"];
        string[] events = ["connect", "auth_attempt", "command", "request", "disconnect"];
        var random = new Random(42);
        var start = DateTime.UtcNow.AddDays(-30);
        string Ip(int i) => $"10.{1 + (i / 65536)}.{i / 256 % 256}.{i % 256}";
        var factory = services.GetRequiredService<IDbContextFactory<DecnetDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            // The attackers below stand for the profiles of these logs: the running profiler starts after them
            // (logs get ids 1..Logs in the empty table) instead of re-profiling 100k rows during the run.
            db.PipelineCursors.Add(new PipelineCursor { Name = AttackerProfiler.CursorName, Position = Logs, UpdatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
        }

        for (var chunk = 0; chunk < Logs; chunk += 10_000)
        {
            await using var db = await factory.CreateDbContextAsync();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (var i = chunk; i < chunk + 10_000; i++)
            {
                var decky = deckies[random.Next(deckies.Length)];
                var service = servicesNames[random.Next(servicesNames.Length)];
                var type = events[random.Next(events.Length)];
                var when = start.AddSeconds(i * 25.92);
                var ip = Ip(random.Next(AttackerCount));
                var fields = type switch
                {
                    "auth_attempt" => $"{{\"src_ip\":\"{ip}\",\"username\":\"root\",\"password\":\"pw{i % 977}\"}}",
                    "command" => $"{{\"src_ip\":\"{ip}\",\"cmd\":\"cat /etc/passwd\"}}",
                    "request" => $"{{\"src_ip\":\"{ip}\",\"method\":\"GET\",\"path\":\"/admin\",\"user_agent\":\"curl/8.5.0\"}}",
                    _ => $"{{\"src_ip\":\"{ip}\"}}",
                };
                db.Logs.Add(new LogEntry
                {
                    Timestamp = when,
                    Decky = decky,
                    Service = service,
                    EventType = type,
                    AttackerIp = ip,
                    RawLine = $"<134>1 {when:yyyy-MM-ddTHH:mm:ss}Z {decky} {service} - {type} [relay@55555 src_ip=\"{ip}\"]",
                    Fields = fields,
                    EventKey = "bench-" + i.ToString(CultureInfo.InvariantCulture),
                });
            }
            await db.SaveChangesAsync();
        }

        await using (var db = await factory.CreateDbContextAsync())
        {
            for (var i = 0; i < AttackerCount; i++)
            {
                var first = start.AddMinutes(random.Next(0, 20_000));
                var touched = servicesNames.OrderBy(_ => random.Next()).Take(1 + random.Next(4)).Order(StringComparer.Ordinal).ToList();
                var attacker = new Attacker
                {
                    Ip = Ip(i),
                    FirstSeen = first,
                    LastSeen = first.AddMinutes(random.Next(1, 20_000)),
                    EventCount = 100,
                    ServiceCount = touched.Count,
                    DeckyCount = 1 + random.Next(3),
                    Services = AttackerJson.Serialize(touched),
                    Deckies = AttackerJson.Serialize(deckies.Take(2).ToList()),
                    IsTraversal = i % 3 == 0,
                    TraversalPath = i % 3 == 0 ? "decky-01 → decky-02" : null,
                    BountyCount = 5,
                    CredentialCount = 3,
                    UpdatedAt = DateTime.UtcNow,
                };
                attacker.Behavior = new AttackerBehavior
                {
                    AttackerId = attacker.Id,
                    BehaviorClass = i % 2 == 0 ? BehaviorAnalyzer.BruteForce : BehaviorAnalyzer.Scanner,
                    ToolGuesses = "[\"hydra\"]",
                    TimingStats = "{}",
                    PhaseSequence = "{}",
                    UpdatedAt = DateTime.UtcNow,
                };
                db.Attackers.Add(attacker);
            }
            for (var i = 0; i < Bounties; i++)
            {
                db.Bounties.Add(new BountyRecord
                {
                    Timestamp = start.AddSeconds(i * 500),
                    Decky = deckies[i % deckies.Length],
                    Service = "ssh",
                    AttackerIp = Ip(i % AttackerCount),
                    BountyType = i % 4 == 0 ? "fingerprint" : "credential",
                    Payload = i % 4 == 0 ? "{\"fingerprint_type\":\"http_useragent\",\"value\":\"curl/8.5.0\"}" : $"{{\"username\":\"root\",\"password\":\"pw{i}\"}}",
                    DedupKey = "bench-" + i.ToString(CultureInfo.InvariantCulture),
                });
            }
            await db.SaveChangesAsync();
        }
    }

    /// <param name="CpuUsPerRequest">CPU time of this process (the server) per request answered, in microseconds.</param>
    /// <param name="WrkCpuUsPerRequest">CPU time of wrk itself per request, in microseconds.</param>
    private sealed record WrkResult(long Requests, double PerSecond, double P50Ms, double P99Ms, string Errors, double CpuUsPerRequest, double WrkCpuUsPerRequest);
}
