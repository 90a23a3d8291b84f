using System.Net;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Web.Swarm.Shipping;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Swarm.Controller;

/// <summary>The swarm endpoints as Kestrel and the log listener bound them (real ports when configured with 0).</summary>
public sealed class BoundSwarmEndpoints(SwarmControllerListener listener, SwarmLogListenerService syslog, IOptions<SwarmOptions> options) : ISwarmEndpoints
{
    private readonly ConfiguredSwarmEndpoints _configured = new(options);

    public SwarmEndpoint Enrollment => From(listener.EnrollmentEndPoint) ?? _configured.Enrollment;

    public SwarmEndpoint Controller => From(listener.BoundEndPoint) ?? _configured.Controller;

    public SwarmEndpoint Syslog => From(syslog.Endpoint) ?? _configured.Syslog;

    public bool DashboardLoopbackOnly
    {
        get
        {
            var bound = listener.DashboardEndpoints.Select(e => e.IPEndPoint).ToList();
            return bound.Count > 0 && bound.All(e => e is not null && IPAddress.IsLoopback(e.Address));
        }
    }

    private static SwarmEndpoint? From(IPEndPoint? endpoint) =>
        endpoint is null ? null : new SwarmEndpoint(endpoint.Port, IPAddress.IsLoopback(endpoint.Address));
}
