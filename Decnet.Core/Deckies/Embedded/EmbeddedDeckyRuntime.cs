using System.Globalization;
using System.Net;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Deckies.Embedded;

/// <summary>
/// Runs deckies inside this process: every service of a decky listens on the decky's own IP. Any
/// address of 127.0.0.0/8 is local on Linux, so a lab on 127.77.0.0/24 needs no privileges; other
/// addresses must be configured on the host. Nothing survives the process: the master redeploys the
/// stored deployment when it starts.
/// </summary>
public sealed class EmbeddedDeckyRuntime : IDeckyRuntime, IAsyncDisposable
{
    private readonly HoneypotServiceRegistry _registry;
    private readonly IHoneypotEventSink _events;
    private readonly StorageOptions _storage;
    private readonly ILoggerFactory _loggers;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ServiceHost _host;
    private readonly ArtifactQuota _artifacts;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, DeckyStatus> _running = new(StringComparer.OrdinalIgnoreCase);

    public EmbeddedDeckyRuntime(HoneypotServiceRegistry registry, IHoneypotEventSink events, IOptions<EmbeddedRuntimeOptions> options,
        IOptions<StorageOptions> storage, IOptions<HoneypotLimitsOptions> limits, ILoggerFactory loggers, TimeProvider time)
    {
        _registry = registry;
        _events = events;
        _storage = storage.Value;
        _loggers = loggers;
        _time = time;
        _logger = loggers.CreateLogger<EmbeddedDeckyRuntime>();
        _host = new ServiceHost(loggers, new ServiceHostOptions { PrivilegedPortOffset = options.Value.ResolveOffset(), Admission = limits.Value.Admission });
        // One quota for every decky of this process: they all store under the same artifacts folder.
        _artifacts = new ArtifactQuota(Path.Combine(_storage.DataPath, "artifacts"), limits.Value.Artifacts);
    }

    public string Kind => "embedded";

    public bool CanHost(string service) => _registry.TryGet(service, out _);

    public int PortOffset => _host.Options.PrivilegedPortOffset;

    public async Task<RuntimeStatus> DeployAsync(DecnetConfig deployment, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var wanted = deployment.Deckies.Select(d => d.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var stale in _running.Keys.Where(n => !wanted.Contains(n)).ToList())
            {
                await StopAsync(stale);
            }
            foreach (var decky in deployment.Deckies)
            {
                await StopAsync(decky.Name);
                _running[decky.Name] = await StartAsync(decky, cancellationToken);
            }
            return Snapshot();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<DeckyStatus> ApplyAsync(DeckyConfig decky, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await StopAsync(decky.Name);
            var status = await StartAsync(decky, cancellationToken);
            _running[decky.Name] = status;
            return status;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task TeardownAsync(string? deckyName, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            foreach (var name in deckyName is null ? _running.Keys.ToList() : [deckyName])
            {
                await StopAsync(name);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<RuntimeStatus> GetStatusAsync(CancellationToken cancellationToken) => Task.FromResult(Snapshot());

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _gate.Dispose();
    }

    private RuntimeStatus Snapshot() => new(_running.Values.OrderBy(d => d.Name, StringComparer.Ordinal).ToList());

    private async Task StopAsync(string name)
    {
        _running.Remove(name);
        await _host.StopDeckyAsync(name);
    }

    private async Task<DeckyStatus> StartAsync(DeckyConfig decky, CancellationToken cancellationToken)
    {
        if (!IPAddress.TryParse(decky.Ip, out var address))
        {
            var invalid = decky.Services.Select(s => new ServiceStatus(s, ServiceRunState.Failed, $"'{decky.Ip}' is not an IP address")).ToList();
            return new DeckyStatus(decky.Name, DeckyRunState.Failed, invalid, decky);
        }

        var statuses = new Dictionary<string, ServiceStatus>(StringComparer.OrdinalIgnoreCase);
        var bindings = new List<HostedServiceBinding>();
        foreach (var service in decky.Services)
        {
            if (!_registry.TryGet(service, out _))
            {
                var reason = decky.CustomService(service) is { } custom
                    ? $"'{service}' is a custom service (image {custom.Image}): it runs only in the Docker runtime, and this host uses the embedded one"
                    : ServiceCatalog.Find(service) is null
                        ? $"'{service}' is neither a built-in service nor a custom service defined for this decky"
                        : $"'{service}' is not available in the embedded runtime";
                statuses[service] = new ServiceStatus(service, ServiceRunState.Failed, reason);
                continue;
            }
            try
            {
                bindings.Add(_registry.CreateBinding(service, Context(decky, service), address));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _logger.LogWarning(ex, "{Decky}/{Service} could not be created", decky.Name, service);
                statuses[service] = new ServiceStatus(service, ServiceRunState.Failed, ex.Message);
            }
        }

        var hosted = await _host.StartDeckyAsync(decky.Name, bindings, cancellationToken);
        foreach (var group in hosted.Bindings.GroupBy(b => b.ServiceName, StringComparer.OrdinalIgnoreCase))
        {
            var failures = group.Where(b => !b.Succeeded).Select(b => b.ToString()).ToList();
            var endpoints = group.Where(b => b.Succeeded).Select(Endpoint).ToList();
            statuses[group.Key] = failures.Count == 0
                ? new ServiceStatus(group.Key, ServiceRunState.Running, null, endpoints)
                : new ServiceStatus(group.Key, ServiceRunState.Failed, string.Join("; ", failures), endpoints);
        }
        var ordered = decky.Services.Where(statuses.ContainsKey).Select(s => statuses[s]).ToList();
        var state = DeckyStatus.Derive(ordered);
        _logger.LogInformation("Decky {Decky} on {Ip}: {State} ({Services})", decky.Name, decky.Ip, state,
            string.Join(", ", ordered.Select(s => $"{s.Service} {s.State.ToString().ToLowerInvariant()}")));
        return new DeckyStatus(decky.Name, state, ordered, decky);
    }

    private static string Endpoint(PortBindResult bound) =>
        string.Create(CultureInfo.InvariantCulture, $"{bound.Address}:{bound.ActualPort}/{(bound.Requested.Transport == ServiceTransport.Udp ? "udp" : "tcp")}");

    private ServiceContext Context(DeckyConfig decky, string service)
    {
        var state = Path.Combine(_storage.DataPath, "deckies", decky.Name, service);
        Directory.CreateDirectory(state);
        return new ServiceContext
        {
            DeckyName = decky.Name,
            Hostname = decky.Hostname,
            Distro = decky.Distro,
            OsFamily = decky.NmapOs,
            Archetype = decky.Archetype,
            Persona = decky.PersonaFor(service),
            StateDirectory = state,
            ArtifactsDirectory = _artifacts.Root,
            Artifacts = _artifacts,
            Events = _events,
            Time = _time,
            LoggerFactory = _loggers,
        };
    }
}
