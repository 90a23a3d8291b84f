using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Security;
using Decnet.Web.Extensions;
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
/// enrollment download endpoint (no client certificate). The dashboard's endpoints are declared beside
/// them (<see cref="Decnet.Web.Extensions.ListenAddresses"/>).
/// </summary>
public sealed class SwarmControllerListener
{
    private ListenOptions? _options;
    private ListenOptions? _enrollment;

    /// <summary>The bound controller endpoint (after start; the real port when configured with 0).</summary>
    public IPEndPoint? BoundEndPoint => _options?.IPEndPoint;

    /// <summary>The bound enrollment endpoint.</summary>
    public IPEndPoint? EnrollmentEndPoint => _enrollment?.IPEndPoint;

    internal void Configure(KestrelServerOptions kestrel, SwarmOptions swarm, SwarmMasterCredentials credentials, SwarmGate gate)
    {
        var controller = BindingAddress.Parse(swarm.ControllerUrl);
        if (controller.Scheme != Uri.UriSchemeHttps)
        {
            throw new InvalidOperationException($"Decnet:Swarm:ControllerUrl must be https (mutual TLS), not '{swarm.ControllerUrl}'.");
        }
        ListenAddresses.Listen(kestrel, controller, listen =>
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
        ListenAddresses.Listen(kestrel, enrollment, listen =>
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
}
