using Decnet.Core.Honeypots.Events;

namespace Decnet.Tests.Honeypots.Events;

public sealed class Rfc5424FormatterTests
{
    private static readonly DateTimeOffset At = new(2026, 4, 18, 10, 0, 0, 123, TimeSpan.FromHours(2));

    private static HoneypotEvent Event(params (string Key, string Value)[] fields) =>
        new(At, "web-01", "ftp", "auth_attempt", fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)).ToList());

    [Fact]
    [Trait("Category", "Unit")]
    public void Formats_pri_version_utc_timestamp_header_and_structured_data()
    {
        var line = Rfc5424Formatter.Format(Event(("username", "root"), ("password", "toor")));
        Assert.Equal("<134>1 2026-04-18T08:00:00.123000Z web-01 ftp - auth_attempt [relay@55555 username=\"root\" password=\"toor\"]", line);
    }

    [Theory]
    [Trait("Category", "Unit")]
    [InlineData(EventSeverity.Informational, 134)]
    [InlineData(EventSeverity.Notice, 133)]
    [InlineData(EventSeverity.Warning, 132)]
    public void Priority_is_local0_times_eight_plus_severity(EventSeverity severity, int expected)
    {
        Assert.Equal(expected, Rfc5424Formatter.Priority(severity));
        Assert.StartsWith($"<{expected}>1 ", Rfc5424Formatter.Format(Event() with { Severity = severity }));
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Backslash_quote_and_closing_bracket_are_escaped_in_values()
    {
        var line = Rfc5424Formatter.Format(Event(("password", "a\\b\"c]d")));
        Assert.Contains("password=\"a\\\\b\\\"c\\]d\"]", line, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Line_breaks_in_values_and_messages_cannot_forge_a_second_line()
    {
        var line = Rfc5424Formatter.Format(Event(("cmd", "ls\r\n<134>1 fake")) with { Message = "two\nlines" });
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\r', line);
        Assert.Contains("cmd=\"ls\\r\\n<134>1 fake\"", line, StringComparison.Ordinal);
        Assert.EndsWith("] two lines", line, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Param_names_are_sanitised_to_sd_names_of_at_most_32_characters()
    {
        Assert.Equal("a_b_c_d_e", Rfc5424Formatter.SanitiseParamName("a=b c]d\"e"));
        Assert.Equal(new string('k', 32), Rfc5424Formatter.SanitiseParamName(new string('k', 40)));
        Assert.Equal("_", Rfc5424Formatter.SanitiseParamName(""));
        Assert.Equal("h_ost", Rfc5424Formatter.SanitiseParamName("h\u00e9ost"));
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Empty_header_fields_and_no_params_become_nilvalues()
    {
        var line = Rfc5424Formatter.Format(new HoneypotEvent(At, "", "", "", []));
        Assert.Equal("<134>1 2026-04-18T08:00:00.123000Z - - - - -", line);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Header_fields_are_truncated_to_their_limits_and_spaces_replaced()
    {
        var line = Rfc5424Formatter.Format(new HoneypotEvent(At, new string('h', 300), "my app " + new string('a', 60), new string('m', 40), []));
        var parts = line.Split(' ');
        Assert.Equal(255, parts[2].Length);
        Assert.Equal(48, parts[3].Length);
        Assert.StartsWith("my_app_", parts[3], StringComparison.Ordinal);
        Assert.Equal("-", parts[4]);
        Assert.Equal(32, parts[5].Length);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void A_real_procid_is_written_when_given()
    {
        Assert.Contains(" web-01 ftp 4242 auth_attempt ", Rfc5424Formatter.Format(Event(), "4242"), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Oversized_values_are_truncated()
    {
        var line = Rfc5424Formatter.Format(Event(("body", new string('x', 20_000))));
        Assert.True(line.Length < Rfc5424Formatter.MaxParamValueLength + 200);
    }
}

public sealed class EventSinkTests
{
    private static HoneypotEvent Numbered(int n) =>
        new(DateTimeOffset.UnixEpoch, "d", "s", "e", [new("n", n.ToString(System.Globalization.CultureInfo.InvariantCulture))]);

    [Fact]
    [Trait("Category", "Unit")]
    public void The_channel_sink_drops_the_oldest_events_when_full_and_counts_them()
    {
        var sink = new ChannelEventSink(capacity: 3);
        for (var i = 0; i < 5; i++)
        {
            sink.Publish(Numbered(i));
        }
        Assert.Equal(2, sink.DroppedCount);
        var kept = new List<string?>();
        while (sink.Reader.TryRead(out var e))
        {
            kept.Add(e.Field("n"));
        }
        Assert.Equal(["2", "3", "4"], kept);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task The_stdout_sink_writes_one_rfc5424_line_per_event()
    {
        var writer = new StringWriter();
        await using (var sink = new StdoutEventSink(writer))
        {
            sink.Publish(Numbered(1));
            sink.Publish(Numbered(2));
        }
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.StartsWith("<134>1 1970-01-01T00:00:00.000000Z d s - e [relay@55555 n=", l, StringComparison.Ordinal));
    }
}
