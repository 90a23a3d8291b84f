using Decnet.Core.Swarm.Enrollment;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Decnet.Core.Swarm;

public static class SwarmServices
{
    /// <summary>The master's swarm state: registry, CA and master identity, enrollment and its bundles.</summary>
    public static IServiceCollection AddDecnetSwarmControl(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<SwarmControlOptions>().BindConfiguration(SwarmControlOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<SwarmRegistry>();
        services.TryAddSingleton<SwarmMasterCredentials>();
        // One CA per master: the log listener and anything else asking for the authority get this one.
        services.TryAddSingleton(sp => sp.GetRequiredService<SwarmMasterCredentials>().Authority);
        services.TryAddSingleton<EnrollmentBundleStore>();
        services.TryAddSingleton<EnrollmentService>();
        Updates.UpdateServices.AddSwarmUpdates(services);
        return services;
    }
}
