using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Events;

[Trait("Category", TestCategories.Unit)]
public sealed class Rfc5424ParserTests
{
    [Fact]
    public void An_upstream_shaped_line_gives_decky_service_type_fields_and_attacker_ip()
    {
        var result = Rfc5424Parser.Parse("<134>1 2026-04-18T10:00:00+00:00 web-01 ftp - auth_attempt [relay@55555 src_ip=\"203.0.113.9\" username=\"root\" password=\"toor\"]");

        var e = Assert.IsType<ParsedEvent>(result.Event);
        Assert.Equal(new DateTime(2026, 4, 18, 10, 0, 0, DateTimeKind.Utc), e.TimestampUtc);
        Assert.Equal(DateTimeKind.Utc, e.TimestampUtc.Kind);
        Assert.Equal(134, e.Priority);
        Assert.Equal(("web-01", "ftp", "auth_attempt", ""), (e.Decky, e.Service, e.EventType, e.ProcId));
        Assert.Equal("root", e.Field("username"));
        Assert.Equal("toor", e.Field("password"));
        Assert.Equal("203.0.113.9", e.AttackerIp);
        Assert.Null(e.Message);
    }

    [Fact]
    public void A_timestamp_with_an_offset_is_converted_to_utc()
    {
        var e = Rfc5424Parser.Parse("<134>1 2026-04-18T12:00:00.5+02:00 d s - t -").Event!;
        Assert.Equal(new DateTime(2026, 4, 18, 10, 0, 0, 500, DateTimeKind.Utc), e.TimestampUtc);
    }

    [Theory]
    [InlineData("-")]
    [InlineData("1234")]
    [InlineData("sshd.2211")]
    public void Any_procid_is_accepted(string procId)
    {
        var e = Rfc5424Parser.Parse($"<38>1 2026-04-18T10:00:00Z decky sshd {procId} login - Accepted password for root").Event;
        Assert.NotNull(e);
        Assert.Equal(procId == "-" ? "" : procId, e.ProcId);
        Assert.Equal("Accepted password for root", e.Message);
        Assert.Empty(e.Fields);
    }

    [Fact]
    public void Escaped_quote_backslash_and_bracket_are_unescaped()
    {
        var e = Rfc5424Parser.Parse("""<134>1 2026-04-18T10:00:00Z d redis - command [relay@55555 cmd="say \"hi\" \\ [x\] done"] tail""").Event!;
        Assert.Equal("""say "hi" \ [x] done""", e.Field("cmd"));
        Assert.Equal("tail", e.Message);
    }

    [Fact]
    public void An_unknown_backslash_sequence_stays_literal()
    {
        var e = Rfc5424Parser.Parse("""<134>1 2026-04-18T10:00:00Z d s - t [relay@55555 path="C:\temp\q"]""").Event!;
        Assert.Equal("C:\temp\\q", e.Field("path"));
    }

    [Fact]
    public void Every_sd_element_contributes_its_params()
    {
        var e = Rfc5424Parser.Parse("""<134>1 2026-04-18T10:00:00Z d s - t [relay@55555 a="1"][meta@32473 b="2" c=""] m""").Event!;
        Assert.Equal([new("a", "1"), new("b", "2"), new("c", "")], e.Fields);
    }

    [Theory]
    [InlineData("src_ip", "10.0.0.1")]
    [InlineData("src", "10.0.0.2")]
    [InlineData("client_ip", "10.0.0.3")]
    [InlineData("remote_ip", "10.0.0.4")]
    [InlineData("remote_addr", "10.0.0.5")]
    [InlineData("target_ip", "10.0.0.6")]
    [InlineData("ip", "10.0.0.7")]
    public void Every_ip_field_spelling_is_recognised(string key, string ip)
    {
        var e = Rfc5424Parser.Parse($"<134>1 2026-04-18T10:00:00Z d s - t [relay@55555 other=\"x\" {key}=\"{ip}\"]").Event!;
        Assert.Equal(ip, e.AttackerIp);
    }

    [Fact]
    public void The_preferred_ip_field_wins_whatever_the_order()
    {
        var e = Rfc5424Parser.Parse("<134>1 2026-04-18T10:00:00Z d s - t [relay@55555 ip=\"10.9.9.9\" remote_addr=\"10.8.8.8\" src_ip=\"10.1.1.1\"]").Event!;
        Assert.Equal("10.1.1.1", e.AttackerIp);
    }

    [Fact]
    public void Key_value_pairs_in_the_message_are_the_fallback_for_the_attacker_ip()
    {
        var e = Rfc5424Parser.Parse("<134>1 2026-04-18T10:00:00Z decky bash 4242 command - CMD uid=0 pwd=/root src=198.51.100.7 cmd=wget").Event!;
        Assert.Equal("198.51.100.7", e.AttackerIp);
    }

    [Fact]
    public void Without_any_ip_the_attacker_ip_is_null()
    {
        var e = Rfc5424Parser.Parse("<134>1 2026-04-18T10:00:00Z d s - t [relay@55555 user=\"x\"] nothing=here").Event!;
        Assert.Null(e.AttackerIp);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello world")]
    [InlineData("<134> 2026-04-18T10:00:00Z d s - t -")]
    [InlineData("<999>1 2026-04-18T10:00:00Z d s - t -")]
    [InlineData("<134>2 2026-04-18T10:00:00Z d s - t -")]
    [InlineData("<134>1 yesterday d s - t -")]
    [InlineData("<134>1 2026-04-18T10:00:00Z d s -")]
    [InlineData("<134>1 2026-04-18T10:00:00Z d s - t [relay@55555 a=\"unterminated]")]
    [InlineData("<134>1 2026-04-18T10:00:00Z d s - t [relay@55555 a=1]")]
    [InlineData("<134>1 2026-04-18T10:00:00Z d s - t [relay@55555 a=\"1\"")]
    [InlineData("<134>1 2026-04-18T10:00:00Z d s - t [relay@55555 a=\"1\"]msg-without-space")]
    [InlineData("<134>1 2026-04-18T10:00:00Z d s - t garbage")]
    public void Garbage_is_a_failure_that_keeps_the_raw_line(string line)
    {
        var result = Rfc5424Parser.Parse(line);
        Assert.False(result.Succeeded);
        Assert.Null(result.Event);
        Assert.Equal(line, result.RawLine);
        Assert.False(string.IsNullOrEmpty(result.Error));
    }

    [Fact]
    public void A_null_line_is_a_failure_not_an_exception()
    {
        Assert.False(Rfc5424Parser.Parse(null).Succeeded);
    }

    [Fact]
    public void A_huge_line_is_truncated_and_flagged()
    {
        var line = "<134>1 2026-04-18T10:00:00Z d s - t - " + new string('A', 200_000);
        var result = Rfc5424Parser.Parse(line);
        Assert.True(result.Truncated);
        Assert.Equal(Rfc5424Parser.MaxLineLength, result.RawLine.Length);
        Assert.NotNull(result.Event);
        Assert.Equal(Rfc5424Parser.MaxLineLength, result.Event.RawLine.Length);
    }

    [Fact]
    public void A_huge_line_cut_inside_structured_data_is_malformed_and_flagged()
    {
        var line = "<134>1 2026-04-18T10:00:00Z d s - t [relay@55555 blob=\"" + new string('B', 100_000) + "\"]";
        var result = Rfc5424Parser.Parse(line);
        Assert.False(result.Succeeded);
        Assert.True(result.Truncated);
        Assert.Equal(Rfc5424Parser.MaxLineLength, result.RawLine.Length);
    }

    [Fact]
    public void A_trailing_line_terminator_is_not_part_of_the_event()
    {
        var e = Rfc5424Parser.Parse("<134>1 2026-04-18T10:00:00Z d s - t - hello\r\n").Event!;
        Assert.Equal("hello", e.Message);
    }

    [Fact]
    public void A_formatted_event_with_nasty_values_parses_back()
    {
        var original = new HoneypotEvent(
            DateTimeOffset.Parse("2026-04-18T10:00:00.123456Z", System.Globalization.CultureInfo.InvariantCulture),
            "web-01", "http", "request",
            [new("src_ip", "192.0.2.1"), new("path", "/a\"b]c\\d\ne\r\tf\u0001g é 漢字 🐍"), new("empty", "")],
            "GET / HTTP/1.1\r\nHost: x");

        var e = Rfc5424Parser.Parse(Rfc5424Formatter.Format(original)).Event!;

        Assert.Equal(original.Fields, e.Fields);
        Assert.Equal("GET / HTTP/1.1  Host: x", e.Message);
        Assert.Equal("192.0.2.1", e.AttackerIp);
        Assert.Equal(original.Timestamp.UtcDateTime, e.TimestampUtc);
    }
}
