using System.Threading.Channels;

namespace Decnet.Core.Events.Collection;

/// <summary>
/// Where the <see cref="Deckies.Docker.DockerLogCollector"/>'s lines go and where each container's position is kept:
/// the ingest and <c>pipeline_cursors</c> on the master (<c>IngestLineSink</c>), the worker's
/// spool (shipped to the master by its forwarder) on a swarm worker.
/// </summary>
public interface IContainerLineSink
{
    /// <summary>Consumes the lines until the reader completes (or <paramref name="drain"/> gives up on the rest).</summary>
    Task ConsumeAsync(ChannelReader<IngestLine> lines, CancellationToken drain);

    /// <summary>The last position stored for a cursor (<c>docker:{container id}</c>), or null.</summary>
    Task<long?> PositionAsync(string cursor, CancellationToken cancellationToken);

    /// <summary>Drops the positions of containers that no longer exist (cursors with the collector's prefix not in <paramref name="existing"/>).</summary>
    Task ForgetAllButAsync(IReadOnlySet<string> existing, CancellationToken cancellationToken);
}
