using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// Dashboard memory per live circuit: N dashboard circuits (default 100) stay live while events are ingested
/// at 50 events/s, so every circuit re-renders its stat cards and latest events about once a second. The
/// circuits are browser-free clients speaking Blazor's real SignalR protocol (<see cref="BlazorCircuitClient"/>)
/// from a process of their own (<see cref="DashboardCircuitFleet"/>), so only the master's side of each circuit
/// is in the measured heap. The master's managed heap and working set are measured with zero circuits (ingest
/// running, after one warm-up Chromium tab came and went) and again with all circuits live; the difference
/// divided by N is the cost of one circuit. Every circuit must follow the ingest: a render batch within 2 s of
/// each ingested event. A few real Chromium tabs are then opened as a spot check of the same page.
/// </summary>
[Collection(BenchmarkCollection.Name)]
public sealed class DashboardCircuitsBenchmark(ITestOutputHelper output)
{
    private const int EventsPerSecond = 50;

    private const int ChromiumTabs = 3;

    private static readonly TimeSpan Window = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan LiveWithin = TimeSpan.FromSeconds(2);

    private static readonly int Circuits = int.TryParse(Environment.GetEnvironmentVariable("DECNET_BENCH_CIRCUITS"), out var n) ? n : 100;

    [Fact]
    [Trait("Category", "Benchmark")]
    public async Task Memory_per_live_dashboard_circuit_while_ingesting_50_events_per_second()
    {
        var report = new BenchmarkReport(output, "dashboard-circuits");
        report.Machine();
        await using var session = await BrowserSession.StartAsync();
        var sink = session.Factory.Services.GetRequiredService<ChannelEventSink>();
        var ingester = session.Factory.Services.GetRequiredService<EventIngester>();
        using var stopIngest = new CancellationTokenSource();
        long published = 0;
        var ticks = new ConcurrentQueue<DateTime>();
        var recording = 0;
        var feeder = Task.Run(async () =>
        {
            // 5 events every 100 ms: 50 events/s from a rotating set of attackers.
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            try
            {
                while (await timer.WaitForNextTickAsync(stopIngest.Token))
                {
                    for (var i = 0; i < EventsPerSecond / 10; i++)
                    {
                        var n = Interlocked.Increment(ref published);
                        sink.Publish(new HoneypotEvent(DateTimeOffset.UtcNow, $"decky-{n % 5:00}", "ssh", "auth_attempt",
                            [new("src_ip", $"192.0.2.{n % 200}"), new("username", "root"), new("password", "pw" + n)]));
                    }
                    if (Volatile.Read(ref recording) == 1)
                    {
                        ticks.Enqueue(DateTime.UtcNow);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped at the end of the run.
            }
        });

        var (_, _) = await session.Factory.CreateActiveUserAsync("bench-viewer", UserRole.Viewer);
        await session.SignInAsync("bench-viewer", "bench-viewer-password-1");
        await session.WaitForCircuitAsync();
        var cookie = string.Join("; ", (await session.Page.Context.CookiesAsync()).Select(c => $"{c.Name}={c.Value}"));
        // The sign-in tab is the warm-up: it loads and JIT-compiles the dashboard once, then goes away.
        await session.Page.GotoAsync("about:blank");
        await Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        report.Line("load average at start: " + LoadAverage());
        var baseline = Measure();
        report.Line($"zero circuits, ingest running: managed heap {Mib(baseline.Heap)}, working set {Mib(baseline.WorkingSet)}");
        await HeapDumpAsync(report, "zero");

        using var folder = new TempDirectory("decnet-circuit-fleet");
        var (fleet, live) = await DashboardCircuitFleet.StartAsync(folder.Path,
            new DashboardCircuitFleet.Request(session.BaseUrl, Environment.GetEnvironmentVariable("DECNET_BENCH_PAGE") ?? "/", cookie, Circuits), TimeSpan.FromMinutes(10));
        IReadOnlyList<DashboardCircuitFleet.CircuitResult> results;
        long before;
        long ingestedDuring;
        (long Heap, long WorkingSet) loaded;
        DateTime windowStart;
        DateTime windowEnd;
        try
        {
            report.Line($"{live.Circuits} browser-free dashboard circuits live after {live.OpenSeconds:0.0} s");
            // Let every circuit follow the ingest for a while; the feeder notes when each batch of events went in.
            before = ingester.Counters.Ingested;
            windowStart = DateTime.UtcNow;
            Volatile.Write(ref recording, 1);
            await Task.Delay(Window, TestContext.Current.CancellationToken);
            Volatile.Write(ref recording, 0);
            windowEnd = DateTime.UtcNow;
            ingestedDuring = ingester.Counters.Ingested - before;
            loaded = Measure();
            await HeapDumpAsync(report, "loaded");
        }
        finally
        {
            results = await DashboardCircuitFleet.StopAsync(folder.Path, fleet);
            fleet.Dispose();
        }

        report.Line($"{Circuits} circuits, ingest running: managed heap {Mib(loaded.Heap)}, working set {Mib(loaded.WorkingSet)}");
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"per circuit: managed heap {(loaded.Heap - baseline.Heap) / 1024.0 / Circuits:0.0} KiB, working set {(loaded.WorkingSet - baseline.WorkingSet) / 1024.0 / Circuits:0.0} KiB | reference: the zero-circuit baseline above, same process, same run"));
        report.Line(string.Create(CultureInfo.InvariantCulture, $"ingested during the {Window.TotalSeconds:0} s window: {ingestedDuring} events ({ingestedDuring / Window.TotalSeconds:0.0}/s)"));

        // Live: for every moment events went in (but the last 2 s of the window), a render batch reached the
        // circuit within 2 s after it.
        var checkedTicks = ticks.Where(t => t <= windowEnd - LiveWithin).ToList();
        var lags = results.Select(r => WorstLag(r, checkedTicks)).ToList();
        var liveCount = lags.Count(l => l <= LiveWithin);
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"liveness: {liveCount} of {results.Count} circuits got a render batch within {LiveWithin.TotalSeconds:0} s of each of {checkedTicks.Count} ingest moments; worst lag {lags.Max().TotalSeconds:0.00} s, median circuit's worst lag {lags.Order().ElementAt(lags.Count / 2).TotalSeconds:0.00} s"));
        report.Line($"render batches per circuit in the window: min {results.Min(r => BatchesIn(r, windowStart, windowEnd))}, max {results.Max(r => BatchesIn(r, windowStart, windowEnd))}; JS interop calls answered per circuit: {results.Min(r => r.JsCalls)} to {results.Max(r => r.JsCalls)}");
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"render batch sizes: first (the whole page) {results.Min(r => r.FirstBatchBytes) / 1024.0:0.0} to {results.Max(r => r.FirstBatchBytes) / 1024.0:0.0} KiB, largest update {results.Max(r => r.LargestUpdateBytes) / 1024.0:0.0} KiB"));
        report.Line($"interactions shown by the circuits at the end: {results.Min(r => r.LargestNumberShown)} to {results.Max(r => r.LargestNumberShown)} (of {ingester.Counters.Ingested} ingested, {before} before the window)");

        // The spot check: the same page in real Chromium tabs follows the ingest too.
        await using var context = await session.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            StorageState = await session.Page.Context.StorageStateAsync(),
        });
        var shownFirst = new List<long>();
        var shownLater = new List<long>();
        var pages = new List<IPage>();
        for (var i = 0; i < ChromiumTabs; i++)
        {
            var page = await context.NewPageAsync();
            page.SetDefaultTimeout(60_000);
            await page.GotoAsync(session.BaseUrl + "/");
            await page.GetByTestId("circuit-ready").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
            pages.Add(page);
        }
        var tabsOpenedAt = ingester.Counters.Ingested;
        foreach (var page in pages)
        {
            shownFirst.Add(await ShownInteractionsAsync(page));
        }
        await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        foreach (var page in pages)
        {
            shownLater.Add(await ShownInteractionsAsync(page));
        }
        report.Line($"Chromium spot check, {ChromiumTabs} tabs: interactions shown {string.Join(", ", shownFirst)}, 5 s later {string.Join(", ", shownLater)} (of {ingester.Counters.Ingested} ingested)");
        report.Line("load average at end: " + LoadAverage());
        await stopIngest.CancelAsync();
        await feeder;

        Assert.True(ingestedDuring >= EventsPerSecond * 10, $"only {ingestedDuring} events ingested in {Window.TotalSeconds} s");
        Assert.Equal(Circuits, results.Count);
        Assert.All(results, r => Assert.Null(r.Error));
        // Every circuit followed the ingest: it rendered during the window and its last batches show more than was ingested before it.
        Assert.All(results, r => Assert.True(BatchesIn(r, windowStart, windowEnd) > 0, "a circuit got no render batch during the window"));
        Assert.All(results, r => Assert.True(r.LargestNumberShown >= before, $"a circuit shows {r.LargestNumberShown}, fewer than the {before} ingested before the window"));
        Assert.All(shownLater.Zip(shownFirst), pair => Assert.True(pair.First > pair.Second, $"a Chromium tab stayed at {pair.Second} interactions while events were ingested"));
    }

    /// <summary>The longest any ingest moment waited for the circuit's next render batch.</summary>
    private static TimeSpan WorstLag(DashboardCircuitFleet.CircuitResult result, IReadOnlyList<DateTime> ticks)
    {
        var batches = result.BatchTimesUnixMs.Order().Select(ms => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime).ToArray();
        var worst = TimeSpan.Zero;
        foreach (var tick in ticks)
        {
            var next = Array.Find(batches, b => b > tick);
            var lag = next == default ? TimeSpan.MaxValue : next - tick;
            worst = lag > worst ? lag : worst;
        }
        return worst;
    }

    private static int BatchesIn(DashboardCircuitFleet.CircuitResult result, DateTime from, DateTime to) =>
        result.BatchTimesUnixMs.Count(ms => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime is var t && t >= from && t <= to);

    private static async Task<long> ShownInteractionsAsync(IPage page)
    {
        var text = await page.GetByTestId("stat-interactions").Locator(".stat-value").InnerTextAsync();
        return long.Parse(text.Replace(",", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// With DECNET_BENCH_GCDUMP naming dotnet-gcdump, a dump of this process's heap (what the circuits are made
    /// of, read with "dotnet-gcdump report"); the run's figures are taken before it.
    /// </summary>
    private static async Task HeapDumpAsync(BenchmarkReport report, string name)
    {
        var tool = Environment.GetEnvironmentVariable("DECNET_BENCH_GCDUMP");
        if (string.IsNullOrEmpty(tool))
        {
            return;
        }
        var path = Path.Combine(Path.GetTempPath(), $"dashboard-circuits-{name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.gcdump");
        var result = await BenchmarkProcess.RunAsync(tool, ["collect", "-p", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "-o", path],
            Path.GetTempPath(), TimeSpan.FromMinutes(3));
        report.Line(result.ExitCode == 0 ? $"heap dump ({name}): {path}" : $"heap dump ({name}) failed: {result.StdErr}");
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static (long Heap, long WorkingSet) Measure()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return (GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64);
    }

    private static string Mib(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";
}
