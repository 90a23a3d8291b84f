using Decnet.Core.Configuration;
using Decnet.Core.Deckies.Docker;
using Decnet.Core.Events.Collection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Ingest.Collection;

public static class DockerLogCollection
{
    /// <summary>
    /// Registers the collector that follows the service containers' stdout (where their events are) into
    /// the ingest. Call it beside <see cref="DockerRuntimeServiceCollectionExtensions.AddDockerDeckyRuntime"/>,
    /// where Docker is the chosen runtime.
    /// </summary>
    public static IServiceCollection AddDockerLogCollector(this IServiceCollection services)
    {
        services.AddValidatedOptions<DockerLogCollectorOptions, DockerLogCollectorOptionsValidator>(DockerLogCollectorOptions.Section);
        // The master's ingest unless the host registered its own sink first (a worker's spool).
        services.TryAddSingleton<IContainerLineSink, IngestLineSink>();
        services.TryAddSingleton(sp => new DockerLogCollector(
            sp.GetRequiredService<IOptions<DockerRuntimeOptions>>().Value,
            sp.GetRequiredService<IOptions<DockerLogCollectorOptions>>().Value,
            sp.GetRequiredService<IContainerLineSink>(),
            sp.GetRequiredService<ILogger<DockerLogCollector>>()));
        return services;
    }
}
