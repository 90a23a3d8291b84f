using System.Diagnostics;
using System.Text.Json;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// Many browser-free dashboard circuits (<see cref="BlazorCircuitClient"/>), in a process of their own so the
/// master's managed heap holds only the server's side of each circuit. <see cref="DashboardCircuitsBenchmark"/>
/// starts this test assembly again with only <see cref="Drives_the_dashboard_benchmarks_circuits"/> selected;
/// the two processes talk through files in a folder: the request, "live" once every circuit rendered, "stop"
/// from the benchmark, then every circuit's render batch times.
/// </summary>
public sealed class DashboardCircuitFleet
{
    public const string FolderVariable = "DECNET_CIRCUIT_FLEET_DIR";

    /// <summary>Circuits started at once: each start is a page render and a circuit's first render on the master.</summary>
    private const int StartAtOnce = 10;

    public sealed record Request(string BaseUrl, string Path, string Cookie, int Circuits);

    public sealed record Live(double OpenSeconds, int Circuits);

    public sealed record CircuitResult(long Batches, long JsCalls, long LargestNumberShown, string? Error, long[] BatchTimesUnixMs, long FirstBatchBytes = 0, long LargestUpdateBytes = 0);

    [Fact(Explicit = true)]
    [Trait("Category", "Benchmark")]
    public async Task Drives_the_dashboard_benchmarks_circuits()
    {
        var folder = Environment.GetEnvironmentVariable(FolderVariable);
        Assert.False(string.IsNullOrEmpty(folder), $"{FolderVariable} is unset: DashboardCircuitsBenchmark runs this test in a process of its own.");
        var request = JsonSerializer.Deserialize<Request>(await File.ReadAllTextAsync(Path.Combine(folder, "request.json"), TestContext.Current.CancellationToken))!;
        using var handler = new HttpClientHandler { UseCookies = false, AllowAutoRedirect = true };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(2) };
        var baseUri = new Uri(request.BaseUrl.TrimEnd('/') + "/");
        var circuits = new List<BlazorCircuitClient>();
        try
        {
            var open = Stopwatch.StartNew();
            for (var wave = 0; wave < request.Circuits; wave += StartAtOnce)
            {
                circuits.AddRange(await Task.WhenAll(Enumerable.Range(wave, Math.Min(StartAtOnce, request.Circuits - wave))
                    .Select(_ => BlazorCircuitClient.StartAsync(http, baseUri, request.Path, request.Cookie, TestContext.Current.CancellationToken))));
            }
            await File.WriteAllTextAsync(Path.Combine(folder, "live.json"), JsonSerializer.Serialize(new Live(open.Elapsed.TotalSeconds, circuits.Count)),
                TestContext.Current.CancellationToken);

            var deadline = DateTime.UtcNow.AddMinutes(15);
            while (!File.Exists(Path.Combine(folder, "stop")))
            {
                Assert.True(DateTime.UtcNow < deadline, "the benchmark did not stop the circuits within 15 minutes");
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
            var results = circuits.Select(c => new CircuitResult(c.Batches, c.JsCalls, c.LargestNumberShown, c.Error,
                [.. c.BatchTimes.Select(t => new DateTimeOffset(t).ToUnixTimeMilliseconds())], c.BatchBytes.First, c.BatchBytes.LargestUpdate)).ToList();
            await File.WriteAllTextAsync(Path.Combine(folder, "results.json"), JsonSerializer.Serialize(results), TestContext.Current.CancellationToken);
            Assert.All(results, r => Assert.Null(r.Error));
        }
        finally
        {
            foreach (var circuit in circuits)
            {
                await circuit.DisposeAsync();
            }
        }
    }

    /// <summary>Starts the fleet process; returns once every circuit rendered its page.</summary>
    public static async Task<(Process Process, Live Live)> StartAsync(string folder, Request request, TimeSpan timeout)
    {
        await File.WriteAllTextAsync(Path.Combine(folder, "request.json"), JsonSerializer.Serialize(request));
        var assembly = typeof(DashboardCircuitFleet).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        foreach (var argument in new[] { "exec", assembly, "-method", $"{typeof(DashboardCircuitFleet).FullName}.{nameof(Drives_the_dashboard_benchmarks_circuits)}", "-explicit", "only" })
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment[FolderVariable] = folder;
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var live = Path.Combine(folder, "live.json");
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(live))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
                lock (output)
                {
                    throw new InvalidOperationException($"the circuit fleet did not go live within {timeout.TotalSeconds:0} s:\n{output}");
                }
            }
            await Task.Delay(200);
        }
        // Written in one call, but read only once complete.
        await Task.Delay(200);
        return (process, JsonSerializer.Deserialize<Live>(await File.ReadAllTextAsync(live))!);
    }

    /// <summary>Tells the fleet to stop and returns what every circuit saw.</summary>
    public static async Task<IReadOnlyList<CircuitResult>> StopAsync(string folder, Process process)
    {
        await File.WriteAllTextAsync(Path.Combine(folder, "stop"), "");
        using var wait = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(wait.Token);
        var results = Path.Combine(folder, "results.json");
        Assert.True(File.Exists(results), $"the circuit fleet exited with {process.ExitCode} and wrote no results");
        return JsonSerializer.Deserialize<List<CircuitResult>>(await File.ReadAllTextAsync(results))!;
    }
}
