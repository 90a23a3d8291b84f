using System.Text;
using Decnet.Core.Events.Collection;
using Decnet.Core.Deckies.Docker;
using Decnet.Core.Ingest.Collection;

namespace Decnet.Tests.Events.Collection;

public sealed class LineSplitterTests
{
    [Fact]
    public void Lines_split_across_chunks_come_out_whole_with_the_offset_past_their_break()
    {
        var splitter = new LineSplitter();
        var lines = new List<(string Line, long EndOffset)>();

        splitter.Append("first\nsec"u8, lines);
        Assert.Equal([("first", 6L)], lines);
        splitter.Append("ond\r\nthi"u8, lines);
        splitter.Append("rd\n"u8, lines);

        Assert.Equal([("first", 6L), ("second", 14L), ("third", 20L)], lines);
        Assert.Equal(20, splitter.Consumed);
    }

    [Fact]
    public void An_overlong_line_keeps_its_head_and_the_next_line_is_intact()
    {
        var splitter = new LineSplitter(maxLineBytes: 8);
        var lines = new List<(string Line, long EndOffset)>();

        splitter.Append(Encoding.ASCII.GetBytes(new string('x', 20) + "\nok\n"), lines);

        Assert.Equal([("xxxxxxxx", 21L), ("ok", 24L)], lines);
        Assert.Equal(1, splitter.Overlong);
    }

    [Theory]
    [InlineData("2026-04-18T10:00:00.123456789Z", 1776506400_123456789L)]
    [InlineData("2026-04-18T10:00:00.1Z", 1776506400_100000000L)]
    [InlineData("2026-04-18T10:00:00Z", 1776506400_000000000L)]
    [InlineData("2026-04-18T12:00:00.5+02:00", 1776506400_500000000L)]
    public void Engine_timestamps_keep_nanoseconds(string text, long expected)
    {
        Assert.True(DockerTimestamp.TryParse(text, out var nanos));
        Assert.Equal(expected, nanos);
    }

    [Theory]
    [InlineData("")]
    [InlineData("<134>1 2026-04-18T10:00:00Z")]
    [InlineData("2026-04-18 10:00:00Z")]
    [InlineData("2026-04-18T10:00:00.1234567890Z")]
    public void Other_text_is_not_an_engine_timestamp(string text) => Assert.False(DockerTimestamp.TryParse(text, out _));

    [Fact]
    public void Since_is_seconds_dot_nine_digits() => Assert.Equal("1776506400.000000042", DockerTimestamp.ToSince(1776506400_000000042L));
}
