using Decnet.Core.Events.Collection;
using Microsoft.Extensions.Hosting;
using Decnet.Core.Ingest.Collection;

namespace Decnet.Agent.Spool;

/// <summary>
/// On a worker with the Docker runtime: follows the service containers' stdout (their events) into the
/// spool for the life of the agent (<see cref="DockerLogCollector"/> with a <see cref="SpoolLineSink"/>).
/// </summary>
public sealed class ContainerLogShipping(DockerLogCollector collector) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => collector.RunAsync(stoppingToken);
}
