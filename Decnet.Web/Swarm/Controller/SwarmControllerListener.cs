using Decnet.Core.Swarm;
using System.Net;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Pki;
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
/// required and accepted only when the swarm CA issued it for client use. Declaring any endpoint makes
/// Kestrel ignore <c>urls</c>, so the dashboard's addresses are declared here as well.
/// </summary>
public sealed class SwarmControllerListener
{
    private ListenOptions? _options;

    /// <summary>The bound endpoint (after start; the real port when configured with 0).</summary>
    public IPEndPoint? BoundEndPoint => _options?.IPEndPoint;

    internal void Configure(KestrelServerOptions kestrel, IConfiguration configuration, SwarmOptions swarm, SwarmMasterCredentials credentials)
    {
        var urls = configuration[WebHostDefaults.ServerUrlsKey];
        foreach (var url in (string.IsNullOrWhiteSpace(urls) ? "http://localhost:5000" : urls).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var address = BindingAddress.Parse(url);
            Listen(kestrel, address, listen =>
            {
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
