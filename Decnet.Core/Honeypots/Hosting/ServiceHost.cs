using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// Runs the honeypot services of deckies in this process: one listener per (address, port), started and
/// stopped per decky. A port that cannot be bound does not stop the others; each port reports a typed
/// <see cref="PortBindResult"/>. Every TCP session of every decky is admitted through one
/// <see cref="SessionAdmission"/> (per source address, per decky, per host).
/// </summary>
public sealed class ServiceHost(ILoggerFactory loggerFactory, ServiceHostOptions? options = null) : IAsyncDisposable, IDisposable
{
    private readonly ServiceHostOptions _options = options ?? new ServiceHostOptions();
    private readonly ILogger _logger = loggerFactory.CreateLogger<ServiceHost>();
    private readonly ConcurrentDictionary<string, HostedDecky> _deckies = new(StringComparer.Ordinal);
    private SessionAdmission? _admission;

    public ServiceHostOptions Options => _options;

    /// <summary>The live-session counts every TCP listener of this host admits through.</summary>
    public SessionAdmission Admission => LazyInitializer.EnsureInitialized(ref _admission, () => new SessionAdmission(_options.Admission));

    public IReadOnlyCollection<HostedDecky> Deckies => _deckies.Values.ToList();

    public HostedDecky? Find(string deckyName) => _deckies.TryGetValue(deckyName, out var decky) ? decky : null;

    /// <summary>
    /// Binds every port of every service of the decky and starts serving. Ports that fail to bind are
    /// reported in <see cref="HostedDecky.Bindings"/>; the ports that did bind are served regardless.
    /// </summary>
    public Task<HostedDecky> StartDeckyAsync(string deckyName, IEnumerable<HostedServiceBinding> services, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deckyName);
        cancellationToken.ThrowIfCancellationRequested();
        var serviceList = services.ToList();
        var decky = new HostedDecky(deckyName, serviceList, _options);
        if (!_deckies.TryAdd(deckyName, decky))
        {
            throw new InvalidOperationException($"Decky '{deckyName}' is already hosted.");
        }

        var results = new List<PortBindResult>();
        foreach (var binding in serviceList)
        {
            var logger = binding.Service.Context.LoggerFactory.CreateLogger($"Decnet.Honeypots.{binding.ServiceName}");
            foreach (var port in binding.Ports)
            {
                var actualPort = _options.ActualPort(port.Port);
                var (result, listener) = Bind(deckyName, binding, port, actualPort, logger);
                results.Add(result);
                if (listener is not null)
                {
                    decky.Add(listener);
                    listener.Start();
                    if (listener is UdpServiceListener udp)
                    {
                        foreach (var group in UdpGroupListener.Open(binding, port, udp.Socket, logger, _options.DatagramTimeout))
                        {
                            decky.Add(group);
                            group.Start();
                        }
                    }
                }
                else
                {
                    _logger.LogWarning("{Decky}/{Service}: {Result}", deckyName, binding.ServiceName, result);
                }
            }
        }
        decky.Bindings = results;
        return Task.FromResult(decky);
    }

    public async Task<bool> StopDeckyAsync(string deckyName)
    {
        if (!_deckies.TryRemove(deckyName, out var decky))
        {
            return false;
        }
        await decky.DisposeAsync().ConfigureAwait(false);
        return true;
    }

    private (PortBindResult Result, IServiceListener? Listener) Bind(string deckyName, HostedServiceBinding binding, ServicePort port, int actualPort, ILogger logger)
    {
        var address = binding.Address;
        Socket? socket = null;
        try
        {
            if (port.Transport == ServiceTransport.Tcp)
            {
                socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                // Lets a decky restart at once after a stop while old connections sit in TIME_WAIT.
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(new IPEndPoint(address, actualPort));
                socket.Listen(512);
                var bound = ((IPEndPoint)socket.LocalEndPoint!).Port;
                return (new PortBindResult(binding.ServiceName, address, port, bound, PortBindStatus.Bound), new TcpServiceListener(socket, binding, port, logger, deckyName, _options.Admitter ?? Admission));
            }
            socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(address, actualPort));
            var boundUdp = ((IPEndPoint)socket.LocalEndPoint!).Port;
            return (new PortBindResult(binding.ServiceName, address, port, boundUdp, PortBindStatus.Bound), new UdpServiceListener(socket, binding, logger, _options.DatagramTimeout));
        }
        catch (SocketException ex)
        {
            socket?.Dispose();
            var status = ex.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => PortBindStatus.AddressInUse,
                SocketError.AccessDenied => PortBindStatus.PermissionDenied,
                SocketError.AddressNotAvailable => PortBindStatus.AddressNotAvailable,
                _ => PortBindStatus.Failed,
            };
            return (new PortBindResult(binding.ServiceName, address, port, actualPort, status, ex.Message), null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var name in _deckies.Keys.ToList())
        {
            await StopDeckyAsync(name).ConfigureAwait(false);
        }
    }

    /// <summary>For containers disposed synchronously (a plain ServiceProvider.Dispose()).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>A decky whose services this host serves.</summary>
public sealed class HostedDecky : IAsyncDisposable
{
    private readonly List<IServiceListener> _listeners = [];
    private readonly IReadOnlyList<HostedServiceBinding> _services;
    private readonly ServiceHostOptions _options;
    private int _disposed;

    internal HostedDecky(string name, IReadOnlyList<HostedServiceBinding> services, ServiceHostOptions options)
    {
        Name = name;
        _services = services;
        _options = options;
    }

    public string Name { get; }

    public IReadOnlyList<PortBindResult> Bindings { get; internal set; } = [];

    public bool AllBound => Bindings.All(b => b.Succeeded);

    public IReadOnlyList<ListenerStatistics> Statistics()
    {
        lock (_listeners)
        {
            return _listeners.Select(l => l.Snapshot()).ToList();
        }
    }

    /// <summary>The endpoint a service's port is really served on (after any port offset).</summary>
    public IPEndPoint EndPointOf(string serviceName, int requestedPort, ServiceTransport transport = ServiceTransport.Tcp) =>
        Bindings.FirstOrDefault(b => b.Succeeded && b.ServiceName == serviceName && b.Requested.Port == requestedPort && b.Requested.Transport == transport)?.EndPoint
        ?? throw new KeyNotFoundException($"{Name}: {serviceName} {requestedPort}/{transport} is not bound.");

    internal void Add(IServiceListener listener)
    {
        lock (_listeners)
        {
            _listeners.Add(listener);
        }
    }

    /// <summary>Closes the listeners, cuts every session (reason host_stopped) and disposes the services.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        List<IServiceListener> listeners;
        lock (_listeners)
        {
            listeners = [.. _listeners];
        }
        foreach (var listener in listeners)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }
        await Task.WhenAll(listeners.Select(l => l.WaitForSessionsAsync(_options.StopGracePeriod))).ConfigureAwait(false);
        foreach (var service in _services.Select(s => s.Service).Distinct())
        {
            await service.DisposeAsync().ConfigureAwait(false);
        }
    }
}
