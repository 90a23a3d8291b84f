using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Decnet.Web.Swarm.Controller;

/// <summary>The master's two swarm-facing HTTPS endpoints.</summary>
public enum SwarmPort
{
    /// <summary>Mutual TLS: heartbeats and the master CLI.</summary>
    Controller,

    /// <summary>Server TLS only (the token is the credential): bundle downloads during an install.</summary>
    Enrollment,
}

/// <summary>Marks connections accepted on a swarm endpoint (a connection feature, visible to every request on it).</summary>
public sealed class SwarmConnection
{
    public static readonly SwarmConnection Controller = new(SwarmPort.Controller);
    public static readonly SwarmConnection Enrollment = new(SwarmPort.Enrollment);

    private SwarmConnection(SwarmPort port) => Port = port;

    public SwarmPort Port { get; }

    /// <summary>The swarm endpoint this request arrived on; null for the dashboard's.</summary>
    public static SwarmPort? Of(HttpContext http) => http.Features.Get<SwarmConnection>()?.Port;
}

/// <summary>Endpoint metadata: served on that swarm endpoint only.</summary>
public sealed record SwarmEndpointMetadata(SwarmPort Port);

/// <summary>
/// The swarm's Kestrel endpoints, both served with the master identity: the controller (a client
/// certificate required, admitted at the handshake by <see cref="SwarmGate"/>: issued by the swarm CA
/// for client use and not revoked) and the
/// enrollment download endpoint (no client certificate). Declaring any endpoint makes Kestrel ignore
/// <c>urls</c>, so the dashboard's addresses are declared here as well.
/// </summary>
public sealed class SwarmControllerListener
{
    private ListenOptions? _options;
    private ListenOptions? _enrollment;
    private readonly List<ListenOptions> _dashboard = [];

    /// <summary>The bound controller endpoint (after start; the real port when configured with 0).</summary>
    public IPEndPoint? BoundEndPoint => _options?.IPEndPoint;

    /// <summary>The bound enrollment endpoint.</summary>
    public IPEndPoint? EnrollmentEndPoint => _enrollment?.IPEndPoint;

    /// <summary>The dashboard's endpoints as declared here (IP endpoints only; "localhost" counts as loopback).</summary>
    public IReadOnlyList<ListenOptions> DashboardEndpoints => _dashboard;

    internal void Configure(KestrelServerOptions kestrel, IConfiguration configuration, SwarmOptions swarm, SwarmMasterCredentials credentials, SwarmGate gate)
    {
        var urls = configuration[WebHostDefaults.ServerUrlsKey];
        foreach (var url in (string.IsNullOrWhiteSpace(urls) ? "http://localhost:5000" : urls).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var address = BindingAddress.Parse(url);
            Listen(kestrel, address, listen =>
            {
                _dashboard.Add(listen);
                if (address.Scheme == Uri.UriSchemeHttps)
                {
                    listen.UseHttps();
                }
            });
        }

        var controller = BindingAddress.Parse(swarm.ControllerUrl);
        if (controller.Scheme != Uri.UriSchemeHttps)
        {
            throw new InvalidOperationException($"Decnet:Swarm:ControllerUrl must be https (mutual TLS), not '{swarm.ControllerUrl}'.");
        }
        Listen(kestrel, controller, listen =>
        {
            _options = listen;
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.Use(next => connection =>
            {
                connection.Features.Set(SwarmConnection.Controller);
                return next(connection);
            });
            // The handshake gate (SwarmGate): a certificate from our CA for client use and not revoked,
            // every refusal a swarm security event. The callback also sees a missing certificate, which
            // Kestrel's own ClientCertificateValidation never does. Each route then pins the exact peer.
            var certificate = SslStreamCertificateContext.Create(credentials.MasterCertificate, additionalCertificates: null, offline: true);
            listen.UseHttps(new TlsHandshakeCallbackOptions
            {
                HandshakeTimeout = TimeSpan.FromSeconds(10),
                OnConnection = context => ValueTask.FromResult(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = certificate,
                    EnabledSslProtocols = PinnedTls.Protocols,
                    ClientCertificateRequired = true,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                    RemoteCertificateValidationCallback = (_, peer, _, _) => gate.Admit(peer, SwarmGate.ControllerEndpoint, context.Connection.RemoteEndPoint),
                }),
            });
        });
        ListenEnrollment(kestrel, swarm, credentials);
    }

    private void ListenEnrollment(KestrelServerOptions kestrel, SwarmOptions swarm, SwarmMasterCredentials credentials)
    {
        var enrollment = BindingAddress.Parse(swarm.EnrollmentUrl);
        if (enrollment.Scheme != Uri.UriSchemeHttps)
        {
            throw new InvalidOperationException($"Decnet:Swarm:EnrollmentUrl must be https (bundles carry private keys), not '{swarm.EnrollmentUrl}'.");
        }
        Listen(kestrel, enrollment, listen =>
        {
            _enrollment = listen;
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.Use(next => connection =>
            {
                connection.Features.Set(SwarmConnection.Enrollment);
                return next(connection);
            });
            // The bootstrap command pins this certificate's key (curl --pinnedpubkey).
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = credentials.MasterCertificate,
                SslProtocols = PinnedTls.Protocols,
                ClientCertificateMode = ClientCertificateMode.NoCertificate,
                HandshakeTimeout = TimeSpan.FromSeconds(10),
            });
        });
    }

    private static void Listen(KestrelServerOptions kestrel, BindingAddress address, Action<ListenOptions> configure)
    {
        var host = address.Host.Trim('[', ']');
        if (IPAddress.TryParse(host, out var ip))
        {
            kestrel.Listen(ip, address.Port, configure);
        }
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) && address.Port != 0)
        {
            kestrel.ListenLocalhost(address.Port, configure);
        }
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.Listen(IPAddress.Loopback, 0, configure);
        }
        else
        {
            // "*", "+" or a host name: every interface, as Kestrel does for urls.
            kestrel.ListenAnyIP(address.Port, configure);
        }
    }
}
