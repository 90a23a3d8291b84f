using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>A peer broke the SSH protocol; the session is closed with a disconnect message.</summary>
public sealed class SshProtocolException(string message, uint reason = SshProtocolException.ProtocolError) : Exception(message)
{
    public const uint ProtocolError = 2;
    public const uint KeyExchangeFailed = 3;
    public const uint MacError = 5;
    public const uint ServiceNotAvailable = 7;
    public const uint NoMoreAuthMethods = 14;

    public uint Reason { get; } = reason;

    /// <summary>
    /// Set when the failure happens before binary packets exist (version exchange): the text is sent
    /// as a raw line, as sshd does, instead of a DISCONNECT packet.
    /// </summary>
    public string? PlainTextReply { get; init; }
}

/// <summary>Reads RFC 4251 §5 data types from an attacker-controlled buffer; every read is bounds checked.</summary>
public ref struct SshReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly int Remaining => _data.Length - _position;

    public byte ReadByte()
    {
        Need(1);
        return _data[_position++];
    }

    public bool ReadBoolean() => ReadByte() != 0;

    public uint ReadUInt32()
    {
        Need(4);
        var value = BinaryPrimitives.ReadUInt32BigEndian(_data[_position..]);
        _position += 4;
        return value;
    }

    public ulong ReadUInt64()
    {
        Need(8);
        var value = BinaryPrimitives.ReadUInt64BigEndian(_data[_position..]);
        _position += 8;
        return value;
    }

    public ReadOnlySpan<byte> ReadBinary()
    {
        var length = ReadUInt32();
        if (length > (uint)Remaining)
        {
            throw new SshProtocolException("string length exceeds packet");
        }
        var value = _data.Slice(_position, (int)length);
        _position += (int)length;
        return value;
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        Need(count);
        var value = _data.Slice(_position, count);
        _position += count;
        return value;
    }

    /// <summary>UTF-8 text; invalid bytes become U+FFFD instead of failing, since attackers send anything.</summary>
    public string ReadString() => Encoding.UTF8.GetString(ReadBinary());

    /// <summary>An mpint (two's complement, big-endian); negative values are returned as such and rejected by callers.</summary>
    public BigInteger ReadMpint()
    {
        var bytes = ReadBinary();
        if (bytes.Length > 1025)
        {
            throw new SshProtocolException("mpint too large");
        }
        return new BigInteger(bytes, isUnsigned: false, isBigEndian: true);
    }

    public string[] ReadNameList()
    {
        var text = ReadString();
        return text.Length == 0 ? [] : text.Split(',');
    }

    public readonly ReadOnlySpan<byte> Rest => _data[_position..];

    private readonly void Need(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new SshProtocolException("truncated packet");
        }
    }
}

/// <summary>Builds RFC 4251 §5 data types into a growable buffer.</summary>
public sealed class SshWriter
{
    private byte[] _buffer;
    private int _length;

    public SshWriter(int capacity = 256) => _buffer = new byte[capacity];

    public int Length => _length;

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    public SshWriter Byte(byte value)
    {
        Grow(1)[0] = value;
        return this;
    }

    public SshWriter Boolean(bool value) => Byte(value ? (byte)1 : (byte)0);

    public SshWriter UInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(Grow(4), value);
        return this;
    }

    public SshWriter UInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(Grow(8), value);
        return this;
    }

    public SshWriter Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Grow(bytes.Length));
        return this;
    }

    public SshWriter Binary(ReadOnlySpan<byte> bytes)
    {
        UInt32((uint)bytes.Length);
        return Raw(bytes);
    }

    public SshWriter String(string text) => Binary(Encoding.UTF8.GetBytes(text));

    public SshWriter NameList(IEnumerable<string> names) => String(string.Join(',', names));

    /// <summary>An unsigned big-endian magnitude as an mpint: leading zeros stripped, a zero byte added when the top bit is set.</summary>
    public SshWriter MpintUnsigned(ReadOnlySpan<byte> magnitude)
    {
        var start = 0;
        while (start < magnitude.Length && magnitude[start] == 0)
        {
            start++;
        }
        var trimmed = magnitude[start..];
        if (trimmed.Length > 0 && (trimmed[0] & 0x80) != 0)
        {
            UInt32((uint)trimmed.Length + 1);
            Byte(0);
            return Raw(trimmed);
        }
        return Binary(trimmed);
    }

    public SshWriter Mpint(BigInteger value) => MpintUnsigned(value.ToByteArray(isUnsigned: true, isBigEndian: true));

    private Span<byte> Grow(int count)
    {
        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}

/// <summary>SSH message numbers used by the server (RFC 4250 §4.1).</summary>
public static class SshMessage
{
    public const byte Disconnect = 1;
    public const byte Ignore = 2;
    public const byte Unimplemented = 3;
    public const byte Debug = 4;
    public const byte ServiceRequest = 5;
    public const byte ServiceAccept = 6;
    public const byte ExtInfo = 7;
    public const byte KexInit = 20;
    public const byte NewKeys = 21;
    public const byte KexEcdhInit = 30;
    public const byte KexEcdhReply = 31;
    public const byte KexDhGexGroup = 31;
    public const byte KexDhGexInit = 32;
    public const byte KexDhGexReply = 33;
    public const byte KexDhGexRequest = 34;
    public const byte UserAuthRequest = 50;
    public const byte UserAuthFailure = 51;
    public const byte UserAuthSuccess = 52;
    public const byte UserAuthBanner = 53;
    public const byte UserAuthPkOk = 60;
    public const byte UserAuthInfoRequest = 60;
    public const byte UserAuthInfoResponse = 61;
    public const byte GlobalRequest = 80;
    public const byte RequestSuccess = 81;
    public const byte RequestFailure = 82;
    public const byte ChannelOpen = 90;
    public const byte ChannelOpenConfirmation = 91;
    public const byte ChannelOpenFailure = 92;
    public const byte ChannelWindowAdjust = 93;
    public const byte ChannelData = 94;
    public const byte ChannelExtendedData = 95;
    public const byte ChannelEof = 96;
    public const byte ChannelClose = 97;
    public const byte ChannelRequest = 98;
    public const byte ChannelSuccess = 99;
    public const byte ChannelFailure = 100;
}
