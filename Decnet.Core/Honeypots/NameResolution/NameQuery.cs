using System.Buffers.Binary;
using System.Text;

namespace Decnet.Core.Honeypots.NameResolution;

/// <summary>
/// The question of a DNS-format name query (LLMNR, mDNS and NBNS all share the DNS header and question
/// layout). Parsing is bounded: labels of at most 63 bytes, names of at most 255, at most 8 compression
/// pointers and only ones pointing backwards, so a hostile packet cannot loop or read outside itself.
/// </summary>
public sealed record NameQuery(ushort Id, ushort Flags, string Name, byte[] RawName, ushort Type, ushort Class, int QuestionEnd)
{
    public bool IsResponse => (Flags & 0x8000) != 0;

    public int Opcode => (Flags >> 11) & 0xF;

    /// <summary>The name used a compression pointer; its raw bytes only make sense inside the query itself.</summary>
    public bool Compressed { get; init; }

    /// <summary>The first question of a query; null for anything that is not one well-formed query.</summary>
    public static NameQuery? Read(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 12)
        {
            return null;
        }
        var id = BinaryPrimitives.ReadUInt16BigEndian(packet);
        var flags = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        var questions = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        if (questions == 0)
        {
            return null;
        }
        var at = 12;
        var labels = new List<byte[]>();
        var nameLength = 0;
        var jumps = 0;
        var end = -1;
        while (true)
        {
            if (at >= packet.Length)
            {
                return null;
            }
            var length = packet[at];
            if (length == 0)
            {
                at++;
                break;
            }
            if ((length & 0xC0) == 0xC0)
            {
                if (at + 1 >= packet.Length || ++jumps > 8)
                {
                    return null;
                }
                var target = ((length & 0x3F) << 8) | packet[at + 1];
                if (end < 0)
                {
                    end = at + 2;
                }
                if (target >= at)
                {
                    return null;
                }
                at = target;
                continue;
            }
            if (length > 63 || at + 1 + length > packet.Length || (nameLength += length + 1) > 255)
            {
                return null;
            }
            labels.Add(packet.Slice(at + 1, length).ToArray());
            at += 1 + length;
        }
        if (end < 0)
        {
            end = at;
        }
        if (end + 4 > packet.Length)
        {
            return null;
        }
        var type = BinaryPrimitives.ReadUInt16BigEndian(packet[end..]);
        var @class = BinaryPrimitives.ReadUInt16BigEndian(packet[(end + 2)..]);
        var text = string.Join(".", labels.Select(Printable));
        return new NameQuery(id, flags, text, [.. packet[12..end]], type, @class, end + 4) { Compressed = jumps > 0 };
    }

    public static string TypeName(ushort type) => type switch
    {
        1 => "A",
        12 => "PTR",
        16 => "TXT",
        28 => "AAAA",
        32 => "NB",
        33 => "NBSTAT",
        255 => "ANY",
        _ => type.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Attacker-chosen name bytes as one printable line: non-printable bytes escaped.</summary>
    internal static string Printable(byte[] label)
    {
        var builder = new StringBuilder(label.Length);
        foreach (var b in label)
        {
            if (b is >= 0x21 and < 0x7F and not (byte)'\\' and not (byte)'.')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('\\').Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }
}
