using System.Net;
using Decnet.Web.Configuration;
using Decnet.Web.Exposure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Decnet.Web.Extensions;

/// <summary>
/// Every socket the master serves is declared on Kestrel here (the dashboard) or by the swarm controller.
/// The dashboard is <c>urls</c> when the operator set it (<c>--urls</c>, <c>ASPNETCORE_URLS</c>), else
/// <c>http://{Decnet:Web:Host}:{Decnet:Web:Port}</c> (DECNET_WEB_HOST / DECNET_WEB_PORT), https once a
/// certificate is configured (DECNET_TLS_CERT).
/// </summary>
public static class ListenAddresses
{
    public static WebApplicationBuilder ConfigureListenAddresses(this WebApplicationBuilder builder)
    {
        // After every other Kestrel setting: an https address takes the certificate from the HTTPS
        // defaults (Decnet:Web:Tls), and those must be in place when the endpoint is declared.
        builder.Services.AddOptions<KestrelServerOptions>().PostConfigure<IConfiguration>((kestrel, configuration) =>
        {
            foreach (var url in Dashboard(configuration))
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
        });
        builder.Services.AddTransient<IStartupFilter, HostingAddressesCleared>();
        return builder;
    }

    /// <summary>The dashboard's addresses, as configured.</summary>
    public static IReadOnlyList<string> Dashboard(IConfiguration configuration)
    {
        var urls = configuration[WebHostDefaults.ServerUrlsKey];
        if (!string.IsNullOrWhiteSpace(urls))
        {
            return urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        var web = configuration.GetSection(WebOptions.Section).Get<WebOptions>() ?? new WebOptions();
        var host = web.Host.Contains(':', StringComparison.Ordinal) && !web.Host.StartsWith('[') ? $"[{web.Host}]" : web.Host;
        return [$"{ExposureSetup.DashboardScheme(configuration)}://{host}:{web.Port}"];
    }

    /// <summary>One Kestrel endpoint for an address written the way <c>urls</c> are.</summary>
    public static void Listen(KestrelServerOptions kestrel, BindingAddress address, Action<ListenOptions> configure)
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

    /// <summary>
    /// The host copies <c>urls</c> into the server's address list before the pipeline is built; Kestrel
    /// would then warn at every start that it binds the declared endpoints instead. Those endpoints
    /// already include the dashboard's addresses, so the copy goes.
    /// </summary>
    private sealed class HostingAddressesCleared(IServer server) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
        {
            if (server.Features.Get<IServerAddressesFeature>() is { Addresses.IsReadOnly: false } feature)
            {
                feature.Addresses.Clear();
            }
            return next;
        }
    }
}
