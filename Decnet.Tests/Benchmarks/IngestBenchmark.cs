using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// Ingest: rows per second from RFC 5424 lines to committed rows through <see cref="EventIngester"/>
/// (parse, fields JSON, idempotency key, bounty extraction and insert, SIEM files, notification), next to
/// raw prepared per-row inserts of the same, already computed rows (1,000-row transactions, and for
/// transparency also 2,000-row ones, the ingester's largest batch) into the same
/// migrated schema with the same indexes, in the same run, on SQLite and on PostgreSQL. On PostgreSQL a
/// second reference is COPY (binary), the fastest way in. Each measurement gets a fresh database; the
/// measurements alternate so load drift hits both. Every run checks 0 loss and 0 duplicates: exactly the
/// lines' idempotency keys are stored, each once.
/// </summary>
[Collection(BenchmarkCollection.Name)]
public sealed class IngestBenchmark(ITestOutputHelper output)
{
    private const double Target = 0.80;

    private const string RawInsertSql = """
        INSERT INTO logs ("Timestamp", "Decky", "Service", "EventType", "AttackerIp", "RawLine", "Fields", "Msg", "TraceId", "SpanId", "EventKey")
        VALUES ($timestamp, $decky, $service, $eventType, $attackerIp, $rawLine, $fields, $msg, NULL, NULL, $eventKey)
        """;

    private const string PostgresInsertSql = """
        INSERT INTO logs ("Timestamp", "Decky", "Service", "EventType", "AttackerIp", "RawLine", "Fields", "Msg", "TraceId", "SpanId", "EventKey")
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9)
        """;

    private sealed record Row(DateTime TimestampUtc, string Timestamp, string Decky, string Service, string EventType, string? AttackerIp, string RawLine, string Fields, string? Msg, string EventKey);

    [Theory]
    [InlineData(StorageProvider.Sqlite)]
    [InlineData(StorageProvider.Postgres)]
    [Trait("Category", "Benchmark")]
    public async Task Ingest_rows_per_second_vs_raw_prepared_inserts(StorageProvider provider)
    {
        var report = new BenchmarkReport(output, $"ingest ({provider})");
        report.Machine();
        var count = int.TryParse(Environment.GetEnvironmentVariable("DECNET_BENCH_INGEST_ROWS"), out var configured) ? configured : 300_000;
        var lines = Lines(count);
        var rows = lines.Select(Precompute).ToArray();
        var keys = rows.Select(r => r.EventKey).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(count, keys.Count);
        report.Line($"{count} lines, {lines.Sum(l => (long)l.RawLine.Length) / count} characters on average; mix: ssh auth with credentials, http requests with user agents, redis commands, connects");

        PostgresServer? server = null;
        if (provider == StorageProvider.Postgres)
        {
            // Its own server with PostgreSQL's stock durability (fsync, synchronous commit), not the tests' fsync-off one.
            server = await PostgresServer.StartDurableAsync();
            server.Require();
        }
        try
        {
            var raw = new List<double>();
            var raw2000 = new List<double>();
            var copy = new List<double>();
            var ingest = new List<double>();
            for (var round = 1; round <= 2; round++)
            {
                raw.Add(await RawAsync(provider, server, rows, keys, 1000));
                report.Line(string.Create(CultureInfo.InvariantCulture, $"round {round}: raw prepared inserts {raw[^1]:0} rows/s"));
                // The ingester's own transaction size under a backlog (EventIngester.MaxBatchRows), for transparency.
                raw2000.Add(await RawAsync(provider, server, rows, keys, EventIngester.MaxBatchRows));
                report.Line(string.Create(CultureInfo.InvariantCulture, $"round {round}: raw prepared inserts, {EventIngester.MaxBatchRows}-row transactions {raw2000[^1]:0} rows/s"));
                var (rate, bounties) = await IngestAsync(provider, server, lines, keys);
                ingest.Add(rate);
                report.Line(string.Create(CultureInfo.InvariantCulture, $"round {round}: EventIngester {rate:0} rows/s (and {bounties} bounty rows in the same transactions); 0 lost, 0 duplicated"));
                if (server is not null)
                {
                    copy.Add(await CopyAsync(server, rows, keys));
                    report.Line(string.Create(CultureInfo.InvariantCulture, $"round {round}: COPY binary {copy[^1]:0} rows/s"));
                }
            }
            report.Figure("best of 2, RFC 5424 line to committed row", ingest.Max(), "rows/s", "raw prepared inserts, 1,000-row transactions", raw.Max());
            report.Line(string.Create(CultureInfo.InvariantCulture, $"ratio {ingest.Max() / raw.Max():0.00}x against the target {Target:0.00}x: {(ingest.Max() / raw.Max() >= Target ? "met" : "NOT met")}"));
            report.Figure("best of 2, RFC 5424 line to committed row", ingest.Max(), "rows/s", $"raw prepared inserts, {EventIngester.MaxBatchRows:N0}-row transactions (the ingester's largest)", raw2000.Max());
            if (copy.Count > 0)
            {
                report.Figure("best of 2, RFC 5424 line to committed row", ingest.Max(), "rows/s", "COPY binary, one 300k-row transaction", copy.Max());
            }
        }
        finally
        {
            if (server is not null)
            {
                await server.StopAsync();
            }
        }
    }

    private static IngestLine[] Lines(int count)
    {
        var start = new DateTimeOffset(2026, 4, 18, 10, 0, 0, TimeSpan.Zero);
        string[] agents = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "curl/8.5.0", "python-requests/2.31.0", "Nmap Scripting Engine"];
        string[] paths = ["/", "/wp-login.php", "/.env", "/admin", "/phpmyadmin/index.php", "/cgi-bin/luci"];
        var lines = new IngestLine[count];
        for (var i = 0; i < count; i++)
        {
            // 500 attackers, each hitting every service: bounties repeat per attacker as they would.
            var attacker = i * 7919 % 500;
            var ip = $"203.0.{attacker / 250}.{attacker % 250 + 1}";
            var decky = $"decky-{i % 8:00}";
            var e = (i % 4) switch
            {
                0 => new HoneypotEvent(start.AddMilliseconds(i), decky, "ssh", "auth_attempt",
                    [new("src_ip", ip), new("src_port", "51234"), new("username", i % 3 == 0 ? "root" : "admin"), new("password", $"pass{i % 5000}"), new("success", "false")]),
                1 => new HoneypotEvent(start.AddMilliseconds(i), decky, "http", "request",
                    [new("src_ip", ip), new("src_port", "40112"), new("method", "GET"), new("path", paths[i % paths.Length]), new("user_agent", agents[i % agents.Length]), new("status", "404")]),
                2 => new HoneypotEvent(start.AddMilliseconds(i), decky, "redis", "command",
                    [new("src_ip", ip), new("src_port", "39001"), new("cmd", i % 2 == 0 ? "INFO" : "CONFIG GET dir"), new("args", "")]),
                _ => new HoneypotEvent(start.AddMilliseconds(i), decky, "ftp", "connect", [new("src_ip", ip), new("src_port", "40000")], "connection opened"),
            };
            lines[i] = new IngestLine(Rfc5424Formatter.Format(e), e.Id.ToString("N", CultureInfo.InvariantCulture));
        }
        return lines;
    }

    /// <summary>The exact values the ingester stores, computed before the raw measurement starts.</summary>
    private static Row Precompute(IngestLine line)
    {
        var parsed = Rfc5424Parser.Parse(line.RawLine).Event!;
        return new Row(
            DateTime.SpecifyKind(parsed.TimestampUtc, DateTimeKind.Utc),
            parsed.TimestampUtc.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
            parsed.Decky, parsed.Service, parsed.EventType, parsed.AttackerIp, parsed.RawLine,
            EventIngester.FieldsJson(parsed.Fields), parsed.Message, EventIngester.EventKey(line));
    }

    private static async Task<double> RawAsync(StorageProvider provider, PostgresServer? server, Row[] rows, HashSet<string> keys, int perTransaction)
    {
        await using var bed = await CoreTestBed.StartAsync(provider, server: server);
        if (provider == StorageProvider.Postgres)
        {
            return await RawPostgresAsync(bed.PostgresConnectionString!, rows, keys, perTransaction);
        }
        var storage = bed.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = storage.DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using (var pragmas = connection.CreateCommand())
        {
            // The same per-connection settings the application's connections get.
            pragmas.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
            await pragmas.ExecuteNonQueryAsync();
        }
        var clock = Stopwatch.StartNew();
        for (var offset = 0; offset < rows.Length; offset += perTransaction)
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = RawInsertSql;
            var timestamp = command.Parameters.Add("$timestamp", SqliteType.Text);
            var decky = command.Parameters.Add("$decky", SqliteType.Text);
            var service = command.Parameters.Add("$service", SqliteType.Text);
            var eventType = command.Parameters.Add("$eventType", SqliteType.Text);
            var attackerIp = command.Parameters.Add("$attackerIp", SqliteType.Text);
            var rawLine = command.Parameters.Add("$rawLine", SqliteType.Text);
            var fields = command.Parameters.Add("$fields", SqliteType.Text);
            var msg = command.Parameters.Add("$msg", SqliteType.Text);
            var eventKey = command.Parameters.Add("$eventKey", SqliteType.Text);
            await command.PrepareAsync();
            foreach (var row in new ArraySegment<Row>(rows, offset, Math.Min(perTransaction, rows.Length - offset)))
            {
                timestamp.Value = row.Timestamp;
                decky.Value = row.Decky;
                service.Value = row.Service;
                eventType.Value = row.EventType;
                attackerIp.Value = (object?)row.AttackerIp ?? DBNull.Value;
                rawLine.Value = row.RawLine;
                fields.Value = row.Fields;
                msg.Value = (object?)row.Msg ?? DBNull.Value;
                eventKey.Value = row.EventKey;
                await command.ExecuteNonQueryAsync();
            }
            await transaction.CommitAsync();
        }
        clock.Stop();
        await VerifyAsync(bed, keys);
        return rows.Length / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The same reference on PostgreSQL: one prepared INSERT per row (a round trip each), 1,000-row transactions.</summary>
    private static async Task<double> RawPostgresAsync(string connectionString, Row[] rows, HashSet<string> keys, int perTransaction)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var clock = Stopwatch.StartNew();
        for (var offset = 0; offset < rows.Length; offset += perTransaction)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using var command = new NpgsqlCommand(PostgresInsertSql, connection, transaction);
            var timestamp = command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz });
            var decky = command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
            var service = command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
            var eventType = command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
            var attackerIp = command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
            var rawLine = command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
            var fields = command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Json });
            var msg = command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
            var eventKey = command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
            await command.PrepareAsync();
            foreach (var row in new ArraySegment<Row>(rows, offset, Math.Min(perTransaction, rows.Length - offset)))
            {
                timestamp.Value = row.TimestampUtc;
                decky.Value = row.Decky;
                service.Value = row.Service;
                eventType.Value = row.EventType;
                attackerIp.Value = (object?)row.AttackerIp ?? DBNull.Value;
                rawLine.Value = row.RawLine;
                fields.Value = row.Fields;
                msg.Value = (object?)row.Msg ?? DBNull.Value;
                eventKey.Value = row.EventKey;
                await command.ExecuteNonQueryAsync();
            }
            await transaction.CommitAsync();
        }
        clock.Stop();
        await VerifyPostgresAsync(connection, keys);
        return rows.Length / clock.Elapsed.TotalSeconds;
    }

    /// <summary>COPY ... FROM STDIN (FORMAT BINARY) of the same rows into the same schema, one transaction.</summary>
    private static async Task<double> CopyAsync(PostgresServer server, Row[] rows, HashSet<string> keys)
    {
        await using var bed = await CoreTestBed.StartAsync(StorageProvider.Postgres, server: server);
        await using var connection = new NpgsqlConnection(bed.PostgresConnectionString);
        await connection.OpenAsync();
        var clock = Stopwatch.StartNew();
        await using (var importer = await connection.BeginBinaryImportAsync(
            "COPY logs (\"Timestamp\", \"Decky\", \"Service\", \"EventType\", \"AttackerIp\", \"RawLine\", \"Fields\", \"Msg\", \"EventKey\") FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in rows)
            {
                await importer.StartRowAsync();
                await importer.WriteAsync(row.TimestampUtc, NpgsqlDbType.TimestampTz);
                await importer.WriteAsync(row.Decky, NpgsqlDbType.Text);
                await importer.WriteAsync(row.Service, NpgsqlDbType.Text);
                await importer.WriteAsync(row.EventType, NpgsqlDbType.Text);
                await importer.WriteAsync(row.AttackerIp, NpgsqlDbType.Text);
                await importer.WriteAsync(row.RawLine, NpgsqlDbType.Text);
                await importer.WriteAsync(row.Fields, NpgsqlDbType.Json);
                await importer.WriteAsync(row.Msg, NpgsqlDbType.Text);
                await importer.WriteAsync(row.EventKey, NpgsqlDbType.Text);
            }
            await importer.CompleteAsync();
        }
        clock.Stop();
        await VerifyPostgresAsync(connection, keys);
        return rows.Length / clock.Elapsed.TotalSeconds;
    }

    private static async Task<(double Rate, long Bounties)> IngestAsync(StorageProvider provider, PostgresServer? server, IngestLine[] lines, HashSet<string> keys)
    {
        await using var bed = await CoreTestBed.StartAsync(provider, server: server);
        var ingester = bed.Services.GetRequiredService<EventIngester>();
        var channel = Channel.CreateUnbounded<IngestLine>(new UnboundedChannelOptions { SingleReader = true });
        foreach (var line in lines)
        {
            channel.Writer.TryWrite(line);
        }
        channel.Writer.Complete();

        var clock = Stopwatch.StartNew();
        await ingester.RunAsync(channel.Reader, CancellationToken.None);
        clock.Stop();

        Assert.Equal(lines.Length, ingester.Counters.Ingested);
        Assert.Equal(0, ingester.Counters.Duplicates);
        Assert.Null(ingester.Counters.LastError);
        await VerifyAsync(bed, keys);
        var bounties = await ScalarAsync(bed, "SELECT COUNT(*) FROM bounty");
        return (lines.Length / clock.Elapsed.TotalSeconds, bounties);
    }

    /// <summary>0 loss, 0 duplicates: the stored keys are exactly the lines' keys, each once.</summary>
    private static async Task VerifyAsync(CoreTestBed bed, HashSet<string> keys)
    {
        if (bed.PostgresConnectionString is { } postgres)
        {
            await using var connection = new NpgsqlConnection(postgres);
            await connection.OpenAsync();
            await VerifyPostgresAsync(connection, keys);
            return;
        }
        var storage = bed.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
        await using var sqlite = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = storage.DatabasePath, Pooling = false }.ToString());
        await sqlite.OpenAsync();
        await using var command = sqlite.CreateCommand();
        command.CommandText = "SELECT \"EventKey\" FROM logs";
        await using var reader = await command.ExecuteReaderAsync();
        await VerifyKeysAsync(reader, keys);
    }

    private static async Task VerifyPostgresAsync(NpgsqlConnection connection, HashSet<string> keys)
    {
        await using var command = new NpgsqlCommand("SELECT \"EventKey\" FROM logs", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await VerifyKeysAsync(reader, keys);
    }

    private static async Task VerifyKeysAsync(System.Data.Common.DbDataReader reader, HashSet<string> keys)
    {
        var seen = new HashSet<string>(keys.Count, StringComparer.Ordinal);
        var rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
            var key = reader.GetString(0);
            Assert.True(keys.Contains(key), "a stored row has a key no line had");
            Assert.True(seen.Add(key), "a line was stored twice");
        }
        Assert.Equal(keys.Count, rows);
    }

    private static async Task<long> ScalarAsync(CoreTestBed bed, string sql)
    {
#pragma warning disable CA2100 // only the literal queries of this class
        if (bed.PostgresConnectionString is { } postgres)
        {
            await using var connection = new NpgsqlConnection(postgres);
            await connection.OpenAsync();
            await using var query = new NpgsqlCommand(sql, connection);
            return Convert.ToInt64(await query.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        }
        var storage = bed.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
        await using var sqlite = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = storage.DatabasePath, Pooling = false }.ToString());
        await sqlite.OpenAsync();
        await using var command = sqlite.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
#pragma warning restore CA2100
    }
}
