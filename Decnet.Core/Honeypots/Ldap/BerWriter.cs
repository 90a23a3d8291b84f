using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Decnet.Core.Honeypots.Ldap;

/// <summary>
/// Writes LDAP's BER the way Active Directory does: every constructed element (SEQUENCE, SET, the
/// application-tagged operations) carries a four-byte long-form length (<c>0x84</c>), primitives the
/// shortest form. Scanners tell an AD domain controller from OpenLDAP by exactly that.
/// </summary>
public sealed class BerWriter
{
    public const byte Sequence = 0x30;
    public const byte Set = 0x31;

    private readonly MemoryStream _buffer = new();
    private readonly Stack<long> _open = new();

    public BerWriter Push(byte tag)
    {
        _buffer.WriteByte(tag);
        _buffer.WriteByte(0x84);
        _open.Push(_buffer.Position);
        _buffer.Write(stackalloc byte[4]);
        return this;
    }

    public BerWriter Pop()
    {
        var at = _open.Pop();
        var length = (uint)(_buffer.Position - at - 4);
        var end = _buffer.Position;
        _buffer.Position = at;
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, length);
        _buffer.Write(bytes);
        _buffer.Position = end;
        return this;
    }

    public BerWriter Primitive(byte tag, ReadOnlySpan<byte> value)
    {
        _buffer.WriteByte(tag);
        WriteLength(value.Length);
        _buffer.Write(value);
        return this;
    }

    /// <summary>Appends an element encoded elsewhere (an operation inside its message envelope).</summary>
    public BerWriter Raw(ReadOnlySpan<byte> encoded)
    {
        _buffer.Write(encoded);
        return this;
    }

    public BerWriter OctetString(string value, byte tag = 0x04) => Primitive(tag, Encoding.UTF8.GetBytes(value));

    public BerWriter OctetString(ReadOnlySpan<byte> value, byte tag = 0x04) => Primitive(tag, value);

    public BerWriter Integer(long value, byte tag = 0x02)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        var start = 0;
        // Minimal two's complement: drop leading bytes that only repeat the sign.
        while (start < 7 && ((bytes[start] == 0 && (bytes[start + 1] & 0x80) == 0) || (bytes[start] == 0xFF && (bytes[start + 1] & 0x80) != 0)))
        {
            start++;
        }
        return Primitive(tag, bytes[start..]);
    }

    public BerWriter Enumerated(int value) => Integer(value, 0x0A);

    public BerWriter Boolean(bool value) => Primitive(0x01, [value ? (byte)0xFF : (byte)0]);

    private void WriteLength(int length)
    {
        if (length < 0x80)
        {
            _buffer.WriteByte((byte)length);
            return;
        }
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)length);
        var start = 0;
        while (start < 3 && bytes[start] == 0)
        {
            start++;
        }
        _buffer.WriteByte((byte)(0x80 | (4 - start)));
        _buffer.Write(bytes[start..]);
    }

    public byte[] ToArray()
    {
        if (_open.Count != 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{_open.Count} constructed element(s) left open."));
        }
        return _buffer.ToArray();
    }
}
