using System.Net;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Web.Extensions;
using Decnet.Web.Swarm.Shipping;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Swarm.Controller;

/// <summary>The swarm endpoints as Kestrel and the log listener bound them (real ports when configured with 0).</summary>
public sealed class BoundSwarmEndpoints(SwarmControllerListener listener, SwarmLogListenerService syslog, IOptions<SwarmOptions> options, IConfiguration configuration) : ISwarmEndpoints
{
    private readonly ConfiguredSwarmEndpoints _configured = new(options);

    public SwarmEndpoint Enrollment => From(listener.EnrollmentEndPoint) ?? _configured.Enrollment;

    public SwarmEndpoint Controller => From(listener.BoundEndPoint) ?? _configured.Controller;

    public SwarmEndpoint Syslog => From(syslog.Endpoint) ?? _configured.Syslog;

    /// <summary>Every dashboard address (as declared by <see cref="ListenAddresses"/>) is a loopback one.</summary>
    public bool DashboardLoopbackOnly
    {
        get
        {
            var hosts = ListenAddresses.Dashboard(configuration).Select(url => BindingAddress.Parse(url).Host.Trim('[', ']')).ToList();
            return hosts.Count > 0 && hosts.All(host =>
                string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip)));
        }
    }

    private static SwarmEndpoint? From(IPEndPoint? endpoint) =>
        endpoint is null ? null : new SwarmEndpoint(endpoint.Port, IPAddress.IsLoopback(endpoint.Address));
}
