using Decnet.Core.Configuration;
using Decnet.Core.Events.Collection;
using Decnet.Core.Health;
using Decnet.Core.Honeypots.Events;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Events;

public static class EventPipelineServices
{
    /// <summary>The ingest (its workers are hosted by the web process), the file tails, its health probe and the event queries.</summary>
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
        services.TryAddSingleton<EventLog>();
        services.AddSingleton<IHealthProbe, IngestionProbe>();
        return services;
    }
}
