using System.Globalization;
using System.Text;

namespace Decnet.Core.Honeypots.Snmp;

/// <summary>One BER element as read: its tag, where its content sits in the message, and its content.</summary>
public readonly record struct BerElement(byte Tag, int Start, int ContentStart, int Length)
{
    public int End => ContentStart + Length;
}

/// <summary>
/// The slice of BER (X.690) SNMP uses: single-byte tags, definite lengths of at most four bytes, INTEGER,
/// OCTET STRING, NULL, OBJECT IDENTIFIER and SEQUENCE. The reader takes attacker bytes: every length is
/// checked against what is left and malformed input makes it return false, never throw.
/// </summary>
public ref struct BerReader(ReadOnlySpan<byte> data, int offset = 0)
{
    public const int MaxOidArcs = 128;

    private readonly ReadOnlySpan<byte> _data = data;
    private int _position = offset;

    public readonly int Position => _position;

    public readonly bool AtEnd(int end) => _position >= end;

    public bool TryRead(out BerElement element)
    {
        element = default;
        var start = _position;
        if (_position + 2 > _data.Length)
        {
            return false;
        }
        var tag = _data[_position++];
        if ((tag & 0x1f) == 0x1f)
        {
            // Multi-byte tags never appear in SNMP.
            return false;
        }
        int length = _data[_position++];
        if ((length & 0x80) != 0)
        {
            var count = length & 0x7f;
            if (count is 0 or > 4 || _position + count > _data.Length)
            {
                return false;
            }
            length = 0;
            for (var i = 0; i < count; i++)
            {
                length = (length << 8) | _data[_position++];
            }
            if (length < 0)
            {
                return false;
            }
        }
        if (length > _data.Length - _position)
        {
            return false;
        }
        element = new BerElement(tag, start, _position, length);
        return true;
    }

    /// <summary>Reads an element and moves past its content.</summary>
    public bool TrySkip(out BerElement element)
    {
        if (!TryRead(out element))
        {
            return false;
        }
        _position = element.End;
        return true;
    }

    /// <summary>Reads a constructed element's header and steps into its content.</summary>
    public bool TryEnter(byte tag, out BerElement element) => TryRead(out element) && element.Tag == tag;

    public bool TryReadInteger(out long value)
    {
        value = 0;
        if (!TrySkip(out var element) || element.Tag != 0x02 || element.Length is 0 or > 8)
        {
            return false;
        }
        return TryInteger(_data.Slice(element.ContentStart, element.Length), out value);
    }

    public bool TryReadOctets(out ReadOnlySpan<byte> value)
    {
        value = default;
        if (!TrySkip(out var element) || element.Tag != 0x04)
        {
            return false;
        }
        value = _data.Slice(element.ContentStart, element.Length);
        return true;
    }

    public static bool TryInteger(ReadOnlySpan<byte> content, out long value)
    {
        value = (content[0] & 0x80) != 0 ? -1 : 0;
        foreach (var b in content)
        {
            value = (value << 8) | b;
        }
        return true;
    }

    /// <summary>Dotted text of an OBJECT IDENTIFIER's content; null when malformed or longer than <see cref="MaxOidArcs"/> arcs.</summary>
    public static string? Oid(ReadOnlySpan<byte> content)
    {
        if (content.Length == 0)
        {
            return null;
        }
        var arcs = new List<ulong>();
        ulong current = 0;
        var bytes = 0;
        foreach (var b in content)
        {
            if (++bytes > 9)
            {
                return null;
            }
            current = (current << 7) | (uint)(b & 0x7f);
            if ((b & 0x80) == 0)
            {
                if (arcs.Count == 0)
                {
                    var first = Math.Min(current / 40, 2);
                    arcs.Add(first);
                    arcs.Add(current - first * 40);
                }
                else
                {
                    arcs.Add(current);
                }
                if (arcs.Count > MaxOidArcs)
                {
                    return null;
                }
                current = 0;
                bytes = 0;
            }
        }
        return bytes != 0 ? null : string.Join('.', arcs.Select(a => a.ToString(CultureInfo.InvariantCulture)));
    }
}

/// <summary>Builds BER elements for replies.</summary>
public static class Ber
{
    public const byte Integer = 0x02;
    public const byte OctetString = 0x04;
    public const byte Null = 0x05;
    public const byte ObjectIdentifier = 0x06;
    public const byte Sequence = 0x30;
    public const byte IpAddress = 0x40;
    public const byte Counter32 = 0x41;
    public const byte Gauge32 = 0x42;
    public const byte TimeTicks = 0x43;
    public const byte NoSuchObject = 0x80;
    public const byte NoSuchInstance = 0x81;
    public const byte EndOfMibView = 0x82;

    public static byte[] Element(byte tag, ReadOnlySpan<byte> content)
    {
        var header = Length(content.Length);
        var result = new byte[1 + header.Length + content.Length];
        result[0] = tag;
        header.CopyTo(result, 1);
        content.CopyTo(result.AsSpan(1 + header.Length));
        return result;
    }

    public static byte[] Constructed(byte tag, params byte[][] children) => Element(tag, children.SelectMany(c => c).ToArray());

    public static byte[] Int(long value, byte tag = Integer)
    {
        var bytes = new List<byte>();
        do
        {
            bytes.Insert(0, (byte)value);
            value >>= 8;
        }
        while (!((value == 0 && (bytes[0] & 0x80) == 0) || (value == -1 && (bytes[0] & 0x80) != 0)));
        return Element(tag, bytes.ToArray());
    }

    /// <summary>An unsigned 32-bit application type (Counter32, Gauge32, TimeTicks): never negative on the wire.</summary>
    public static byte[] Unsigned(uint value, byte tag)
    {
        var bytes = new List<byte>();
        ulong v = value;
        do
        {
            bytes.Insert(0, (byte)v);
            v >>= 8;
        }
        while (v != 0);
        if ((bytes[0] & 0x80) != 0)
        {
            bytes.Insert(0, 0);
        }
        return Element(tag, bytes.ToArray());
    }

    public static byte[] Octets(ReadOnlySpan<byte> value) => Element(OctetString, value);

    public static byte[] Octets(string value) => Element(OctetString, Encoding.UTF8.GetBytes(value));

    public static byte[] NullValue(byte tag = Null) => [tag, 0];

    public static byte[] Oid(string dotted)
    {
        var arcs = dotted.Split('.').Select(a => ulong.Parse(a, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
        var content = new List<byte>();
        void Arc(ulong value)
        {
            var chunk = new List<byte> { (byte)(value & 0x7f) };
            value >>= 7;
            while (value != 0)
            {
                chunk.Insert(0, (byte)(0x80 | (value & 0x7f)));
                value >>= 7;
            }
            content.AddRange(chunk);
        }
        Arc(arcs[0] * 40 + (arcs.Length > 1 ? arcs[1] : 0));
        foreach (var arc in arcs.Skip(2))
        {
            Arc(arc);
        }
        return Element(ObjectIdentifier, content.ToArray());
    }

    private static byte[] Length(int length) => length switch
    {
        < 0x80 => [(byte)length],
        <= 0xff => [0x81, (byte)length],
        <= 0xffff => [0x82, (byte)(length >> 8), (byte)length],
        _ => [0x83, (byte)(length >> 16), (byte)(length >> 8), (byte)length],
    };
}
