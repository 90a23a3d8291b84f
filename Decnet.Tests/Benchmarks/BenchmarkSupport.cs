using System.Diagnostics;
using System.Globalization;
using System.Net;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Tests.Honeypots;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// Benchmarks measure throughput on a shared 2-core machine, so two of them running at once would
/// measure each other: this collection runs them one after another.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BenchmarkCollection
{
    public const string Name = "Benchmarks";
}

/// <summary>
/// Prints figures both to the test output (kept in the trx) and to the console (visible with
/// <c>--logger "console;verbosity=detailed"</c>, and even when a test fails early).
/// </summary>
public sealed class BenchmarkReport(ITestOutputHelper output, string title)
{
    public void Line(string text)
    {
        var line = $"[bench] {title}: {text}";
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    public void Figure(string what, double ours, string oursUnit, string referenceName, double reference) =>
        Line(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {ours:0.0} {oursUnit} | reference ({referenceName}): {reference:0.0} {oursUnit} | ratio {(reference > 0 ? ours / reference : double.NaN):0.00}x"));

    /// <summary>The machine context every figure is read against: cores and the load at measurement time.</summary>
    public void Machine()
    {
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        Line($"machine: {Environment.ProcessorCount} cores, loadavg {load}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
    }
}

/// <summary>One decky served by the real <see cref="ServiceHost"/> on a loopback address of its own.</summary>
public sealed class BenchmarkDecky : IAsyncDisposable
{
    private BenchmarkDecky(string root, ServiceHost host, HostedDecky hosted, IPEndPoint endPoint)
    {
        Root = root;
        Host = host;
        Hosted = hosted;
        EndPoint = endPoint;
    }

    public string Root { get; }
    public ServiceHost Host { get; }
    public HostedDecky Hosted { get; }
    public IPEndPoint EndPoint { get; }

    public static Task<BenchmarkDecky> StartAsync(IHoneypotServiceFactory factory, IHoneypotEventSink sink, IReadOnlyDictionary<string, string> persona, SessionLimits limits, int port) =>
        StartAsync(factory, sink, persona, limits, new ServicePort(port));

    public static Task<BenchmarkDecky> StartUdpAsync(IHoneypotServiceFactory factory, IHoneypotEventSink sink, int port) =>
        StartAsync(factory, sink, new Dictionary<string, string>(), new SessionLimits(), new ServicePort(port, ServiceTransport.Udp));

    private static async Task<BenchmarkDecky> StartAsync(IHoneypotServiceFactory factory, IHoneypotEventSink sink, IReadOnlyDictionary<string, string> persona, SessionLimits limits, ServicePort port)
    {
        var address = TestDecky.NextAddress();
        var name = "bench-" + address.ToString().Replace('.', '-');
        var root = Directory.CreateTempSubdirectory("decnet-bench-").FullName;
        var context = new ServiceContext
        {
            DeckyName = name,
            Hostname = "srv-" + name,
            Persona = new Dictionary<string, string>(persona, StringComparer.OrdinalIgnoreCase),
            StateDirectory = Path.Combine(root, "state"),
            ArtifactsDirectory = Path.Combine(root, "artifacts"),
            Events = sink,
            Limits = limits,
            LoggerFactory = NullLoggerFactory.Instance,
        };
        // Every benchmark client comes from one address: per-source shares would measure the admission
        // policy instead of the service, so the load generator gets the whole host.
        var admission = new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 100_000, MaxSessionsPerSourcePerHost = 100_000, MaxSessionsPerDecky = 100_000, MaxSessionsPerHost = 100_000 };
        var host = new ServiceHost(NullLoggerFactory.Instance, new ServiceHostOptions { Admission = admission });
        var hosted = await host.StartDeckyAsync(name, [new HostedServiceBinding(factory.Name, factory.Create(context), address, [port])]);
        Assert.True(hosted.AllBound, string.Join("; ", hosted.Bindings));
        return new BenchmarkDecky(root, host, hosted, hosted.EndPointOf(factory.Name, port.Port, port.Transport));
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder does not affect later runs.
        }
    }
}

/// <summary>Runs a real tool with a deadline in a working directory of our choice (hydra writes a restore file there).</summary>
public static class BenchmarkProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr, TimeSpan Elapsed);

    public static string Require(string binary) => RealClient.Require(binary);

    public static async Task<Result> RunAsync(string binary, IEnumerable<string> args, string workingDirectory, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(Require(binary))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{binary} {string.Join(' ', info.ArgumentList)} did not finish in {timeout}. stderr: {await stderr}");
        }
        watch.Stop();
        return new Result(process.ExitCode, await stdout, await stderr, watch.Elapsed);
    }

    /// <summary>A TCP port nobody listens on right now, for tools that cannot report the port they bound.</summary>
    public static int FreePort(IPAddress address)
    {
        var probe = new System.Net.Sockets.TcpListener(address, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
