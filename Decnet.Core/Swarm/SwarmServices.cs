using Decnet.Core.Configuration;
using Decnet.Core.Swarm.Enrollment;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Swarm;

public static class SwarmServices
{
    /// <summary>
    /// The master's swarm: one options tree (<see cref="SwarmOptions"/>, validated at start), the read
    /// model and the write store, heartbeat acceptance, the mutual-TLS gate (revocations, security events),
    /// CA and master identity, enrollment and its bundles.
    /// </summary>
    public static IServiceCollection AddDecnetSwarmControl(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddValidatedOptions<SwarmOptions, SwarmOptionsValidator>(SwarmOptions.Section);
        services.TryAddSingleton<SwarmOverview>();
        services.TryAddSingleton<Security.SwarmRevocations>();
        services.TryAddSingleton<Security.SwarmSecurityEvents>();
        services.TryAddSingleton<SwarmStore>();
        services.TryAddSingleton<SwarmHeartbeats>();
        services.TryAddSingleton<SwarmMasterCredentials>();
        // One CA per master: the log listener and anything else asking for the authority get this one.
        services.TryAddSingleton(sp => sp.GetRequiredService<SwarmMasterCredentials>().Authority);
        services.TryAddSingleton(sp => new Security.SwarmGate(
            sp.GetRequiredService<SwarmMasterCredentials>(), sp.GetRequiredService<Security.SwarmRevocations>(), sp.GetRequiredService<Security.SwarmSecurityEvents>()));
        services.TryAddSingleton<ISwarmEndpoints, ConfiguredSwarmEndpoints>();
        services.TryAddSingleton<EnrollmentBundleStore>();
        services.TryAddSingleton<EnrollmentService>();
        Updates.UpdateServices.AddSwarmUpdates(services);
        return services;
    }
}
