using System.Text;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Events;

/// <summary>Property: for any event our formatter writes, the parser gives the same event back.</summary>
[Trait("Category", TestCategories.Unit)]
public sealed class FormatterRoundTripTests
{
    // Everything the escaping has to get right, plus multi-byte and surrogate-pair text.
    private static readonly string[] Pieces =
    [
        "a", "Z", "0", " ", "=", "\"", "\\", "]", "[", "\n", "\r", "\t", "\u0001", "\u001f", "\u007f",
        "\\n", "\\x41", "\\\"", "é", "漢字", "🐍", "-", "'", "{}", "src_ip=1.2.3.4",
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(42)]
    [InlineData(1337)]
    public void Parse_of_format_gives_back_decky_service_type_fields_and_message(int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < 400; i++)
        {
            var original = RandomEvent(random);
            var line = Rfc5424Formatter.Format(original);

            var result = Rfc5424Parser.Parse(line);

            Assert.True(result.Succeeded, $"seed {seed} #{i}: {result.Error} in {line}");
            var e = result.Event!;
            Assert.Equal(original.Decky, e.Decky);
            Assert.Equal(original.Service, e.Service);
            Assert.Equal(original.EventType, e.EventType);
            Assert.Equal(original.Fields, e.Fields);
            Assert.Equal(Flattened(original.Message), e.Message);
            Assert.Equal(TruncatedToMicroseconds(original.Timestamp.UtcDateTime), e.TimestampUtc);
            Assert.Equal(Rfc5424Formatter.Priority(original.Severity), e.Priority);
            Assert.Equal(line, e.RawLine);
            Assert.DoesNotContain('\n', line);
        }
    }

    private static HoneypotEvent RandomEvent(Random random)
    {
        var fields = new List<KeyValuePair<string, string>>();
        var count = random.Next(0, 6);
        for (var i = 0; i < count; i++)
        {
            fields.Add(new(RandomName(random, 32), RandomText(random, 40)));
        }
        var severities = Enum.GetValues<EventSeverity>();
        return new HoneypotEvent(
            new DateTimeOffset(random.NextInt64(DateTime.UnixEpoch.Ticks, new DateTime(2100, 1, 1).Ticks), TimeSpan.Zero),
            random.Next(10) == 0 ? string.Empty : RandomName(random, 63),
            RandomName(random, 48),
            RandomName(random, 32),
            fields,
            random.Next(4) == 0 ? null : RandomText(random, 80),
            severities[random.Next(severities.Length)]);
    }

    /// <summary>Header and SD names: printable ASCII the formatter keeps as is; never the bare NILVALUE.</summary>
    private static string RandomName(Random random, int maxLength)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@!#$%&'()*+,/;<>?^`{|}~[\\";
        var length = random.Next(1, maxLength + 1);
        var name = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            name.Append(alphabet[random.Next(alphabet.Length)]);
        }
        return name.ToString() == "-" ? "x" : name.ToString();
    }

    private static string RandomText(Random random, int maxPieces)
    {
        var text = new StringBuilder();
        var pieces = random.Next(0, maxPieces);
        for (var i = 0; i < pieces; i++)
        {
            text.Append(Pieces[random.Next(Pieces.Length)]);
        }
        return text.ToString();
    }

    /// <summary>MSG is free text on one line: the formatter turns control characters into spaces.</summary>
    private static string? Flattened(string? message)
    {
        if (string.IsNullOrEmpty(message))
        {
            return null;
        }
        return string.Concat(message.Select(c => c < ' ' ? ' ' : c));
    }

    private static DateTime TruncatedToMicroseconds(DateTime value) =>
        new(value.Ticks - (value.Ticks % 10), DateTimeKind.Utc);
}
