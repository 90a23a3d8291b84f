using System.Threading.Channels;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Events.Collection;

/// <summary>
/// Where the <see cref="DockerLogCollector"/>'s lines go and where each container's position is kept:
/// the ingest and <c>pipeline_cursors</c> on the master (<see cref="IngestLineSink"/>), the worker's
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

/// <summary>The master's sink: the shared ingest, which commits each line's position with its row.</summary>
public sealed class IngestLineSink(EventIngester ingester, IDbContextFactory<DecnetDbContext> dbFactory) : IContainerLineSink
{
    public Task ConsumeAsync(ChannelReader<IngestLine> lines, CancellationToken drain) => ingester.RunAsync(lines, drain);

    public async Task<long?> PositionAsync(string cursor, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.PipelineCursors.AsNoTracking().Where(c => c.Name == cursor).Select(c => (long?)c.Position)
            .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task ForgetAllButAsync(IReadOnlySet<string> existing, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var stored = await db.PipelineCursors.AsNoTracking()
            .Where(c => c.Name.StartsWith(DockerLogCollector.CursorPrefix))
            .Select(c => c.Name)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        var gone = stored.Where(name => !existing.Contains(name)).ToList();
        if (gone.Count > 0)
        {
            await db.PipelineCursors.Where(c => gone.Contains(c.Name)).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
