using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Decnet.Core.Swarm.Updates;

public static class UpdateServices
{
    /// <summary>The master's remote updates of worker releases (updater clients, push fan-out, rollback).</summary>
    public static IServiceCollection AddSwarmUpdates(this IServiceCollection services)
    {
        services.TryAddSingleton<SwarmUpdates>();
        return services;
    }
}
