using System.Net;

namespace Decnet.Core.Swarm.Enrollment;

/// <summary>One listener workers must reach, as bound (the real port when configured with 0).</summary>
public sealed record SwarmEndpoint(int Port, bool LoopbackOnly);

/// <summary>
/// Where this master listens for workers: the enrollment download, the mutual-TLS controller and the
/// log listener, and whether the dashboard listens on loopback only. The web host supplies the bound
/// addresses; <see cref="ConfiguredSwarmEndpoints"/> reads them from <see cref="SwarmOptions"/>.
/// </summary>
public interface ISwarmEndpoints
{
    SwarmEndpoint Enrollment { get; }

    SwarmEndpoint Controller { get; }

    SwarmEndpoint Syslog { get; }

    bool DashboardLoopbackOnly { get; }
}

/// <summary>The endpoints as configured (no web host: tests of the domain, tools).</summary>
public sealed class ConfiguredSwarmEndpoints(Microsoft.Extensions.Options.IOptions<SwarmOptions> options) : ISwarmEndpoints
{
    public SwarmEndpoint Enrollment => FromUrl(options.Value.EnrollmentUrl, 8771);

    public SwarmEndpoint Controller => FromUrl(options.Value.ControllerUrl, AgentHostSettings.DefaultSwarmControllerPort);

    public SwarmEndpoint Syslog => options.Value.TryGetSyslogEndpoint(out var endpoint)
        ? new SwarmEndpoint(endpoint.Port, IPAddress.IsLoopback(endpoint.Address))
        : new SwarmEndpoint(AgentHostSettings.DefaultSyslogPort, false);

    public bool DashboardLoopbackOnly => false;

    public static SwarmEndpoint FromUrl(string? url, int fallbackPort) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
            ? new SwarmEndpoint(uri.Port > 0 ? uri.Port : fallbackPort, IsLoopbackHost(uri.Host))
            : new SwarmEndpoint(fallbackPort, false);

    public static bool IsLoopbackHost(string host)
    {
        var trimmed = host.Trim('[', ']');
        return string.Equals(trimmed, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(trimmed, out var address) && IPAddress.IsLoopback(address));
    }
}
