using System.Buffers;
using System.Text;
using Decnet.Core.Swarm.Shipping;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Shipping;

[Trait("Category", TestCategories.Unit)]
public sealed class OctetCountingTests
{
    private static async Task<List<string>> ReadAllAsync(byte[] wire, int maxFrame = 1024, bool trickle = false)
    {
        var reader = new OctetCountingReader(trickle ? new TrickleStream(wire) : new MemoryStream(wire), maxFrame);
        var frames = new List<string>();
        while (await reader.ReadFrameAsync(CancellationToken.None) is { } frame)
        {
            frames.Add(Encoding.UTF8.GetString(frame));
        }
        return frames;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Frames_written_are_read_back_exactly_even_one_byte_at_a_time(bool trickle)
    {
        var output = new ArrayBufferWriter<byte>();
        string[] messages = ["<134>1 2026-04-18T10:00:00Z d ssh - x - hello", "x", "with 12 digits 3 spaces", new string('a', 1000), "ünïcode ✓\n"];
        foreach (var message in messages)
        {
            OctetCounting.WriteFrame(output, Encoding.UTF8.GetBytes(message));
        }
        Assert.StartsWith("45 <134>1", Encoding.ASCII.GetString(output.WrittenSpan));

        Assert.Equal(messages, await ReadAllAsync(output.WrittenMemory.ToArray(), trickle: trickle));
    }

    [Theory]
    [InlineData("12345678901 x", "longer than 10 digits")]
    [InlineData("9999999999 x", "exceeds the limit")]
    [InlineData("1025 x", "exceeds the limit")]
    [InlineData("1a2 xx", "non-digit")]
    [InlineData("-5 hello", "non-digit")]
    [InlineData("5\nhello", "non-digit")]
    [InlineData("0 ", "leading zero")]
    [InlineData("05 hello", "leading zero")]
    [InlineData(" 5 hello", "start with its length")]
    [InlineData("<134>1 2026-04-18T10:00:00Z plain syslog without framing", "non-digit")]
    [InlineData("10 short", "stream ended after 5 of 10")]
    [InlineData("5 hello12", "stream ended inside a length prefix")]
    public async Task Anything_but_a_well_formed_bounded_frame_breaks_the_connection(string wire, string reason)
    {
        var error = await Assert.ThrowsAsync<FramingException>(() => ReadAllAsync(Encoding.ASCII.GetBytes(wire)));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_huge_announced_length_is_refused_before_anything_is_allocated_or_read()
    {
        // Ten digits of length and then nothing: the reader must refuse on the prefix alone, not wait for 4 GB.
        var stream = new TrickleStream(Encoding.ASCII.GetBytes("4294967295 "), endless: true);
        var reader = new OctetCountingReader(stream, 64 * 1024);

        await Assert.ThrowsAsync<FramingException>(async () => await reader.ReadFrameAsync(CancellationToken.None));
        Assert.Equal(11, stream.Served);
    }

    [Fact]
    public async Task A_stream_that_ends_between_frames_ends_cleanly()
    {
        Assert.Empty(await ReadAllAsync([]));
        Assert.Equal(["ab"], await ReadAllAsync(Encoding.ASCII.GetBytes("2 ab")));
    }

    [Fact]
    public void Empty_payloads_are_never_written()
    {
        Assert.Throws<ArgumentException>(() => OctetCounting.WriteFrame(new ArrayBufferWriter<byte>(), []));
    }

    /// <summary>Serves one byte per read, as a slow or hostile peer would; optionally never ends (blocks after the data).</summary>
    private sealed class TrickleStream(byte[] data, bool endless = false) : Stream
    {
        public int Served { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (Served >= data.Length)
            {
                Assert.False(endless, "the reader asked for more than the length prefix");
                return 0;
            }
            buffer[0] = data[Served++];
            return 1;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
