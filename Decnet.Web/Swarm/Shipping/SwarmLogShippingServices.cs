using Decnet.Core.Swarm.Shipping;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Decnet.Web.Swarm.Shipping;

public static class SwarmLogShippingServices
{
    /// <summary>The master's RFC 5425 log listener (started only when <c>Decnet:Swarm:Enabled</c>).</summary>
    public static IServiceCollection AddSwarmLogShipping(this IServiceCollection services)
    {
        services.AddOptions<SwarmLogOptions>().BindConfiguration(SwarmLogOptions.Section)
            .Validate(o => !o.Enabled || o.TryGetSyslogEndpoint(out _), "Decnet:Swarm:SyslogUrl must be address:port, e.g. 0.0.0.0:6514")
            .Validate(o => o.SyslogMaxConnections > 0 && o.SyslogIdleTimeout > TimeSpan.Zero, "Decnet:Swarm syslog limits must be positive")
            .ValidateOnStart();
        services.TryAddSingleton<SwarmPeerDirectory>();
        services.AddSingleton<SwarmLogListenerService>();
        services.AddHostedService(sp => sp.GetRequiredService<SwarmLogListenerService>());
        return services;
    }
}
