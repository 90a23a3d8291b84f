using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Decnet.Core.Swarm.Dispatch;

public static class DispatchServices
{
    /// <summary>The master's operations on workers: agent client, sharded deploy, async teardown, decommission, read side.</summary>
    public static IServiceCollection AddSwarmDispatch(this IServiceCollection services)
    {
        services.TryAddSingleton<MasterCredentials>();
        services.TryAddSingleton<AgentClientFactory>();
        services.TryAddSingleton<SwarmDispatcher>();
        services.TryAddSingleton<SwarmDeploymentMode>();
        // The fleet reaches the deckies on workers through it.
        services.TryAddSingleton<Deckies.Fleet.IWorkerFleet>(sp => sp.GetRequiredService<SwarmDeploymentMode>());
        services.TryAddSingleton<ShardTeardownQueue>();
        services.TryAddSingleton<SwarmDecommissioner>();
        return services;
    }
}
