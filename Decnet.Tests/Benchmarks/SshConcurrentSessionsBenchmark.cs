using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Ssh;
using Decnet.Tests.Honeypots;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// SSH (b): brute-force sessions held at once with the realistic failure delay on (2 s + jitter).
/// Every session waits most of its life in that delay, so what matters is that waiting costs memory
/// and no thread: N sessions must not need N threads.
/// </summary>
[Collection(BenchmarkCollection.Name)]
public sealed class SshConcurrentSessionsBenchmark(ITestOutputHelper output)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(12);

    [Fact]
    [Trait("Category", "Benchmark")]
    public async Task Concurrent_brute_force_sessions_with_the_failure_delay_on()
    {
        var sessions = int.TryParse(Environment.GetEnvironmentVariable("DECNET_BENCH_SSH_SESSIONS"), CultureInfo.InvariantCulture, out var n) ? Math.Clamp(n, 1, 5000) : 1000;
        var report = new BenchmarkReport(output, "ssh-sessions");
        report.Machine();
        var sink = new CollectingEventSink();
        var persona = new Dictionary<string, string>
        {
            // failure_delay_ms left at its default (2000 ms + up to 10% jitter).
            ["max_auth_tries"] = "100",
            ["password"] = "Zr8!not-in-any-list",
        };
        var limits = new SessionLimits { MaxConcurrentSessions = sessions + 64 };
        await using var decky = await BenchmarkDecky.StartAsync(new SshServiceFactory(), sink, persona, limits, 22);
        var expectedDelay = SshPersona.From(new ServiceContext
        {
            DeckyName = "x", Hostname = "x", Persona = persona, StateDirectory = decky.Root, ArtifactsDirectory = decky.Root,
            Events = sink, LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
        }).FailureDelay;

        // Warm the host key and the JIT with one session so the baseline below is the idle host.
        await using (var warm = await PasswordGuessingSshClient.ConnectAsync(decky.EndPoint, TestContext.Current.CancellationToken))
        {
            Assert.False(await warm.TryPasswordAsync("root", "warm-up", TestContext.Current.CancellationToken));
        }
        var baseline = Sample();

        using var stop = new CancellationTokenSource();
        using var abort = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var connected = 0;
        long sent = 0, answered = 0, failures = 0;
        var errors = new ConcurrentQueue<Exception>();
        // Handshakes are CPU work on both ends; 32 at a time keeps the listen backlog short.
        using var handshakeGate = new SemaphoreSlim(32);
        var clients = Enumerable.Range(0, sessions).Select(i => Task.Run(async () =>
        {
            PasswordGuessingSshClient? client = null;
            await handshakeGate.WaitAsync(abort.Token);
            try
            {
                client = await PasswordGuessingSshClient.ConnectAsync(decky.EndPoint, abort.Token);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                errors.Enqueue(error);
                return;
            }
            finally
            {
                handshakeGate.Release();
            }
            await using (client)
            {
                Interlocked.Increment(ref connected);
                try
                {
                    // Stop is checked only between guesses, so every guess sent gets its answer and
                    // the sent/answered/captured counts can be compared exactly. Bounded by max_auth_tries.
                    for (var guess = 0; guess < 99 && !stop.IsCancellationRequested; guess++)
                    {
                        Interlocked.Increment(ref sent);
                        var ok = await client.TryPasswordAsync("root", string.Create(CultureInfo.InvariantCulture, $"guess-{i}-{guess}"), abort.Token);
                        Interlocked.Increment(ref answered);
                        if (!ok)
                        {
                            Interlocked.Increment(ref failures);
                        }
                    }
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    errors.Enqueue(error);
                }
            }
        })).ToList();

        var ramp = Stopwatch.StartNew();
        while (Volatile.Read(ref connected) + errors.Count < sessions && ramp.Elapsed < TimeSpan.FromMinutes(3))
        {
            await Task.Delay(100);
        }
        ramp.Stop();
        report.Line($"{connected} of {sessions} sessions connected and guessing after {ramp.Elapsed.TotalSeconds:0.0} s of ramp-up");

        // The measured window starts once every session is in its guess loop.
        var answeredBefore = Interlocked.Read(ref answered);
        var eventsBefore = CountAttempts(sink);
        var window = Stopwatch.StartNew();
        var peakThreads = 0;
        var held = 0;
        while (window.Elapsed < Window)
        {
            await Task.Delay(500);
            peakThreads = Math.Max(peakThreads, Process.GetCurrentProcess().Threads.Count);
            held = Math.Max(held, decky.Hosted.Statistics().Sum(s => s.ActiveSessions));
        }
        var windowSeconds = window.Elapsed.TotalSeconds;
        var answeredInWindow = Interlocked.Read(ref answered) - answeredBefore;
        var eventsInWindow = CountAttempts(sink) - eventsBefore;
        var loaded = Sample();

        await stop.CancelAsync();
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(30));
        var captured = CountAttempts(sink);

        var ideal = held / (expectedDelay.TotalSeconds * 1.05);
        var perSessionHeap = (loaded.Heap - baseline.Heap) / (double)Math.Max(1, held);
        var perSessionWorkingSet = (loaded.WorkingSet - baseline.WorkingSet) / (double)Math.Max(1, held);
        report.Line($"sessions held at once (server side, ServiceHost statistics): {held} of {sessions} requested");
        report.Figure($"password attempts/s over {windowSeconds:0.0} s (client answers)", answeredInWindow / windowSeconds, "attempts/s",
            $"ideal: {held} sessions / {expectedDelay.TotalSeconds:0.0} s delay + 5% mean jitter", ideal);
        report.Line(string.Create(CultureInfo.InvariantCulture, $"auth_attempt events captured in the window: {eventsInWindow} ({eventsInWindow / windowSeconds:0.0}/s)"));
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"memory per session (both ends, client in the same process): GC heap {perSessionHeap / 1024:0.0} KiB, working set {perSessionWorkingSet / 1024:0.0} KiB; " +
            $"GC heap {baseline.Heap / 1048576.0:0.0} -> {loaded.Heap / 1048576.0:0.0} MiB, working set {baseline.WorkingSet / 1048576.0:0.0} -> {loaded.WorkingSet / 1048576.0:0.0} MiB"));
        report.Line($"process threads: {baseline.Threads} idle, peak {peakThreads} while holding {held} sessions (reference: a thread per session would be {held}); thread pool {loaded.PoolThreads}");
        report.Line($"totals: {Interlocked.Read(ref sent)} guesses sent, {Interlocked.Read(ref answered)} answered, {captured} auth_attempt events (+1 warm-up), errors {errors.Count}");

        Assert.Empty(errors);
        Assert.Equal(sessions, connected);
        Assert.Equal(Interlocked.Read(ref sent), Interlocked.Read(ref answered));
        Assert.Equal(Interlocked.Read(ref failures), Interlocked.Read(ref answered));
        Assert.Equal(Interlocked.Read(ref sent) + 1, captured);
    }

    private static long CountAttempts(CollectingEventSink sink) => sink.Events.Count(e => e.EventType == "auth_attempt");

    private static (long Heap, long WorkingSet, int Threads, int PoolThreads) Sample()
    {
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        return (heap, process.WorkingSet64, process.Threads.Count, ThreadPool.ThreadCount);
    }
}
