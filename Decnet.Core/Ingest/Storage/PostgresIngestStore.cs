using Decnet.Core.Bounty;
using Npgsql;
using NpgsqlTypes;
using Decnet.Core.Events;

namespace Decnet.Core.Ingest.Storage;

/// <summary>
/// PostgreSQL: each table gets one statement per batch, the rows travel as arrays and <c>unnest</c> turns
/// them back into rows, so a 500-row batch is three round trips (logs, bounties + positions, commit)
/// instead of five hundred. <c>RETURNING</c> names the rows that were new (ON CONFLICT DO NOTHING
/// returns nothing for a replayed key).
/// </summary>
internal sealed class PostgresIngestStore(NpgsqlDataSource dataSource) : IngestStore
{
    private const string InsertSql = """
        INSERT INTO logs ("Timestamp", "Decky", "Service", "EventType", "AttackerIp", "RawLine", "Fields", "Msg", "TraceId", "SpanId", "EventKey")
        SELECT r.ts, r.decky, r.service, r.event_type, r.attacker_ip, r.raw_line, r.fields::json, r.msg, @trace_id, @span_id, r.event_key
        FROM unnest(@ts, @decky, @service, @event_type, @attacker_ip, @raw_line, @fields, @msg, @event_key)
            AS r(ts, decky, service, event_type, attacker_ip, raw_line, fields, msg, event_key)
        ON CONFLICT ("EventKey") DO NOTHING
        RETURNING "Id", "EventKey"
        """;

    private const string BountySql = """
        INSERT INTO bounty ("Timestamp", "Decky", "Service", "AttackerIp", "BountyType", "Payload", "DedupKey")
        SELECT * FROM unnest(@ts, @decky, @service, @attacker_ip, @bounty_type, @payload, @dedup_key)
        ON CONFLICT ("DedupKey") DO NOTHING
        """;

    private const string CursorSql = """
        INSERT INTO pipeline_cursors ("Name", "Position", "Detail", "UpdatedAt")
        SELECT *, @updated_at FROM unnest(@name, @position, @detail)
        ON CONFLICT ("Name") DO UPDATE SET "Position" = excluded."Position", "Detail" = excluded."Detail", "UpdatedAt" = excluded."UpdatedAt"
        """;

    internal override async Task<StoredBatch> StoreAsync(
        IReadOnlyList<IngestRow> rows, IReadOnlyCollection<SourcePosition> positions, string? traceId, string? spanId, DateTime nowUtc, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        var inserted = new List<int>(rows.Count);
        long lastId = 0;
        if (rows.Count > 0)
        {
            await using var command = new NpgsqlCommand(InsertSql, connection, transaction);
            var count = rows.Count;
            var ts = new DateTime[count];
            var decky = new string[count];
            var service = new string[count];
            var eventType = new string[count];
            var attackerIp = new string?[count];
            var rawLine = new string[count];
            var fields = new string[count];
            var msg = new string?[count];
            var eventKey = new string[count];
            var byKey = new Dictionary<string, int>(count, StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var row = rows[i];
                ts[i] = DateTime.SpecifyKind(row.Event.TimestampUtc, DateTimeKind.Utc);
                decky[i] = row.Event.Decky;
                service[i] = row.Event.Service;
                eventType[i] = row.Event.EventType;
                attackerIp[i] = row.Event.AttackerIp;
                rawLine[i] = row.Event.RawLine;
                fields[i] = row.Fields;
                msg[i] = row.Event.Message;
                eventKey[i] = row.EventKey;
                // A key twice in one batch is one row: the first occurrence is the one stored.
                byKey.TryAdd(row.EventKey, i);
            }
            Add(command, "ts", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, ts);
            Add(command, "decky", NpgsqlDbType.Array | NpgsqlDbType.Text, decky);
            Add(command, "service", NpgsqlDbType.Array | NpgsqlDbType.Text, service);
            Add(command, "event_type", NpgsqlDbType.Array | NpgsqlDbType.Text, eventType);
            Add(command, "attacker_ip", NpgsqlDbType.Array | NpgsqlDbType.Text, attackerIp);
            Add(command, "raw_line", NpgsqlDbType.Array | NpgsqlDbType.Text, rawLine);
            Add(command, "fields", NpgsqlDbType.Array | NpgsqlDbType.Text, fields);
            Add(command, "msg", NpgsqlDbType.Array | NpgsqlDbType.Text, msg);
            Add(command, "event_key", NpgsqlDbType.Array | NpgsqlDbType.Text, eventKey);
            Add(command, "trace_id", NpgsqlDbType.Text, (object?)traceId ?? DBNull.Value);
            Add(command, "span_id", NpgsqlDbType.Text, (object?)spanId ?? DBNull.Value);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                lastId = Math.Max(lastId, reader.GetInt64(0));
                inserted.Add(byKey[reader.GetString(1)]);
            }
        }
        // RETURNING gives no order guarantee; the notification and the SIEM files keep the batch's order.
        inserted.Sort();

        var found = BountiesOf(rows, inserted);
        var batch = new NpgsqlBatch(connection, transaction);
        await using (batch.ConfigureAwait(false))
        {
            NpgsqlBatchCommand? bountyCommand = null;
            if (found.Count > 0)
            {
                bountyCommand = new NpgsqlBatchCommand(BountySql);
                Add(bountyCommand, "ts", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, found.Select(b => DateTime.SpecifyKind(b.TimestampUtc, DateTimeKind.Utc)).ToArray());
                Add(bountyCommand, "decky", NpgsqlDbType.Array | NpgsqlDbType.Text, found.Select(b => b.Decky).ToArray());
                Add(bountyCommand, "service", NpgsqlDbType.Array | NpgsqlDbType.Text, found.Select(b => b.Service).ToArray());
                Add(bountyCommand, "attacker_ip", NpgsqlDbType.Array | NpgsqlDbType.Text, found.Select(b => b.AttackerIp).ToArray());
                Add(bountyCommand, "bounty_type", NpgsqlDbType.Array | NpgsqlDbType.Text, found.Select(b => b.BountyType).ToArray());
                Add(bountyCommand, "payload", NpgsqlDbType.Array | NpgsqlDbType.Text, found.Select(b => b.Payload).ToArray());
                Add(bountyCommand, "dedup_key", NpgsqlDbType.Array | NpgsqlDbType.Text, found.Select(b => b.DedupKey).ToArray());
                batch.BatchCommands.Add(bountyCommand);
            }
            if (positions.Count > 0)
            {
                var cursor = new NpgsqlBatchCommand(CursorSql);
                Add(cursor, "name", NpgsqlDbType.Array | NpgsqlDbType.Text, positions.Select(p => p.Cursor).ToArray());
                Add(cursor, "position", NpgsqlDbType.Array | NpgsqlDbType.Bigint, positions.Select(p => p.Offset).ToArray());
                Add(cursor, "detail", NpgsqlDbType.Array | NpgsqlDbType.Text, positions.Select(p => p.Detail).ToArray());
                Add(cursor, "updated_at", NpgsqlDbType.TimestampTz, DateTime.SpecifyKind(nowUtc, DateTimeKind.Utc));
                batch.BatchCommands.Add(cursor);
            }
            if (batch.BatchCommands.Count > 0)
            {
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            var bounties = bountyCommand?.RecordsAffected ?? 0;
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new StoredBatch(inserted, lastId, bounties);
        }
    }

    private static void Add(NpgsqlCommand command, string name, NpgsqlDbType type, object value) =>
        command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value });

    private static void Add(NpgsqlBatchCommand command, string name, NpgsqlDbType type, object value) =>
        command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value });
}
