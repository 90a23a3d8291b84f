using System.Text;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Tests.Honeypots.Hosting;

public sealed class LineReaderTests
{
    /// <summary>Hands out at most one byte per read, to prove lines spanning reads are joined.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
    }

    private static LineReader Reader(string text, int max = 64, bool trickle = false)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return new LineReader(trickle ? new TrickleStream(bytes) : new MemoryStream(bytes), max);
    }

    [Theory]
    [Trait("Category", "Unit")]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Reads_crlf_and_lf_lines_and_a_final_unterminated_line(bool trickle)
    {
        var reader = Reader("USER root\r\nPASS toor\nQUIT", trickle: trickle);
        Assert.Equal("USER root", (await reader.ReadLineAsync(default)).Text);
        Assert.Equal("PASS toor", (await reader.ReadLineAsync(default)).Text);
        Assert.Equal(new LineResult(LineStatus.Line, "QUIT"), await reader.ReadLineAsync(default));
        Assert.Equal(LineStatus.EndOfStream, (await reader.ReadLineAsync(default)).Status);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task An_over_long_line_is_reported_and_discarded_and_reading_resumes_after_it()
    {
        var reader = Reader(new string('A', 5000) + "\r\nNOOP\r\n", max: 100);
        Assert.Equal(LineStatus.TooLong, (await reader.ReadLineAsync(default)).Status);
        Assert.Equal("NOOP", (await reader.ReadLineAsync(default)).Text);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task A_line_of_exactly_the_maximum_length_is_accepted()
    {
        var reader = Reader(new string('B', 64) + "\r\n", max: 64, trickle: true);
        Assert.Equal(new string('B', 64), (await reader.ReadLineAsync(default)).Text);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task Bytes_after_a_line_are_handed_out_by_raw_reads()
    {
        var reader = Reader("POST / HTTP/1.1\r\n\r\nbody-bytes");
        Assert.Equal("POST / HTTP/1.1", (await reader.ReadLineAsync(default)).Text);
        Assert.Equal(string.Empty, (await reader.ReadLineAsync(default)).Text);
        var body = new byte[10];
        Assert.True(await reader.ReadExactlyAsync(body, default));
        Assert.Equal("body-bytes", Encoding.ASCII.GetString(body));
    }
}
