using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Decnet.Core.Events;
using Decnet.Core.Ingest;

namespace Decnet.Tests.Events;

/// <summary>
/// The per-row values the ingest computes without allocating per row (idempotency key, fields JSON, SIEM
/// record) are exactly what the plain computation gives: rows stored before keep matching their replays.
/// </summary>
public sealed class IngestRowValuesTests
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly (string Raw, string Source)[] Lines =
    [
        ("<134>1 2026-04-18T10:00:00Z decky-01 ssh - auth [relay@55555 src_ip=\"203.0.113.9\"]", "0f3c"),
        ("<134>1 2026-04-18T10:00:00Z décky ssh - auth - mot de passe « été » 日本語", "id-é"),
        // A lone high surrogate at the end of the line: U+FFFD, whether encoded alone or joined.
        ("line ending in a lone surrogate \uD83D", "\uDE00 then the id"),
        ("", ""),
        // Longer than the stack buffer: the pooled path.
        (new string('x', 70_000) + "ü", "long"),
    ];

    [Fact]
    public void The_event_key_is_the_sha256_of_the_line_a_newline_and_the_source_id()
    {
        foreach (var (raw, source) in Lines)
        {
            var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(raw + "\n" + source)));

            Assert.Equal(expected, EventIngester.EventKey(new IngestLine(raw, source)));
        }
        Assert.Equal(Lines.Length, Lines.Select(l => EventIngester.EventKey(new IngestLine(l.Raw, l.Source))).Distinct().Count());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(40)]
    public void Fields_json_keeps_the_first_value_of_a_repeated_name(int count)
    {
        var fields = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < count; i++)
        {
            fields.Add(new($"k{i % (count - 1)}", $"v{i} \"é\" <{i}>"));
        }
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in fields)
        {
            expected.TryAdd(key, value);
        }

        Assert.Equal(JsonSerializer.Serialize(expected, Relaxed), EventIngester.FieldsJson(fields));
        Assert.Equal("{}", EventIngester.FieldsJson([]));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(40)]
    public void The_siem_record_keeps_each_name_where_it_first_appears_with_its_last_value(int count)
    {
        var fields = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < count; i++)
        {
            fields.Add(new($"k{i % (count - 1)}", $"v{i}\n"));
        }
        var e = new ParsedEvent(new DateTime(2026, 4, 18, 10, 0, 0, 123, DateTimeKind.Utc), 134, "decky-01", "ssh", "-", "auth", fields, "msg", "203.0.113.9", "raw line");

        var record = JsonDocument.Parse(SiemFiles.JsonLine(e)).RootElement;

        Assert.Equal("2026-04-18T10:00:00.1230000Z", record.GetProperty("timestamp").GetString());
        var stored = record.GetProperty("fields").EnumerateObject().Select(p => (p.Name, p.Value.GetString())).ToList();
        Assert.Equal(count - 1, stored.Count);
        Assert.Equal(("k0", $"v{count - 1}\n"), stored[0]);
        Assert.Equal(("k1", "v1\n"), stored[1]);
        Assert.Equal("raw line", record.GetProperty("raw_line").GetString());
    }

    [Fact]
    public void A_long_text_leaves_nothing_behind_for_the_next_one_on_the_same_thread()
    {
        var big = EventIngester.FieldsJson([new("payload", new string('A', 200_000))]);
        var small = EventIngester.FieldsJson([new("user", "root")]);

        Assert.Equal(200_014, big.Length);
        Assert.Equal("{\"user\":\"root\"}", small);
    }
}
