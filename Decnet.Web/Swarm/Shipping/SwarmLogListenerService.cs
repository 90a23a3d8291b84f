using System.Net;
using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Events;
using Decnet.Core.Storage;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Shipping;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Swarm.Shipping;

/// <summary>
/// Runs the master's <see cref="SwarmLogListener"/> for the life of the web process when the swarm is
/// enabled: served with the master identity of the swarm CA, feeding the shared ingest.
/// </summary>
public sealed partial class SwarmLogListenerService(
    IOptions<SwarmOptions> options,
    IOptions<StorageOptions> storage,
    IServiceProvider services,
    SwarmOverview peers,
    EventIngester ingester,
    ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private SwarmLogListener? _listener;
    private X509Certificate2? _certificate;
    private SwarmTrust? _trust;
    private SwarmCertificateAuthority? _ownedAuthority;

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
        // One CA per master: use the registered one when the swarm controller provides it.
        var authority = services.GetService<SwarmCertificateAuthority>();
        if (authority is null)
        {
            var directory = settings.CaDirectory ?? Path.Combine(storage.Value.DataPath, "swarm", "ca");
            authority = _ownedAuthority = SwarmCertificateAuthority.LoadOrCreate(directory);
        }
        _certificate = authority.GetOrCreateMasterIdentity().ToCertificate();
        _trust = authority.CreateTrust();
        _listener = new SwarmLogListener(
            new SwarmLogListenerSettings { MaxConnections = settings.SyslogMaxConnections, IdleTimeout = settings.SyslogIdleTimeout },
            _certificate,
            _trust,
            peers,
            ingester,
            loggers.CreateLogger<SwarmLogListener>());
        Endpoint = _listener.Start(endpoint);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_listener is not null)
        {
            await _listener.StopAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }
        _certificate?.Dispose();
        _trust?.Dispose();
        _ownedAuthority?.Dispose();
    }
}
