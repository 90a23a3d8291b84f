using System.Text;
using Decnet.Core.Bounty;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Events;

/// <summary>
/// In-process events are taken apart from their fields instead of parsing the line just formatted from
/// them: the event read that way is the one the parser reads from the line, for every awkward value.
/// </summary>
[Trait("Category", TestCategories.Unit)]
public sealed class InProcessEventTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(2026)]
    public void Reading_the_event_gives_what_parsing_its_line_gives(int seed)
    {
        var random = new Random(seed);
        foreach (var honeypotEvent in StructuredIngest.OddEvents().Concat(Enumerable.Range(0, 500).Select(_ => StructuredIngest.RandomEvent(random, storable: false))))
        {
            var line = Rfc5424Formatter.Format(honeypotEvent);
            var parsed = Rfc5424Parser.Parse(line);
            var read = InProcessEvent.Read(honeypotEvent, line);
            if (line.Length > Rfc5424Parser.MaxLineLength)
            {
                Assert.Null(read);
                continue;
            }
            Assert.True(parsed.Succeeded, $"{parsed.Error}: {line}");
            Assert.NotNull(read);
            var expected = parsed.Event!;
            Assert.Equal(expected.TimestampUtc, read.TimestampUtc);
            Assert.Equal(expected.TimestampUtc.Kind, read.TimestampUtc.Kind);
            Assert.Equal(
                (expected.Priority, expected.Decky, expected.Service, expected.ProcId, expected.EventType, expected.Message, expected.AttackerIp, expected.RawLine),
                (read.Priority, read.Decky, read.Service, read.ProcId, read.EventType, read.Message, read.AttackerIp, read.RawLine));
            Assert.Equal(expected.Fields, read.Fields);
        }
    }

    [Fact]
    public void A_line_longer_than_the_parser_keeps_goes_through_the_parser()
    {
        var huge = new HoneypotEvent(DateTimeOffset.UnixEpoch, "d", "s", "t",
            [.. Enumerable.Range(0, 10).Select(i => new KeyValuePair<string, string>($"f{i}", new string('\u0001', 8192)))]);
        var line = Rfc5424Formatter.Format(huge);

        Assert.True(line.Length > Rfc5424Parser.MaxLineLength);
        Assert.Null(InProcessEvent.Read(huge, line));
    }
}

/// <summary>
/// The same events stored both ways, taken apart (the in-process channel) and as their lines (the path
/// of containers and spools), on two databases: every column of every row, and the bounties, are the same.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public abstract class StructuredIngestTests(StorageProvider provider)
{
    public sealed class OnSqlite() : StructuredIngestTests(StorageProvider.Sqlite);

    public sealed class OnPostgres() : StructuredIngestTests(StorageProvider.Postgres);

    [Fact]
    public async Task Events_taken_apart_and_the_same_events_parsed_from_their_lines_store_identical_rows()
    {
        var random = new Random(5424);
        var events = StructuredIngest.OddEvents().Concat(Enumerable.Range(0, 300).Select(_ => StructuredIngest.RandomEvent(random))).ToList();
        var cancellation = TestContext.Current.CancellationToken;

        await using var structured = await CoreTestBed.StartAsync(provider);
        await using var lines = await CoreTestBed.StartAsync(provider);

        // The real in-process path: published on the channel, drained by the ingester's own loop.
        var ingester = structured.Services.GetRequiredService<EventIngester>();
        using var stop = new CancellationTokenSource();
        var running = ingester.RunAsync(stop.Token);
        var sink = structured.Services.GetRequiredService<ChannelEventSink>();
        foreach (var honeypotEvent in events)
        {
            sink.Publish(honeypotEvent);
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ingester.Counters.Ingested + ingester.Counters.Malformed < events.Count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"ingest did not finish: {ingester.Counters}");
            await Task.Delay(20, cancellation);
        }
        await stop.CancelAsync();
        await running;

        var asLines = events.Select(e => new IngestLine(Rfc5424Formatter.Format(e), e.Id.ToString("N", System.Globalization.CultureInfo.InvariantCulture))).ToList();
        await lines.Services.GetRequiredService<EventIngester>().WriteBatchAsync(asLines, cancellation);

        var (structuredLogs, structuredBounties) = await RowsAsync(structured);
        var (lineLogs, lineBounties) = await RowsAsync(lines);
        Assert.True(structuredLogs.Count > events.Count / 2, $"only {structuredLogs.Count} rows stored");
        Assert.Contains(structuredBounties, b => b.BountyType == BountyExtractor.Credential);
        Assert.Equal(lineLogs.Count, structuredLogs.Count);
        for (var i = 0; i < lineLogs.Count; i++)
        {
            var (a, b) = (structuredLogs[i], lineLogs[i]);
            Assert.Equal(
                (b.Id, b.Timestamp, b.Decky, b.Service, b.EventType, b.AttackerIp, b.RawLine, b.Fields, b.Msg, b.EventKey),
                (a.Id, a.Timestamp, a.Decky, a.Service, a.EventType, a.AttackerIp, a.RawLine, a.Fields, a.Msg, a.EventKey));
            // Trace and span ids name the batch's span: random by nature, and set only while something listens to
            // our activity source (another test's master process may start or stop listening between the two
            // ingests), so each row has both or neither rather than the same as the other path's row.
            Assert.Equal(a.TraceId is null, a.SpanId is null);
            Assert.Equal(b.TraceId is null, b.SpanId is null);
        }
        Assert.Equal(lineBounties.Count, structuredBounties.Count);
        for (var i = 0; i < lineBounties.Count; i++)
        {
            var (a, b) = (structuredBounties[i], lineBounties[i]);
            Assert.Equal(
                (b.Id, b.Timestamp, b.Decky, b.Service, b.AttackerIp, b.BountyType, b.Payload, b.DedupKey),
                (a.Id, a.Timestamp, a.Decky, a.Service, a.AttackerIp, a.BountyType, a.Payload, a.DedupKey));
        }
        // The line too long to keep is rejected either way, and counted as malformed once.
        Assert.Equal(1, ingester.Counters.Malformed);
        Assert.Equal(1, lines.Services.GetRequiredService<EventIngester>().Counters.Malformed);

        // Replaying the same occurrences the other way adds nothing: the keys are the same.
        Assert.Equal(0, await lines.Services.GetRequiredService<EventIngester>().WriteEventsAsync(events, cancellation));
    }

    private static async Task<(List<LogEntry> Logs, List<BountyRecord> Bounties)> RowsAsync(CoreTestBed bed)
    {
        await using var db = await bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        return (await db.Logs.AsNoTracking().OrderBy(l => l.Id).ToListAsync(), await db.Bounties.AsNoTracking().OrderBy(b => b.Id).ToListAsync());
    }
}

/// <summary>Events with every value the line has to escape, cut, flatten or drop.</summary>
internal static class StructuredIngest
{
    private static readonly string[] s_pieces =
    [
        "a", "Z", "0", " ", "=", "\"", "\\", "]", "[", "\n", "\r", "\t", "\u0001", "\u001f", "\u007f", "\u0085",
        "\\n", "\\x41", "\\\"", "\\]", "é", "漢字", "🐍", "\uFEFF", "-", "'", "{}", "src_ip=1.2.3.4", "ip=\"10.0.0.9\"",
    ];

    /// <summary>What no database column takes (NUL, half a surrogate pair): only for the comparison without one.</summary>
    private static readonly string[] s_unstorable = ["\u0000", "\ud83d", "\udc0d"];

    private static readonly DateTimeOffset s_when = new(2026, 4, 18, 10, 0, 0, TimeSpan.Zero);

    public static IEnumerable<HoneypotEvent> OddEvents()
    {
        var longValue = string.Concat(Enumerable.Repeat("ab\"]\\é", 2000));
        yield return Ssh("root", "pw\"with]quotes\\and\\backslashes");
        yield return Ssh("", "");
        yield return Ssh("ünïcödé-用户", "пароль🐍");
        yield return Ssh("admin", longValue);
        yield return Ssh("admin", new string('x', Rfc5424Formatter.MaxParamValueLength - 1) + "🐍");
        yield return new HoneypotEvent(s_when.AddTicks(1234567), "-", "-", "-", [], "-");
        yield return new HoneypotEvent(s_when.ToOffset(TimeSpan.FromHours(5.5)).AddTicks(9), "", "", "", [new("", "empty name"), new("a b=c]d\"e", "odd name")], "");
        yield return new HoneypotEvent(s_when, "décky with spaces\tand\u00ff", new string('s', 100), new string('t', 40), [new("src_ip", "  "), new("src", "203.0.113.5"), new("src", "dup")], "\uFEFF");
        yield return new HoneypotEvent(s_when, "decky", "http", "request", [new("path", "/a\r\nb\u0001c\u007f")], "\uFEFFmessage with a BOM and remote_addr=198.51.100.77\r\nsecond line\u0000");
        yield return new HoneypotEvent(s_when, "decky", "http", "request", [new("body", longValue + longValue)], new string('m', Rfc5424Formatter.MaxMessageLength + 100), EventSeverity.Warning);
        yield return new HoneypotEvent(s_when, "decky", "http", "request", [new("nullish", null!)], "   ", EventSeverity.Notice);
        // Longer than the parser keeps: rejected as malformed either way.
        yield return new HoneypotEvent(s_when, "decky", "http", "request",
            [.. Enumerable.Range(0, 10).Select(i => new KeyValuePair<string, string>($"f{i}", new string('\u0001', 8192)))]);
    }

    public static HoneypotEvent RandomEvent(Random random, bool storable = true)
    {
        var fields = new List<KeyValuePair<string, string>>();
        var count = random.Next(0, 7);
        for (var i = 0; i < count; i++)
        {
            var name = random.Next(3) == 0 ? (random.Next(2) == 0 ? "src_ip" : "password") : Text(random, 8, storable);
            fields.Add(new(name, Text(random, 30, storable)));
        }
        var severities = Enum.GetValues<EventSeverity>();
        return new HoneypotEvent(
            new DateTimeOffset(random.NextInt64(DateTime.UnixEpoch.Ticks, new DateTime(2100, 1, 1).Ticks), TimeSpan.FromMinutes(random.Next(-720, 841))),
            Text(random, 6, storable), random.Next(2) == 0 ? "ssh" : Text(random, 4, storable), random.Next(2) == 0 ? "auth" : Text(random, 4, storable),
            fields,
            random.Next(4) == 0 ? null : Text(random, 20, storable),
            severities[random.Next(severities.Length)]);
    }

    private static HoneypotEvent Ssh(string username, string password) =>
        new(s_when, "decky-1", "ssh", "auth", [new("src_ip", "198.51.100.7"), new("username", username), new("password", password)]);

    private static string Text(Random random, int maxPieces, bool storable)
    {
        var text = new StringBuilder();
        var pieces = random.Next(0, maxPieces);
        var unstorable = storable ? 0 : s_unstorable.Length;
        for (var i = 0; i < pieces; i++)
        {
            var pick = random.Next(s_pieces.Length + unstorable);
            text.Append(pick < s_pieces.Length ? s_pieces[pick] : s_unstorable[pick - s_pieces.Length]);
        }
        return text.ToString();
    }
}
