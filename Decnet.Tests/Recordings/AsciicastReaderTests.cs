using System.Text;
using Decnet.Core.Recordings;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Recordings;

[Trait("Category", TestCategories.Unit)]
public sealed class AsciicastReaderTests
{
    private static Task<Asciicast> ReadAsync(string text, long maxBytes = 1 << 20) =>
        AsciicastReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), maxBytes, CancellationToken.None);

    [Fact]
    public async Task Reads_the_header_and_frames_skipping_malformed_lines_and_backwards_times()
    {
        var cast = await ReadAsync("{\"version\":2,\"width\":100,\"height\":30,\"timestamp\":1767268800}\n"
            + "[0.5, \"o\", \"a\"]\nnot json\n[\"x\", \"o\", \"b\"]\n[0.2, \"o\", \"c\"]\n[1.5, \"i\", \"d\"]\n[-1, \"o\", \"e\"]\n");

        Assert.Equal(100, cast.Header.Width);
        Assert.Equal(30, cast.Header.Height);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1767268800), cast.Header.StartedAt);
        Assert.Equal(["a", "c", "d"], cast.Frames.Select(f => f.Data));
        Assert.Equal([0.5, 0.5, 1.5], cast.Frames.Select(f => f.Time));
        Assert.False(cast.Truncated);
    }

    [Fact]
    public async Task Stops_at_the_byte_limit_and_says_so()
    {
        var text = "{\"version\":2,\"width\":80,\"height\":24}\n" + string.Concat(Enumerable.Range(0, 1000).Select(i => $"[{i}.0, \"o\", \"line {i}\\r\\n\"]\n"));
        var cast = await ReadAsync(text, 2048);

        Assert.True(cast.Truncated);
        Assert.InRange(cast.Frames.Count, 1, 100);
    }
}
