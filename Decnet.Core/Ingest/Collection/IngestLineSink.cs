using System.Threading.Channels;
using Decnet.Core.Events;
using Decnet.Core.Events.Collection;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Ingest.Collection;

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
