using Decnet.Core.Ingest;

namespace Decnet.Web.Events;

/// <summary>Hosts the ingest of in-process decky events for the life of the web process.</summary>
public sealed class IngestWorker(EventIngester ingester) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => ingester.RunAsync(stoppingToken);
}
