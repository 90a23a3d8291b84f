using Decnet.Core.Configuration;
using Decnet.Core.Deckies.Embedded;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Core.Deckies.Fleet;

public static class FleetServices
{
    /// <summary>The fleet (deploy, mutate, teardown), the honeypot services and the embedded runtime.</summary>
    public static IServiceCollection AddDecnetFleet(this IServiceCollection services)
    {
        services.AddHoneypotServices();
        // Events from in-process deckies; the ingest pipeline reads this channel.
        services.TryAddSingleton<ChannelEventSink>();
        services.TryAddSingleton<IHoneypotEventSink>(sp => sp.GetRequiredService<ChannelEventSink>());
        services.AddValidatedOptions<EmbeddedRuntimeOptions, EmbeddedRuntimeOptionsValidator>(EmbeddedRuntimeOptions.Section);
        services.TryAddSingleton<EmbeddedDeckyRuntime>();
        services.TryAddSingleton<IDeckyRuntime>(sp => sp.GetRequiredService<EmbeddedDeckyRuntime>());
        services.TryAddSingleton<Artifacts.ArtifactVault>();
        services.TryAddSingleton<DeploymentStore>();
        services.TryAddSingleton<DeckyFleet>();
        services.TryAddSingleton<DeckyMutator>();
        return services;
    }
}
