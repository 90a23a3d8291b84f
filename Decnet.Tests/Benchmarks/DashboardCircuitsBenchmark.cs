using System.Diagnostics;
using System.Globalization;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// Dashboard memory per live circuit: 100 Dashboard tabs in one Chromium (one Blazor Server circuit each,
/// over SignalR websockets) stay open while events are ingested at 50 events/s, so every circuit re-renders
/// its stat cards and latest events about once a second. The master's managed heap and working set are
/// measured with zero circuits (ingest running, after one warm-up tab came and went) and again with all
/// circuits live; the difference divided by the number of circuits is the cost of one circuit.
/// </summary>
[Collection(BenchmarkCollection.Name)]
public sealed class DashboardCircuitsBenchmark(ITestOutputHelper output)
{
    private const int EventsPerSecond = 50;

    /// <summary>Tabs opened at once: on 2 cores, ten booting Blazor at once timed out (load average 140 with a build beside).</summary>
    private const int OpenAtOnce = 2;

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
        // The sign-in tab is the warm-up: it loads and JIT-compiles the dashboard once, then goes away.
        await session.Page.GotoAsync("about:blank");
        await Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        var baseline = Measure();
        report.Line($"zero circuits, ingest running: managed heap {Mib(baseline.Heap)}, working set {Mib(baseline.WorkingSet)}");

        // The sign-in tab's own context cannot hold more pages: a second context carries its cookie.
        await using var context = await session.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            StorageState = await session.Page.Context.StorageStateAsync(),
        });
        var pages = new List<IPage>();
        var open = Stopwatch.StartNew();
        // Tabs open in small waves.
        for (var wave = 0; wave < Circuits; wave += OpenAtOnce)
        {
            pages.AddRange(await Task.WhenAll(Enumerable.Range(wave, Math.Min(OpenAtOnce, Circuits - wave)).Select(async _ =>
            {
                var page = await context.NewPageAsync();
                page.SetDefaultTimeout(180_000);
                await page.GotoAsync(session.BaseUrl + "/");
                await page.GetByTestId("circuit-ready").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
                return page;
            })));
        }
        report.Line($"{Circuits} dashboard circuits live after {open.Elapsed.TotalSeconds:0.0} s");

        // Let every circuit follow the ingest for a while, then check that the tabs really show it.
        var before = ingester.Counters.Ingested;
        await Task.Delay(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        var ingestedDuring = ingester.Counters.Ingested - before;
        var loaded = Measure();
        var shown = new List<long>();
        foreach (var page in new[] { pages[0], pages[pages.Count / 2], pages[^1] })
        {
            var text = await page.GetByTestId("stat-interactions").Locator(".stat-value").InnerTextAsync();
            shown.Add(long.Parse(text.Replace(",", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture));
        }
        await stopIngest.CancelAsync();
        await feeder;

        report.Line($"{Circuits} circuits, ingest running: managed heap {Mib(loaded.Heap)}, working set {Mib(loaded.WorkingSet)}");
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"per circuit: managed heap {(loaded.Heap - baseline.Heap) / 1024.0 / Circuits:0.0} KiB, working set {(loaded.WorkingSet - baseline.WorkingSet) / 1024.0 / Circuits:0.0} KiB | reference: the zero-circuit baseline above, same process, same run"));
        report.Line($"ingested during the 20 s window: {ingestedDuring} events ({ingestedDuring / 20.0:0.0}/s); interaction counts shown by three tabs: {string.Join(", ", shown)} (of {ingester.Counters.Ingested} ingested)");

        // Every tab followed the ingest live: each shows far more than the count at the time it opened.
        Assert.True(ingestedDuring >= EventsPerSecond * 10, $"only {ingestedDuring} events ingested in 20 s");
        Assert.All(shown, count => Assert.True(count >= before, $"a tab shows {count}, fewer than the {before} ingested before the window"));
        foreach (var page in pages)
        {
            await page.CloseAsync();
        }
    }

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
