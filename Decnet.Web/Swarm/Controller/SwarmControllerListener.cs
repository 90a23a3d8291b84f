using System.Net;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Pki;
using Decnet.Web.Extensions;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Decnet.Web.Swarm.Controller;

/// <summary>Marks connections accepted on the controller endpoint (a connection feature, visible to every request on it).</summary>
public sealed class SwarmControllerConnection
{
    public static readonly SwarmControllerConnection Instance = new();

    private SwarmControllerConnection()
    {
    }

    public static bool Is(HttpContext http) => http.Features.Get<SwarmControllerConnection>() is not null;
}

/// <summary>Endpoint metadata: served on the controller endpoint only.</summary>
public sealed class SwarmControllerEndpointMetadata;

/// <summary>
/// The controller's own Kestrel endpoint: HTTPS with the master identity, a client certificate
/// required and accepted only when the swarm CA issued it for client use. The dashboard's endpoints
/// are declared beside it (<see cref="Decnet.Web.Extensions.ListenAddresses"/>).
/// </summary>
public sealed class SwarmControllerListener
{
    private ListenOptions? _options;

    /// <summary>The bound endpoint (after start; the real port when configured with 0).</summary>
    public IPEndPoint? BoundEndPoint => _options?.IPEndPoint;

    internal void Configure(KestrelServerOptions kestrel, SwarmControlOptions swarm, SwarmMasterCredentials credentials)
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
                connection.Features.Set(SwarmControllerConnection.Instance);
                return next(connection);
            });
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = credentials.MasterCertificate,
                SslProtocols = PinnedTls.Protocols,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                CheckCertificateRevocation = false,
                HandshakeTimeout = TimeSpan.FromSeconds(10),
                // The first gate: issued by our CA for client use. Each route then pins the exact peer.
                ClientCertificateValidation = (certificate, _, _) => credentials.Trust.HasIssued(certificate, PeerUsage.Client),
            });
        });
    }
}
