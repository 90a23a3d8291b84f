using System.Net;
using Decnet.Core.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Security;
using Decnet.Core.Swarm.Shipping;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Swarm.Shipping;

/// <summary>
/// Runs the master's <see cref="SwarmLogListener"/> for the life of the web process when the swarm is
/// enabled: served with the master identity of the swarm CA, peers admitted by the <see cref="SwarmGate"/>
/// the controller uses too, feeding the shared ingest.
/// </summary>
public sealed class SwarmLogListenerService(
    IOptions<SwarmOptions> options,
    SwarmMasterCredentials credentials,
    SwarmGate gate,
    SwarmOverview peers,
    EventIngester ingester,
    ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private SwarmLogListener? _listener;

    /// <summary>The bound address once started; null while disabled.</summary>
    public IPEndPoint? Endpoint { get; private set; }

    public SwarmLogListener? Listener => _listener;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return Task.CompletedTask;
        }
        if (!settings.TryGetSyslogEndpoint(out var endpoint))
        {
            throw new OptionsValidationException(SwarmOptions.Section, typeof(SwarmOptions), [$"SyslogUrl '{settings.SyslogUrl}' is not an address:port"]);
        }
        _listener = new SwarmLogListener(
            new SwarmLogListenerSettings { MaxConnections = settings.SyslogMaxConnections, IdleTimeout = settings.SyslogIdleTimeout },
            credentials.MasterCertificate,
            gate,
            peers,
            ingester,
            loggers.CreateLogger<SwarmLogListener>());
        Endpoint = _listener.Start(endpoint);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_listener is null)
        {
            return;
        }
        try
        {
            await _listener.StopAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's shutdown time is up: DisposeAsync closes what is left instead of failing the stop.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }
    }
}
