using System.Globalization;
using Decnet.Core.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Decnet.Core.Events;

namespace Decnet.Core.Ingest.Storage;

/// <summary>
/// SQLite: one prepared INSERT per row inside the batch's transaction (SQLite runs in process, so a
/// statement is a function call, not a round trip), ON CONFLICT DO NOTHING on the unique keys.
/// </summary>
internal sealed class SqliteIngestStore(IDbContextFactory<DecnetDbContext> dbFactory) : IngestStore
{
    private const string InsertSql = """
        INSERT INTO logs ("Timestamp", "Decky", "Service", "EventType", "AttackerIp", "RawLine", "Fields", "Msg", "TraceId", "SpanId", "EventKey")
        VALUES ($timestamp, $decky, $service, $eventType, $attackerIp, $rawLine, $fields, $msg, $traceId, $spanId, $eventKey)
        ON CONFLICT("EventKey") DO NOTHING
        """;

    // The unique DedupKey index makes the same bounty (type, attacker, payload) a no-op the second time.
    private const string BountySql = """
        INSERT INTO bounty ("Timestamp", "Decky", "Service", "AttackerIp", "BountyType", "Payload", "DedupKey")
        VALUES ($timestamp, $decky, $service, $attackerIp, $bountyType, $payload, $dedupKey)
        ON CONFLICT("DedupKey") DO NOTHING
        """;

    // The position of a durable source moves with the rows it produced, in the same transaction.
    private const string CursorSql = """
        INSERT INTO pipeline_cursors ("Name", "Position", "Detail", "UpdatedAt") VALUES ($name, $position, $detail, $updatedAt)
        ON CONFLICT("Name") DO UPDATE SET "Position" = excluded."Position", "Detail" = excluded."Detail", "UpdatedAt" = excluded."UpdatedAt"
        """;

    internal override async Task<StoredBatch> StoreAsync(
        IReadOnlyList<IngestRow> rows, IReadOnlyCollection<SourcePosition> positions, string? traceId, string? spanId, DateTime nowUtc, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        // Opening through EF applies the same per-connection pragmas (busy timeout, synchronous) as the rest.
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var inserted = InsertLogs(connection, transaction, rows, traceId, spanId);
        long lastId = 0;
        if (inserted.Count > 0)
        {
            using var idCommand = connection.CreateCommand();
            idCommand.Transaction = transaction;
            idCommand.CommandText = "SELECT last_insert_rowid()";
            lastId = (long)(idCommand.ExecuteScalar() ?? 0L);
        }
        // After last_insert_rowid (bounty inserts would move it), in the same transaction as the logs.
        var bounties = InsertBounties(connection, transaction, BountiesOf(rows, inserted));
        if (positions.Count > 0)
        {
            WritePositions(connection, transaction, positions, nowUtc);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new StoredBatch(inserted, lastId, bounties);
    }

    /// <summary>
    /// Synchronous on purpose: Microsoft.Data.Sqlite's async methods run synchronously anyway, and the
    /// per-row Task they allocate was measurable at tens of thousands of rows a second.
    /// </summary>
    private static List<int> InsertLogs(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<IngestRow> rows, string? traceId, string? spanId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = InsertSql;
        var timestamp = command.Parameters.Add("$timestamp", SqliteType.Text);
        var decky = command.Parameters.Add("$decky", SqliteType.Text);
        var service = command.Parameters.Add("$service", SqliteType.Text);
        var eventType = command.Parameters.Add("$eventType", SqliteType.Text);
        var attackerIp = command.Parameters.Add("$attackerIp", SqliteType.Text);
        var rawLine = command.Parameters.Add("$rawLine", SqliteType.Text);
        var fields = command.Parameters.Add("$fields", SqliteType.Text);
        var msg = command.Parameters.Add("$msg", SqliteType.Text);
        command.Parameters.Add("$traceId", SqliteType.Text).Value = (object?)traceId ?? DBNull.Value;
        command.Parameters.Add("$spanId", SqliteType.Text).Value = (object?)spanId ?? DBNull.Value;
        var eventKey = command.Parameters.Add("$eventKey", SqliteType.Text);
        command.Prepare();

        var inserted = new List<int>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var parsed = row.Event;
            timestamp.Value = row.Timestamp;
            decky.Value = parsed.Decky;
            service.Value = parsed.Service;
            eventType.Value = parsed.EventType;
            attackerIp.Value = (object?)parsed.AttackerIp ?? DBNull.Value;
            rawLine.Value = parsed.RawLine;
            fields.Value = row.Fields;
            msg.Value = (object?)parsed.Message ?? DBNull.Value;
            eventKey.Value = row.EventKey;
            if (command.ExecuteNonQuery() == 1)
            {
                inserted.Add(i);
            }
        }
        return inserted;
    }

    private static int InsertBounties(SqliteConnection connection, SqliteTransaction transaction, List<Bounty.ExtractedBounty> found)
    {
        if (found.Count == 0)
        {
            return 0;
        }
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = BountySql;
        var timestamp = command.Parameters.Add("$timestamp", SqliteType.Text);
        var decky = command.Parameters.Add("$decky", SqliteType.Text);
        var service = command.Parameters.Add("$service", SqliteType.Text);
        var attackerIp = command.Parameters.Add("$attackerIp", SqliteType.Text);
        var bountyType = command.Parameters.Add("$bountyType", SqliteType.Text);
        var payload = command.Parameters.Add("$payload", SqliteType.Text);
        var dedupKey = command.Parameters.Add("$dedupKey", SqliteType.Text);
        command.Prepare();
        var inserted = 0;
        foreach (var bounty in found)
        {
            // The text format EF uses for DateTime columns, so EF queries sort and compare these rows.
            timestamp.Value = bounty.TimestampUtc.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
            decky.Value = bounty.Decky;
            service.Value = bounty.Service;
            attackerIp.Value = (object?)bounty.AttackerIp ?? DBNull.Value;
            bountyType.Value = bounty.BountyType;
            payload.Value = bounty.Payload;
            dedupKey.Value = bounty.DedupKey;
            inserted += command.ExecuteNonQuery();
        }
        return inserted;
    }

    private static void WritePositions(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyCollection<SourcePosition> positions, DateTime nowUtc)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = CursorSql;
        var name = command.Parameters.Add("$name", SqliteType.Text);
        var position = command.Parameters.Add("$position", SqliteType.Integer);
        var detail = command.Parameters.Add("$detail", SqliteType.Text);
        command.Parameters.Add("$updatedAt", SqliteType.Text).Value = nowUtc.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
        foreach (var p in positions)
        {
            name.Value = p.Cursor;
            position.Value = p.Offset;
            detail.Value = (object?)p.Detail ?? DBNull.Value;
            command.ExecuteNonQuery();
        }
    }
}
