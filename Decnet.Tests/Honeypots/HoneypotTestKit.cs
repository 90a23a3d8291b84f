using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Honeypots;

/// <summary>Records every event a service publishes and lets a test wait for one.</summary>
public sealed class CapturingEventSink : IHoneypotEventSink
{
    private readonly ConcurrentQueue<HoneypotEvent> _events = new();
    private readonly SemaphoreSlim _published = new(0);

    private long _publishedCount;

    public IReadOnlyList<HoneypotEvent> Events => _events.ToArray();

    /// <summary>
    /// False while a test measures the heap: events are counted and dropped, as a production sink writes
    /// them out instead of keeping them.
    /// </summary>
    public bool Retain { get; set; } = true;

    /// <summary>Every event published, retained or not.</summary>
    public long PublishedCount => Interlocked.Read(ref _publishedCount);

    public void Publish(HoneypotEvent honeypotEvent)
    {
        Interlocked.Increment(ref _publishedCount);
        if (Retain)
        {
            _events.Enqueue(honeypotEvent);
        }
        _published.Release();
    }

    public IReadOnlyList<HoneypotEvent> OfType(string eventType) => Events.Where(e => e.EventType == eventType).ToList();

    /// <summary>Forgets what was recorded (a production sink writes events out instead of keeping them).</summary>
    public void Clear() => _events.Clear();

    public async Task<HoneypotEvent> WaitForAsync(string eventType, Func<HoneypotEvent, bool>? predicate = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var match = Events.FirstOrDefault(e => e.EventType == eventType && (predicate?.Invoke(e) ?? true));
            if (match is not null)
            {
                return match;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No '{eventType}' event. Seen: {string.Join(", ", Events.Select(e => e.EventType))}");
            }
            await _published.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }
}

/// <summary>Collects warnings the host logs, so tests can prove a fault was logged.</summary>
public sealed class RecordingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new RecordingLogger(this);

    public void Dispose()
    {
    }

    private sealed class RecordingLogger(RecordingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Entries.Enqueue((logLevel, formatter(state, exception), exception));
            }
        }
    }
}

/// <summary>
/// A throwaway decky on its own loopback address (127.0.0.0/8 is all local on Linux), so tests can
/// use the real well-known ports without colliding with each other or other test runs.
/// </summary>
public sealed class TestDecky : IAsyncDisposable
{
    private static readonly int Base = Random.Shared.Next(0, 200);
    private static int _counter;

    private TestDecky(string name, IPAddress address, string root)
    {
        Name = name;
        Address = address;
        Root = root;
    }

    public string Name { get; }
    public IPAddress Address { get; }
    public string Root { get; }
    public string StateDirectory => Path.Combine(Root, "state");
    /// <summary>The artifacts root: the decky's own, or the root of a quota it shares with other deckies.</summary>
    public string ArtifactsDirectory => _artifacts?.Root ?? Path.Combine(Root, "artifacts");
    public CapturingEventSink Sink { get; } = new();
    public RecordingLoggerProvider Logs { get; } = new();
    public ServiceHost Host { get; private set; } = null!;
    public HostedDecky Hosted { get; private set; } = null!;

    public static IPAddress NextAddress()
    {
        var n = Interlocked.Increment(ref _counter);
        return IPAddress.Parse($"127.{100 + ((Base + (n / 250)) % 150)}.{Environment.ProcessId % 250}.{(n % 250) + 1}");
    }

    public static TestDecky Create(string? name = null)
    {
        var address = NextAddress();
        var root = Path.Combine(Path.GetTempPath(), "decnet-hp-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        return new TestDecky(name ?? "decky-" + address.ToString().Replace('.', '-'), address, root);
    }

    /// <summary>The decky's artifact quota, shared by all its services; default limits unless <see cref="UseArtifactQuota"/> set others.</summary>
    public ArtifactQuota Artifacts => _artifacts ??= new ArtifactQuota(ArtifactsDirectory, new ArtifactQuotaOptions());

    private ArtifactQuota? _artifacts;

    /// <summary>Gives the decky's services their own quota (call before building contexts).</summary>
    public ArtifactQuota UseArtifactQuota(ArtifactQuotaOptions options) => _artifacts = new ArtifactQuota(ArtifactsDirectory, options);

    /// <summary>Stores under <paramref name="shared"/>'s root and counts against it, as every decky of one host does.</summary>
    public void UseArtifactQuota(ArtifactQuota shared) => _artifacts = shared;

    public ServiceContext Context(IReadOnlyDictionary<string, string>? persona = null, SessionLimits? limits = null, string? hostname = null)
    {
        var loggerFactory = LoggerFactory.Create(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Information));
        return new ServiceContext
        {
            DeckyName = Name,
            Hostname = hostname ?? "srv-" + Name,
            Persona = persona is null ? new Dictionary<string, string>() : new Dictionary<string, string>(persona, StringComparer.OrdinalIgnoreCase),
            StateDirectory = StateDirectory,
            ArtifactsDirectory = ArtifactsDirectory,
            Artifacts = Artifacts,
            Events = Sink,
            Limits = limits ?? new SessionLimits(),
            LoggerFactory = loggerFactory,
        };
    }

    /// <summary>Exceptions of sessions the host logged as faulted (services log through <see cref="Logs"/>).</summary>
    public IReadOnlyList<Exception> Errors => [.. Logs.Entries.Where(e => e.Level >= LogLevel.Warning && e.Exception is not null).Select(e => e.Exception!)];

    /// <summary>
    /// Waits until every session the decky accepted has ended, then asserts that none faulted: garbage
    /// is answered or hung up on, never ended by an exception the host had to catch.
    /// </summary>
    public async Task AssertNoSessionFaultsAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var statistics = Hosted.Statistics();
        while (statistics.Any(s => s.ActiveSessions > 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            statistics = Hosted.Statistics();
        }
        Assert.True(Errors.Count == 0, "faulted sessions:\n" + string.Join("\n---\n", Errors));
        Assert.All(statistics, s =>
        {
            Assert.True(s.AcceptedSessions > 0, $"{s.ServiceName} on {s.EndPoint} accepted no session");
            Assert.True(s.FaultedSessions == 0, $"{s.ServiceName} on {s.EndPoint}: {s.FaultedSessions} faulted sessions");
            Assert.True(s.ActiveSessions == 0, $"{s.ServiceName} on {s.EndPoint}: {s.ActiveSessions} sessions still open after every client left");
        });
    }

    public Task<HostedDecky> StartAsync(params HostedServiceBinding[] bindings) => StartAsync(new ServiceHostOptions(), bindings);

    /// <summary>Serves the bindings on a host of its own with <paramref name="options"/> (admission limits, port offset).</summary>
    public async Task<HostedDecky> StartAsync(ServiceHostOptions options, params HostedServiceBinding[] bindings)
    {
        Host = new ServiceHost(NullLoggerFactory.Instance, options);
        Hosted = await Host.StartDeckyAsync(Name, bindings);
        Assert.True(Hosted.AllBound, string.Join("; ", Hosted.Bindings));
        return Hosted;
    }

    public async Task<HostedDecky> StartAsync(IHoneypotServiceFactory factory, IReadOnlyDictionary<string, string>? persona = null, SessionLimits? limits = null, IReadOnlyList<ServicePort>? ports = null)
    {
        var service = factory.Create(Context(persona, limits));
        return await StartAsync(new HostedServiceBinding(factory.Name, service, Address, ports ?? factory.DefaultPorts));
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files do not affect other tests.
        }
    }
}

/// <summary>Runs a real client binary, with a deadline, and returns its output.</summary>
public static class RealClient
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static string Require(string binary)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var candidate = Path.Combine(dir, binary);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException($"The real client '{binary}' is required by this test; install its Debian package.");
    }

    public static async Task<Result> RunAsync(string binary, IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(Require(binary))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
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
            // The client ended (a refused login, say) before it read its input: its exit code and output tell.
        }
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{binary} {string.Join(' ', info.ArgumentList)} did not finish. stderr: {await stderr}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>What the ingest would store as bounty for an event a service published (formatter, parser, rules).</summary>
public static class BountyOf
{
    public static IReadOnlyList<Decnet.Core.Bounty.ExtractedBounty> Event(HoneypotEvent honeypotEvent)
    {
        var parsed = Decnet.Core.Events.Rfc5424Parser.Parse(Rfc5424Formatter.Format(honeypotEvent));
        Assert.True(parsed.Succeeded, parsed.Error);
        return Decnet.Core.Bounty.BountyExtractor.Extract(parsed.Event!);
    }

    public static Dictionary<string, string> Credential(HoneypotEvent honeypotEvent)
    {
        var bounty = Assert.Single(Event(honeypotEvent), b => b.BountyType == Decnet.Core.Bounty.BountyExtractor.Credential);
        return System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(bounty.Payload)!;
    }
}
