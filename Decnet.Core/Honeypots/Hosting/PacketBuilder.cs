using System.Buffers.Binary;
using System.Text;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// Builds a binary protocol message: little-endian integers by default, big-endian on request,
/// alignment padding and back-patching of length fields written before the body was known.
/// </summary>
public sealed class PacketBuilder(int capacity = 256)
{
    private byte[] _buffer = new byte[capacity];

    public int Length { get; private set; }

    private Span<byte> Take(int count)
    {
        if (Length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + count));
        }
        var span = _buffer.AsSpan(Length, count);
        Length += count;
        return span;
    }

    public PacketBuilder U8(int value)
    {
        Take(1)[0] = (byte)value;
        return this;
    }

    public PacketBuilder U16(int value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Take(2), (ushort)value);
        return this;
    }

    public PacketBuilder U16BigEndian(int value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(Take(2), (ushort)value);
        return this;
    }

    public PacketBuilder U32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Take(4), value);
        return this;
    }

    public PacketBuilder U32BigEndian(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(Take(4), value);
        return this;
    }

    public PacketBuilder U64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);
        return this;
    }

    public PacketBuilder Bytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(Take(value.Length));
        return this;
    }

    public PacketBuilder Zeros(int count)
    {
        Take(count).Clear();
        return this;
    }

    public PacketBuilder Utf16(string value)
    {
        var count = Encoding.Unicode.GetByteCount(value);
        Encoding.Unicode.GetBytes(value, Take(count));
        return this;
    }

    public PacketBuilder Ascii(string value)
    {
        Encoding.ASCII.GetBytes(value, Take(value.Length));
        return this;
    }

    /// <summary>Pads with zeros up to a multiple of <paramref name="alignment"/>, counted from <paramref name="origin"/>.</summary>
    public PacketBuilder Align(int alignment, int origin = 0)
    {
        var misaligned = (Length - origin) % alignment;
        return misaligned == 0 ? this : Zeros(alignment - misaligned);
    }

    public void SetU16(int at, int value) => BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(at), (ushort)value);

    public void SetU16BigEndian(int at, int value) => BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(at), (ushort)value);

    public void SetU32(int at, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(at), value);

    public void SetU8(int at, int value) => _buffer[at] = (byte)value;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    public byte[] ToArray() => _buffer.AsSpan(0, Length).ToArray();
}

/// <summary>Reads that tell a clean end of stream from a full buffer without throwing.</summary>
public static class StreamReads
{
    /// <summary>Fills <paramref name="buffer"/>; false when the peer hung up first.</summary>
    public static async ValueTask<bool> TryReadExactlyAsync(this Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }
            buffer = buffer[read..];
        }
        return true;
    }
}
