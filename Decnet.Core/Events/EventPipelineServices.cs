using Decnet.Core.Health;
using Decnet.Core.Honeypots.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Decnet.Core.Events;

public static class EventPipelineServices
{
    /// <summary>The ingest (its worker is hosted by the web process), its health probe and the event queries.</summary>
    public static IServiceCollection AddDecnetEventPipeline(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        // The same channel the fleet's deckies publish to; whoever registers first provides it.
        services.TryAddSingleton<ChannelEventSink>();
        services.AddOptions<SiemFileOptions>().BindConfiguration(SiemFileOptions.Section);
        services.TryAddSingleton<SiemFiles>();
        services.TryAddSingleton<EventIngester>();
        services.TryAddSingleton<EventLog>();
        services.AddSingleton<IHealthProbe, IngestionProbe>();
        return services;
    }
}
