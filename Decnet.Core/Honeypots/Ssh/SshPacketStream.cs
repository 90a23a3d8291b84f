using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// The binary packet protocol (RFC 4253 §6) over a byte stream: version lines, framing, random padding,
/// per-direction cipher state and sequence numbers. Reads are bounded: at most
/// <see cref="MaxPacketLength"/> per packet.
/// </summary>
public sealed class SshPacketStream(Stream stream) : IDisposable
{
    /// <summary>OpenSSH accepts packets up to 256 KiB; anything bigger is an attack or garbage.</summary>
    public const int MaxPacketLength = 256 * 1024;

    private const int MaxVersionLine = 255;
    private const int MaxPreambleLines = 32;

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _bufferOffset;
    private int _bufferCount;
    private IPacketCipher _reader = new NoneCipher();
    private IPacketCipher _writer = new NoneCipher();
    private SshCompressor? _compressor;
    private SshDecompressor? _decompressor;

    public uint ReceiveSequence { get; private set; }
    public uint SendSequence { get; private set; }
    public long BytesRead { get; private set; }

    public async Task WriteVersionAsync(string version, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(version + "\r\n"), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the peer's identification string. Preamble lines (RFC 4253 §4.2) are only legal from a
    /// server, so a server reading its client's version passes <paramref name="allowPreamble"/> false.
    /// </summary>
    public async Task<string> ReadVersionAsync(CancellationToken cancellationToken, bool allowPreamble = true)
    {
        for (var lineNumber = 0; lineNumber < MaxPreambleLines; lineNumber++)
        {
            var line = new List<byte>();
            while (true)
            {
                var b = await ReadByteAsync(cancellationToken).ConfigureAwait(false);
                if (b == '\n')
                {
                    break;
                }
                if (line.Count >= MaxVersionLine)
                {
                    throw new SshProtocolException("identification line too long") { PlainTextReply = "Invalid SSH identification string." };
                }
                line.Add(b);
            }
            var text = Encoding.UTF8.GetString([.. line]).TrimEnd('\r');
            if (text.StartsWith("SSH-", StringComparison.Ordinal))
            {
                if (!text.StartsWith("SSH-2.0-", StringComparison.Ordinal) && !text.StartsWith("SSH-1.99-", StringComparison.Ordinal))
                {
                    throw new SshProtocolException("Protocol major versions differ") { PlainTextReply = "Protocol major versions differ." };
                }
                return text;
            }
            if (!allowPreamble)
            {
                throw new SshProtocolException("invalid identification string") { PlainTextReply = "Invalid SSH identification string." };
            }
        }
        throw new SshProtocolException("no identification string") { PlainTextReply = "Invalid SSH identification string." };
    }

    public async Task<byte[]> ReadPacketAsync(CancellationToken cancellationToken)
    {
        var cipher = _reader;
        var first = new byte[cipher.FirstBlockSize];
        await ReadExactAsync(first, cancellationToken).ConfigureAwait(false);
        var length = cipher.ReadLength(ReceiveSequence, first);
        var aligned = cipher.LengthOutsideAlignment ? length : length + 4;
        if (length < 5 || length > MaxPacketLength || aligned % cipher.BlockSize != 0 || 4 + length < cipher.FirstBlockSize)
        {
            throw new SshProtocolException("Bad packet length");
        }
        var wire = new byte[4 + length + cipher.TagSize];
        first.CopyTo(wire, 0);
        await ReadExactAsync(wire.AsMemory(first.Length), cancellationToken).ConfigureAwait(false);
        var body = cipher.Open(ReceiveSequence, wire);
        ReceiveSequence++;
        var padding = body[0];
        if (padding < 4 || padding >= body.Length)
        {
            throw new SshProtocolException("Bad padding length");
        }
        var payload = body[1..(body.Length - padding)];
        if (_decompressor is not null)
        {
            payload = _decompressor.Decompress(payload, MaxPacketLength);
        }
        if (payload.Length == 0)
        {
            throw new SshProtocolException("empty packet");
        }
        return payload;
    }

    public async Task WritePacketAsync(byte[] payload, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(Frame(payload), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Writes a packet and switches the outgoing keys in the same critical section (our NEWKEYS).</summary>
    public async Task WriteNewKeysAsync(IPacketCipher next, bool resetSequence, bool startCompression, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(Frame([SshMessage.NewKeys]), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            _writer.Dispose();
            _writer = next;
            if (resetSequence)
            {
                SendSequence = 0;
            }
            // Like OpenSSH's ssh_set_newkeys, every NEWKEYS ends the old zlib stream; a fresh one starts
            // when the new keys negotiated zlib after authentication.
            _compressor?.Dispose();
            _compressor = startCompression ? new SshCompressor() : null;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Called after the peer's NEWKEYS has been read; a fresh inflate stream if zlib is on from here.</summary>
    public void SetReader(IPacketCipher next, bool resetSequence, bool startDecompression = false)
    {
        _reader.Dispose();
        _reader = next;
        _decompressor?.Dispose();
        _decompressor = startDecompression ? new SshDecompressor() : null;
        if (resetSequence)
        {
            ReceiveSequence = 0;
        }
    }

    /// <summary>
    /// Starts zlib@openssh.com (delayed compression) for the directions that negotiated it. The session calls
    /// this right after sending USERAUTH_SUCCESS, from its read loop, so the next packet read and the next
    /// packet written are the first compressed ones, as in OpenSSH. Idempotent; each NEWKEYS restarts them.
    /// </summary>
    public async Task EnableCompressionAsync(bool incoming, bool outgoing, CancellationToken cancellationToken)
    {
        if (incoming)
        {
            _decompressor ??= new SshDecompressor();
        }
        if (outgoing && _compressor is null)
        {
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                _compressor = new SshCompressor();
            }
            finally
            {
                _writeLock.Release();
            }
        }
    }

    private byte[] Frame(byte[] payload)
    {
        if (_compressor is not null)
        {
            payload = _compressor.Compress(payload);
        }
        var cipher = _writer;
        var block = cipher.BlockSize;
        var unpadded = (cipher.LengthOutsideAlignment ? 1 : 5) + payload.Length;
        var padding = block - (unpadded % block);
        if (padding < 4)
        {
            padding += block;
        }
        var packet = new byte[5 + payload.Length + padding];
        BinaryPrimitives.WriteUInt32BigEndian(packet, (uint)(packet.Length - 4));
        packet[4] = (byte)padding;
        payload.CopyTo(packet, 5);
        RandomNumberGenerator.Fill(packet.AsSpan(5 + payload.Length));
        var wire = cipher.Seal(SendSequence, packet);
        SendSequence++;
        return wire;
    }

    private async Task<byte> ReadByteAsync(CancellationToken cancellationToken)
    {
        if (_bufferCount == 0)
        {
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
        _bufferCount--;
        return _buffer[_bufferOffset++];
    }

    private async Task ReadExactAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (destination.Length > 0)
        {
            if (_bufferCount == 0)
            {
                if (destination.Length >= _buffer.Length)
                {
                    var read = await stream.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        throw new EndOfStreamException();
                    }
                    BytesRead += read;
                    destination = destination[read..];
                    continue;
                }
                await FillAsync(cancellationToken).ConfigureAwait(false);
            }
            var take = Math.Min(_bufferCount, destination.Length);
            _buffer.AsMemory(_bufferOffset, take).CopyTo(destination);
            _bufferOffset += take;
            _bufferCount -= take;
            destination = destination[take..];
        }
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        var read = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            throw new EndOfStreamException();
        }
        BytesRead += read;
        _bufferOffset = 0;
        _bufferCount = read;
    }

    public void Dispose()
    {
        _reader.Dispose();
        _writer.Dispose();
        _compressor?.Dispose();
        _decompressor?.Dispose();
        _writeLock.Dispose();
    }
}
