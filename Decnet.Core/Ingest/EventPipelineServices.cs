using Decnet.Core.Configuration;
using Decnet.Core.Events.Collection;
using Decnet.Core.Health;
using Decnet.Core.Honeypots.Events;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Decnet.Core.Ingest.Collection;
using Decnet.Core.Events;

namespace Decnet.Core.Ingest;

public static class EventPipelineServices
{
    /// <summary>The ingest (its workers are hosted by the web process), the file tails and its health probe.</summary>
    public static IServiceCollection AddDecnetEventPipeline(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        // The same channel the fleet's deckies publish to; whoever registers first provides it.
        services.TryAddSingleton<ChannelEventSink>();
        services.AddValidatedOptions<SiemFileOptions, SiemFileOptionsValidator>(SiemFileOptions.Section);
        services.TryAddSingleton<SiemFiles>();
        services.TryAddSingleton(Storage.IngestStore.Create);
        services.TryAddSingleton<EventIngester>();
        services.AddValidatedOptions<FileIngestOptions, FileIngestOptionsValidator>(FileIngestOptions.Section);
        services.TryAddSingleton<FileTailCollector>();
        services.AddSingleton<IHealthProbe, IngestionProbe>();
        return services;
    }
}
