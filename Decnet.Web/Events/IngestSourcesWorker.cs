using Decnet.Core.Events.Collection;
using Decnet.Core.Ingest.Collection;

namespace Decnet.Web.Events;

/// <summary>
/// Hosts the durable line sources of the ingest for the life of the web process: the Docker runtime's
/// container logs (registered only when Docker is the runtime) and the configured spool files.
/// </summary>
public sealed class IngestSourcesWorker(FileTailCollector files, IServiceProvider services) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sources = new List<Task> { files.RunAsync(stoppingToken) };
        if (services.GetService<DockerLogCollector>() is { } docker)
        {
            sources.Add(docker.RunAsync(stoppingToken));
        }
        return Task.WhenAll(sources);
    }
}
