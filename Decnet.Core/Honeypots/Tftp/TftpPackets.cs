using System.Buffers.Binary;
using System.Text;

namespace Decnet.Core.Honeypots.Tftp;

public enum TftpOpcode : ushort
{
    ReadRequest = 1,
    WriteRequest = 2,
    Data = 3,
    Ack = 4,
    Error = 5,
    OptionAck = 6,
}

/// <summary>A read or write request: file name, transfer mode and RFC 2347 options (names lower-cased).</summary>
public sealed record TftpRequest(TftpOpcode Opcode, string FileName, string Mode, IReadOnlyDictionary<string, string> Options);

/// <summary>TFTP packets (RFC 1350 with the option extension of RFC 2347-2349), parsed without trusting any byte.</summary>
public static class TftpPacket
{
    public const int MaxOptions = 16;
    public const int MaxStringBytes = 512;

    public static TftpOpcode? Opcode(ReadOnlySpan<byte> packet) =>
        packet.Length >= 2 ? (TftpOpcode)BinaryPrimitives.ReadUInt16BigEndian(packet) : null;

    /// <summary>Null when the packet is not a well-formed RRQ/WRQ: missing terminators, over-long strings, too many options.</summary>
    public static TftpRequest? ParseRequest(ReadOnlySpan<byte> packet)
    {
        if (Opcode(packet) is not (TftpOpcode.ReadRequest or TftpOpcode.WriteRequest) || packet.Length < 4)
        {
            return null;
        }
        var opcode = Opcode(packet)!.Value;
        var strings = new List<string>();
        var rest = packet[2..];
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf((byte)0);
            if (end < 0 || end > MaxStringBytes || strings.Count >= 2 + MaxOptions * 2)
            {
                return null;
            }
            // Latin-1 keeps every byte visible in the logs; TFTP names are 8-bit strings, not UTF-8.
            strings.Add(Encoding.Latin1.GetString(rest[..end]));
            rest = rest[(end + 1)..];
        }
        if (strings.Count < 2 || strings[0].Length == 0)
        {
            return null;
        }
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 2; i + 1 < strings.Count; i += 2)
        {
            options.TryAdd(strings[i].ToLowerInvariant(), strings[i + 1]);
        }
        return new TftpRequest(opcode, strings[0], strings[1].ToLowerInvariant(), options);
    }

    public static byte[] Data(ushort block, ReadOnlySpan<byte> payload)
    {
        var packet = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(packet, (ushort)TftpOpcode.Data);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), block);
        payload.CopyTo(packet.AsSpan(4));
        return packet;
    }

    public static byte[] Ack(ushort block)
    {
        var packet = new byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(packet, (ushort)TftpOpcode.Ack);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), block);
        return packet;
    }

    public static byte[] Error(ushort code, string message)
    {
        var text = Encoding.ASCII.GetBytes(message);
        var packet = new byte[4 + text.Length + 1];
        BinaryPrimitives.WriteUInt16BigEndian(packet, (ushort)TftpOpcode.Error);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), code);
        text.CopyTo(packet.AsSpan(4));
        return packet;
    }

    public static byte[] OptionAck(IReadOnlyList<KeyValuePair<string, string>> options)
    {
        var body = new List<byte> { 0, (byte)TftpOpcode.OptionAck };
        foreach (var (name, value) in options)
        {
            body.AddRange(Encoding.ASCII.GetBytes(name));
            body.Add(0);
            body.AddRange(Encoding.ASCII.GetBytes(value));
            body.Add(0);
        }
        return [.. body];
    }

    /// <summary>The block number of a DATA or ACK packet, or null.</summary>
    public static ushort? Block(ReadOnlySpan<byte> packet, TftpOpcode expected) =>
        packet.Length >= 4 && Opcode(packet) == expected ? BinaryPrimitives.ReadUInt16BigEndian(packet[2..]) : null;
}
