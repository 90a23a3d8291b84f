using System.Globalization;
using Decnet.Core.Events;
using Decnet.Core.Notifications;
using Microsoft.Data.Sqlite;

namespace Decnet.Core.Bounty;

/// <summary>Published on the notification hub after an ingest batch committed new bounties.</summary>
/// <param name="Count">Bounty rows inserted (already known bounties excluded).</param>
public sealed record BountiesFound(int Count);

/// <summary>
/// Stores the bounties of an ingest batch inside the batch's own transaction: a batch's logs and its
/// bounties commit together or not at all, so a retried batch neither loses nor doubles them.
/// </summary>
public sealed class BountyWriter(BountyQuery query, NotificationHub hub)
{
    // The unique DedupKey index makes the same bounty (type, attacker, payload) a no-op the second time.
    private const string InsertSql = """
        INSERT INTO bounty (Timestamp, Decky, Service, AttackerIp, BountyType, Payload, DedupKey)
        VALUES ($timestamp, $decky, $service, $attackerIp, $bountyType, $payload, $dedupKey)
        ON CONFLICT(DedupKey) DO NOTHING
        """;

    /// <summary>Extracts and inserts; returns the number of new bounty rows. Does not commit.</summary>
    public Task<int> WriteAsync(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<ParsedEvent> events, CancellationToken cancellationToken) =>
        WriteAsync(connection, transaction, events.SelectMany(BountyExtractor.Extract), cancellationToken);

    /// <summary>Inserts bounties already extracted (the ingest extracts while the previous batch is stored); returns the new rows. Does not commit.</summary>
    public async Task<int> WriteAsync(SqliteConnection connection, SqliteTransaction transaction, IEnumerable<ExtractedBounty> found, CancellationToken cancellationToken)
    {
        SqliteCommand? command = null;
        SqliteParameter timestamp = null!, decky = null!, service = null!, attackerIp = null!, bountyType = null!, payload = null!, dedupKey = null!;
        var inserted = 0;
        try
        {
            foreach (var bounty in found)
            {
                if (command is null)
                {
                    // Prepared once per batch, and only for batches that carry a bounty at all.
                    command = connection.CreateCommand();
                    command.Transaction = transaction;
                    command.CommandText = InsertSql;
                    timestamp = command.Parameters.Add("$timestamp", SqliteType.Text);
                    decky = command.Parameters.Add("$decky", SqliteType.Text);
                    service = command.Parameters.Add("$service", SqliteType.Text);
                    attackerIp = command.Parameters.Add("$attackerIp", SqliteType.Text);
                    bountyType = command.Parameters.Add("$bountyType", SqliteType.Text);
                    payload = command.Parameters.Add("$payload", SqliteType.Text);
                    dedupKey = command.Parameters.Add("$dedupKey", SqliteType.Text);
                    await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
                }
                // The text format EF uses for DateTime columns, so EF queries sort and compare these rows.
                timestamp.Value = bounty.TimestampUtc.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
                decky.Value = bounty.Decky;
                service.Value = bounty.Service;
                attackerIp.Value = (object?)bounty.AttackerIp ?? DBNull.Value;
                bountyType.Value = bounty.BountyType;
                payload.Value = bounty.Payload;
                dedupKey.Value = bounty.DedupKey;
                inserted += await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (command is not null)
            {
                await command.DisposeAsync().ConfigureAwait(false);
            }
        }
        return inserted;
    }

    /// <summary>Called after the batch committed: drops the cached first page, then tells live views.</summary>
    public void Committed(int count)
    {
        if (count <= 0)
        {
            return;
        }
        // Invalidate before publishing, so a page refreshing on the notification reads the new rows.
        query.Invalidate();
        hub.Publish(new BountiesFound(count));
    }
}
