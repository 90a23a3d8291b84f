using System.Collections.Concurrent;
using System.Diagnostics;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.Logging;

namespace Decnet.Tests.Honeypots;

/// <summary>Keeps every published event so tests can assert on them.</summary>
public sealed class CollectingEventSink : IHoneypotEventSink
{
    public ConcurrentQueue<HoneypotEvent> Events { get; } = new();

    public void Publish(HoneypotEvent honeypotEvent) => Events.Enqueue(honeypotEvent);

    public IReadOnlyList<HoneypotEvent> OfType(string type) => [.. Events.Where(e => e.EventType == type)];

    public async Task<HoneypotEvent> WaitForAsync(string type, Func<HoneypotEvent, bool>? predicate = null, int timeoutMs = 10_000)
    {
        var watch = Stopwatch.StartNew();
        while (watch.ElapsedMilliseconds < timeoutMs)
        {
            var found = Events.FirstOrDefault(e => e.EventType == type && (predicate?.Invoke(e) ?? true));
            if (found is not null)
            {
                return found;
            }
            await Task.Delay(25);
        }
        throw new TimeoutException($"no {type} event; saw: {string.Join(", ", Events.Select(e => e.EventType))}");
    }
}

/// <summary>A temporary decky: state and artifact folders, persona keys, and an event sink.</summary>
public sealed class HoneypotTestContext : IDisposable
{
    public HoneypotTestContext(IReadOnlyDictionary<string, string>? persona = null, string distro = "debian", string? stateDirectory = null, TimeProvider? time = null, ArtifactQuotaOptions? artifacts = null)
    {
        Root = Directory.CreateTempSubdirectory("decnet-hp-").FullName;
        Artifacts = new ArtifactQuota(Path.Combine(Root, "artifacts"), artifacts ?? new ArtifactQuotaOptions());
        Context = new ServiceContext
        {
            DeckyName = "decky-01",
            Hostname = "srv-files-42",
            Distro = distro,
            Persona = persona ?? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase),
            StateDirectory = stateDirectory ?? Path.Combine(Root, "state"),
            ArtifactsDirectory = Path.Combine(Root, "artifacts"),
            Artifacts = Artifacts,
            Events = Sink,
            LoggerFactory = LoggerFactory.Create(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Information)),
            Time = time ?? TimeProvider.System,
        };
    }

    public string Root { get; }
    public CollectingEventSink Sink { get; } = new();
    public ArtifactQuota Artifacts { get; }

    /// <summary>What the service and its host logged (faulted sessions arrive here as warnings).</summary>
    public RecordingLoggerProvider Logs { get; } = new();
    public ServiceContext Context { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A test left a file open; the temp folder is cleaned up by the OS later.
        }
    }
}

/// <summary>Runs a real client program with a timeout and captures its output.</summary>
public static class ClientProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static bool Exists(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, program)));

    public static async Task<Result> RunAsync(string program, IEnumerable<string> args, string? stdin = null, int timeoutMs = 60_000, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin);
            }
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The client ended before it read its input: its exit code and output tell.
        }
        using var timeout = new CancellationTokenSource(timeoutMs);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', start.ArgumentList)} timed out; stderr: {await stderr}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
