using System.IO.Compression;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// Outgoing zlib@openssh.com: one zlib stream per set of keys (OpenSSH restarts it at every NEWKEYS), each
/// packet payload compressed and sync-flushed so the peer can inflate it on its own.
/// </summary>
public sealed class SshCompressor : IDisposable
{
    private readonly MemoryStream _output = new();
    private readonly ZLibStream _zlib;

    public SshCompressor() => _zlib = new ZLibStream(_output, CompressionLevel.Optimal, leaveOpen: true);

    public byte[] Compress(ReadOnlySpan<byte> payload)
    {
        _output.SetLength(0);
        _zlib.Write(payload);
        // DeflateStream.Flush is a Z_SYNC_FLUSH: everything written so far, ending on a byte boundary.
        _zlib.Flush();
        return _output.ToArray();
    }

    public void Dispose()
    {
        _zlib.Dispose();
        _output.Dispose();
    }
}

/// <summary>
/// Incoming zlib@openssh.com: the peer's packets are consecutive pieces of one zlib stream. Inflating a
/// packet stops as soon as its output would exceed <c>maxPayload</c>, so a small packet that inflates to
/// gigabytes (a zip bomb) costs at most one packet's worth of memory before the connection is cut.
/// </summary>
public sealed class SshDecompressor : IDisposable
{
    private readonly FeedStream _input = new();
    private readonly ZLibStream _zlib;
    private readonly byte[] _chunk = new byte[16 * 1024];

    public SshDecompressor() => _zlib = new ZLibStream(_input, CompressionMode.Decompress, leaveOpen: true);

    public byte[] Decompress(byte[] compressed, int maxPayload)
    {
        _input.Feed(compressed);
        using var output = new MemoryStream();
        try
        {
            while (true)
            {
                var read = _zlib.Read(_chunk);
                if (read == 0)
                {
                    break;
                }
                if (output.Length + read > maxPayload)
                {
                    throw new SshProtocolException("decompressed packet too large");
                }
                output.Write(_chunk, 0, read);
            }
        }
        catch (InvalidDataException)
        {
            throw new SshProtocolException("compression error");
        }
        if (_input.Remaining != 0)
        {
            throw new SshProtocolException("compression error");
        }
        return output.ToArray();
    }

    public void Dispose()
    {
        _zlib.Dispose();
        _input.Dispose();
    }

    /// <summary>Hands the inflater one packet at a time; an empty feed reads as "no more input yet".</summary>
    private sealed class FeedStream : Stream
    {
        private byte[] _data = [];
        private int _offset;

        public int Remaining => _data.Length - _offset;

        public void Feed(byte[] data)
        {
            _data = data;
            _offset = 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var take = Math.Min(buffer.Length, Remaining);
            _data.AsSpan(_offset, take).CopyTo(buffer);
            _offset += take;
            return take;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush()
        {
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
