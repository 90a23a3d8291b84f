using Decnet.Core.Bounty;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Decnet.Core.Events;

namespace Decnet.Core.Ingest.Storage;

/// <summary>One event of a batch, with every column value already computed by the preparation stage.</summary>
/// <param name="Timestamp">The event time as the text EF Core stores on SQLite ("yyyy-MM-dd HH:mm:ss.FFFFFFF").</param>
internal sealed record IngestRow(ParsedEvent Event, string Timestamp, string Fields, string EventKey, IReadOnlyList<ExtractedBounty> Bounties, string SiemJson);

/// <summary>What a stored batch changed: which rows were new (replays insert nothing), the newest id, new bounties.</summary>
/// <param name="Inserted">Indexes into the batch's rows of the rows inserted now, in batch order.</param>
internal sealed record StoredBatch(IReadOnlyList<int> Inserted, long LastId, int Bounties);

/// <summary>
/// The database side of an ingest batch, one per provider: logs (unique <c>EventKey</c>, so a replay inserts
/// nothing), the bounties of the rows that were new, and the positions of durable sources, all in one
/// transaction. Raw commands, not EF change tracking, which costs far more than the inserts themselves.
/// </summary>
public abstract class IngestStore
{
    internal abstract Task<StoredBatch> StoreAsync(
        IReadOnlyList<IngestRow> rows, IReadOnlyCollection<SourcePosition> positions, string? traceId, string? spanId, DateTime nowUtc, CancellationToken cancellationToken);

    /// <summary>The store of the configured provider.</summary>
    public static IngestStore Create(IServiceProvider services)
    {
        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        return storage.Kind == StorageProvider.Postgres
            ? new PostgresIngestStore(services.GetRequiredService<NpgsqlDataSource>())
            : new SqliteIngestStore(services.GetRequiredService<IDbContextFactory<DecnetDbContext>>());
    }

    /// <summary>The bounties of the rows inserted now: a replayed event brings no bounty it did not already bring.</summary>
    private protected static List<ExtractedBounty> BountiesOf(IReadOnlyList<IngestRow> rows, IReadOnlyList<int> inserted)
    {
        var found = new List<ExtractedBounty>();
        foreach (var index in inserted)
        {
            found.AddRange(rows[index].Bounties);
        }
        return found;
    }
}
