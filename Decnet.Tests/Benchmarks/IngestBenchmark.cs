using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// Ingest: rows per second from RFC 5424 lines to committed rows through <see cref="EventIngester"/>
/// (parse, fields JSON, idempotency key, bounty extraction and insert, SIEM files, notification), next to
/// raw batched Microsoft.Data.Sqlite inserts of the same, already computed rows (prepared command,
/// 1,000-row transactions) into the same migrated schema with the same indexes, in the same run.
/// Each measurement gets a fresh database; the two alternate so load drift hits both.
/// </summary>
[Collection(BenchmarkCollection.Name)]
public sealed class IngestBenchmark(ITestOutputHelper output)
{
    private const string RawInsertSql = """
        INSERT INTO logs (Timestamp, Decky, Service, EventType, AttackerIp, RawLine, Fields, Msg, TraceId, SpanId, EventKey)
        VALUES ($timestamp, $decky, $service, $eventType, $attackerIp, $rawLine, $fields, $msg, NULL, NULL, $eventKey)
        """;

    private sealed record Row(string Timestamp, string Decky, string Service, string EventType, string? AttackerIp, string RawLine, string Fields, string? Msg, string EventKey);

    [Fact]
    [Trait("Category", "Benchmark")]
    public async Task Ingest_rows_per_second_vs_raw_batched_sqlite_inserts()
    {
        var report = new BenchmarkReport(output, "ingest");
        report.Machine();
        var count = int.TryParse(Environment.GetEnvironmentVariable("DECNET_BENCH_INGEST_ROWS"), out var configured) ? configured : 300_000;
        var lines = Lines(count);
        var rows = lines.Select(Precompute).ToArray();
        report.Line($"{count} lines, {lines.Sum(l => (long)l.RawLine.Length) / count} characters on average; mix: ssh auth with credentials, http requests with user agents, redis commands, connects");

        var raw = new List<double>();
        var ingest = new List<double>();
        for (var round = 1; round <= 2; round++)
        {
            raw.Add(await RawAsync(rows));
            report.Line(string.Create(CultureInfo.InvariantCulture, $"round {round}: raw {raw[^1]:0} rows/s"));
            var (rate, bounties) = await IngestAsync(lines);
            ingest.Add(rate);
            report.Line(string.Create(CultureInfo.InvariantCulture, $"round {round}: EventIngester {rate:0} rows/s (and {bounties} bounty rows in the same transactions)"));
        }
        report.Figure("best of 2, RFC 5424 line to committed row", ingest.Max(), "rows/s", "raw prepared inserts, 1,000-row transactions", raw.Max());
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
            parsed.TimestampUtc.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
            parsed.Decky, parsed.Service, parsed.EventType, parsed.AttackerIp, parsed.RawLine,
            EventIngester.FieldsJson(parsed.Fields), parsed.Message, EventIngester.EventKey(line));
    }

    private static async Task<double> RawAsync(Row[] rows)
    {
        await using var bed = await CoreTestBed.StartAsync();
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
        for (var offset = 0; offset < rows.Length; offset += 1000)
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
            foreach (var row in new ArraySegment<Row>(rows, offset, Math.Min(1000, rows.Length - offset)))
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
        Assert.Equal(rows.Length, await CountAsync(connection));
        return rows.Length / clock.Elapsed.TotalSeconds;
    }

    private static async Task<(double Rate, long Bounties)> IngestAsync(IngestLine[] lines)
    {
        await using var bed = await CoreTestBed.StartAsync();
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
        Assert.Null(ingester.Counters.LastError);
        var storage = bed.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = storage.DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        Assert.Equal(lines.Length, await CountAsync(connection));
        return (lines.Length / clock.Elapsed.TotalSeconds, await CountAsync(connection, "SELECT COUNT(*) FROM bounty"));
    }

    private static async Task<long> CountAsync(SqliteConnection connection, string sql = "SELECT COUNT(*) FROM logs")
    {
        await using var command = connection.CreateCommand();
#pragma warning disable CA2100 // only the literal queries of this class
        command.CommandText = sql;
#pragma warning restore CA2100
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
