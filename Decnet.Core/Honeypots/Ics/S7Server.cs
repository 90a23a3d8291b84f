using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Ics;

/// <summary>
/// Siemens S7comm on ISO-TSAP (port 102): TPKT + COTP connection (CR/CC), S7 communication setup, SZL reads
/// (0x0011 module identification, 0x001C component identification, which is what s7-info and PLCScan ask),
/// variable reads and writes, and PLC start/stop. Writes and run-state changes are events with a warning
/// severity: on a real plant they are the attack.
/// </summary>
public static class S7Server
{
    private const int MaxTpkt = 4096;
    private const int MaxRequestsPerConnection = 10_000;

    public static async Task ServeAsync(HoneypotConnection connection, IndustrialPersona persona, CancellationToken cancellationToken)
    {
        var stream = connection.Stream;
        var header = new byte[4];
        var connected = false;
        for (var served = 0; served < MaxRequestsPerConnection; served++)
        {
            if (await stream.ReadAtLeastAsync(header, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < 4)
            {
                return;
            }
            var length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
            if (header[0] != 0x03 || length is < 7 or > MaxTpkt)
            {
                connection.Emit("protocol_error", ("protocol", "s7comm"), ("error", header[0] != 0x03 ? "not a TPKT" : $"TPKT length {length}"));
                return;
            }
            var body = new byte[length - 4];
            if (await stream.ReadAtLeastAsync(body, body.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < body.Length)
            {
                return;
            }
            var cotpLength = body[0];
            if (cotpLength < 2 || cotpLength + 1 > body.Length)
            {
                connection.Emit("protocol_error", ("protocol", "s7comm"), ("error", "bad COTP length"));
                return;
            }
            var type = body[1];
            if (type == 0xe0 && cotpLength >= 6)
            {
                var (source, destination) = Tsaps(body.AsSpan(7, cotpLength - 6));
                connection.Emit("cotp_connect", ("protocol", "s7comm"), ("src_tsap", source), ("dst_tsap", destination));
                await stream.WriteAsync(ConnectConfirm(body), cancellationToken).ConfigureAwait(false);
                connected = true;
                continue;
            }
            if (type != 0xf0 || !connected)
            {
                connection.Emit("protocol_error", ("protocol", "s7comm"), ("error", connected ? $"COTP type 0x{type:x2}" : "data before COTP connect"));
                return;
            }
            var s7 = body.AsSpan(cotpLength + 1);
            var reply = Handle(connection, persona, s7);
            if (reply is null)
            {
                return;
            }
            await stream.WriteAsync(Tpkt(reply), cancellationToken).ConfigureAwait(false);
        }
    }

    private static (string? Source, string? Destination) Tsaps(ReadOnlySpan<byte> parameters)
    {
        string? source = null, destination = null;
        while (parameters.Length >= 2)
        {
            var code = parameters[0];
            var size = parameters[1];
            if (size + 2 > parameters.Length)
            {
                break;
            }
            var value = Convert.ToHexStringLower(parameters.Slice(2, size));
            if (code == 0xc1)
            {
                source = value;
            }
            else if (code == 0xc2)
            {
                destination = value;
            }
            parameters = parameters[(2 + size)..];
        }
        return (source, destination);
    }

    /// <summary>CC echoing the caller's reference and TSAPs, with a 1024-byte TPDU size.</summary>
    private static byte[] ConnectConfirm(byte[] request)
    {
        var cc = new List<byte> { 0x03, 0x00, 0x00, 0x00, 0x00, 0xd0, request[4], request[5], 0x00, 0x01, 0x00, 0xc0, 0x01, 0x0a };
        var parameters = request.AsSpan(7, request[0] - 6);
        while (parameters.Length >= 2 && parameters[1] + 2 <= parameters.Length)
        {
            if (parameters[0] is 0xc1 or 0xc2)
            {
                cc.AddRange(parameters[..(2 + parameters[1])].ToArray());
            }
            parameters = parameters[(2 + parameters[1])..];
        }
        cc[4] = (byte)(cc.Count - 5);
        BinaryPrimitives.WriteUInt16BigEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(cc)[2..], (ushort)cc.Count);
        return [.. cc];
    }

    private static byte[] Tpkt(byte[] s7)
    {
        var frame = new byte[7 + s7.Length];
        frame[0] = 0x03;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)frame.Length);
        frame[4] = 0x02;
        frame[5] = 0xf0;
        frame[6] = 0x80;
        s7.CopyTo(frame, 7);
        return frame;
    }

    /// <summary>The S7 answer to one PDU, or null to hang up on something that is not S7.</summary>
    private static byte[]? Handle(HoneypotConnection connection, IndustrialPersona persona, ReadOnlySpan<byte> pdu)
    {
        if (pdu.Length < 10 || pdu[0] != 0x32)
        {
            connection.Emit("protocol_error", ("protocol", "s7comm"), ("error", "not an S7 PDU"));
            return null;
        }
        var rosctr = pdu[1];
        var reference = BinaryPrimitives.ReadUInt16BigEndian(pdu[4..]);
        var parameterLength = BinaryPrimitives.ReadUInt16BigEndian(pdu[6..]);
        var dataLength = BinaryPrimitives.ReadUInt16BigEndian(pdu[8..]);
        var headerLength = rosctr is 2 or 3 ? 12 : 10;
        if (pdu.Length < headerLength + parameterLength + dataLength || parameterLength == 0)
        {
            connection.Emit("protocol_error", ("protocol", "s7comm"), ("error", "S7 lengths exceed the PDU"));
            return null;
        }
        var parameters = pdu.Slice(headerLength, parameterLength);
        var data = pdu.Slice(headerLength + parameterLength, dataLength);
        if (rosctr == 0x07)
        {
            return UserData(connection, persona, reference, parameters, data);
        }
        if (rosctr != 0x01)
        {
            connection.Emit("protocol_error", ("protocol", "s7comm"), ("error", $"ROSCTR {rosctr}"));
            return null;
        }
        var function = parameters[0];
        switch (function)
        {
            case 0xf0:
                connection.Emit("request", ("protocol", "s7comm"), ("function", "setup_communication"));
                return AckData(reference, [0xf0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x03, 0xc0], []);
            case 0x04:
                var items = parameters.Length >= 2 ? parameters[1] : 0;
                connection.Emit("request", ("protocol", "s7comm"), ("function", "read_var"), ("items", items.ToString(CultureInfo.InvariantCulture)), ("areas", Areas(parameters)));
                return AckData(reference, [0x04, (byte)items], ReadItems(parameters));
            case 0x05:
                var count = parameters.Length >= 2 ? parameters[1] : 0;
                connection.Emit("write_attempt", null, EventSeverity.Warning,
                    ("protocol", "s7comm"), ("function", "write_var"), ("items", count.ToString(CultureInfo.InvariantCulture)), ("areas", Areas(parameters)),
                    ("data", Convert.ToHexStringLower(data[..Math.Min(data.Length, 256)])));
                return AckData(reference, [0x05, (byte)count], [.. Enumerable.Repeat((byte)0xff, count)]);
            case 0x28 or 0x29:
                var action = function == 0x29 ? "plc_stop" : Encoding.ASCII.GetString(parameters).Contains("P_PROGRAM", StringComparison.Ordinal) ? "plc_start" : "plc_control";
                connection.Emit("plc_control", null, EventSeverity.Warning, ("protocol", "s7comm"), ("action", action));
                return AckData(reference, [function], []);
            default:
                connection.Emit("request", ("protocol", "s7comm"), ("function", $"0x{function:x2}"));
                return AckData(reference, [function], [], errorClass: 0x81, errorCode: 0x04);
        }
    }

    /// <summary>USERDATA: only the CPU functions' SZL read is answered; everything else is "not available".</summary>
    private static byte[] UserData(HoneypotConnection connection, IndustrialPersona persona, ushort reference, ReadOnlySpan<byte> parameters, ReadOnlySpan<byte> data)
    {
        var group = parameters.Length >= 6 ? parameters[5] & 0x0f : 0;
        var subfunction = parameters.Length >= 7 ? parameters[6] : 0;
        var sequence = parameters.Length >= 8 ? parameters[7] : (byte)0;
        if (group == 4 && subfunction == 1 && data.Length >= 8)
        {
            var szl = BinaryPrimitives.ReadUInt16BigEndian(data[4..]);
            var index = BinaryPrimitives.ReadUInt16BigEndian(data[6..]);
            connection.Emit("request", ("protocol", "s7comm"), ("function", "read_szl"), ("szl_id", $"0x{szl:x4}"), ("szl_index", $"0x{index:x4}"));
            var records = Szl(persona, szl);
            var payload = records is null
                ? new byte[] { 0x0a, 0x00, 0x00, 0x00 }
                : [0xff, 0x09, (byte)((records.Length + 8) >> 8), (byte)(records.Length + 8), (byte)(szl >> 8), (byte)szl, (byte)(index >> 8), (byte)index, .. RecordHeader(szl), .. records];
            return UserDataResponse(reference, sequence, payload, records is null ? (ushort)0xd401 : (ushort)0);
        }
        connection.Emit("request", ("protocol", "s7comm"), ("function", "userdata"), ("group", group.ToString(CultureInfo.InvariantCulture)), ("subfunction", subfunction.ToString(CultureInfo.InvariantCulture)));
        return UserDataResponse(reference, sequence, [0x0a, 0x00, 0x00, 0x00], 0xd401);
    }

    /// <summary>Record length and count of the two SZL lists served.</summary>
    private static byte[] RecordHeader(ushort szl) => szl == 0x0011 ? [0x00, 0x1c, 0x00, 0x04] : [0x00, 0x22, 0x00, 0x0a];

    private static byte[]? Szl(IndustrialPersona persona, ushort szl)
    {
        if (szl == 0x0011)
        {
            // 28-byte records: index, order number (20 chars), module type, version (Ausbg/Ausbe).
            return
            [
                .. ModuleRecord(0x0001, persona.OrderNumber, [0x00, 0xc0, 0x00, 0x07, 0x20, 0x20]),
                .. ModuleRecord(0x0006, persona.HardwareOrderNumber, [0x00, 0xc0, 0x00, 0x07, 0x20, 0x20]),
                .. ModuleRecord(0x0007, string.Empty, [0x00, 0xc0, (byte)'V', persona.FirmwareMajor, persona.FirmwareMinor, persona.FirmwarePatch]),
                .. ModuleRecord(0x0081, string.Empty, [0x00, 0x00, (byte)'V', persona.FirmwareMajor, persona.FirmwareMinor, persona.FirmwarePatch]),
            ];
        }
        if (szl == 0x001c)
        {
            // 34-byte records: index and a 32-byte NUL-padded string.
            return
            [
                .. NameRecord(0x0001, persona.SystemName),
                .. NameRecord(0x0002, persona.ModuleType),
                .. NameRecord(0x0003, persona.Plant),
                .. NameRecord(0x0004, persona.Copyright),
                .. NameRecord(0x0005, persona.Serial),
                .. NameRecord(0x0007, persona.ModuleType),
                .. NameRecord(0x0008, string.Empty),
                .. NameRecord(0x0009, "Siemens AG"),
                .. NameRecord(0x000a, string.Empty),
                .. NameRecord(0x000b, persona.Location),
            ];
        }
        return null;
    }

    private static byte[] ModuleRecord(ushort index, string orderNumber, byte[] tail)
    {
        var record = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(record, index);
        var text = Encoding.ASCII.GetBytes(orderNumber.PadRight(20)[..20]);
        text.CopyTo(record, 2);
        tail.CopyTo(record, 22);
        return record;
    }

    private static byte[] NameRecord(ushort index, string value)
    {
        var record = new byte[34];
        BinaryPrimitives.WriteUInt16BigEndian(record, index);
        var text = Encoding.ASCII.GetBytes(value);
        text.AsSpan(0, Math.Min(text.Length, 32)).CopyTo(record.AsSpan(2));
        return record;
    }

    private static byte[] UserDataResponse(ushort reference, byte sequence, byte[] data, ushort error)
    {
        byte[] parameters = [0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, sequence, 0x00, 0x00, (byte)(error >> 8), (byte)error];
        var pdu = new byte[10 + parameters.Length + data.Length];
        pdu[0] = 0x32;
        pdu[1] = 0x07;
        BinaryPrimitives.WriteUInt16BigEndian(pdu.AsSpan(4), reference);
        BinaryPrimitives.WriteUInt16BigEndian(pdu.AsSpan(6), (ushort)parameters.Length);
        BinaryPrimitives.WriteUInt16BigEndian(pdu.AsSpan(8), (ushort)data.Length);
        parameters.CopyTo(pdu, 10);
        data.CopyTo(pdu, 10 + parameters.Length);
        return pdu;
    }

    private static byte[] AckData(ushort reference, byte[] parameters, byte[] data, byte errorClass = 0, byte errorCode = 0)
    {
        var pdu = new byte[12 + parameters.Length + data.Length];
        pdu[0] = 0x32;
        pdu[1] = 0x03;
        BinaryPrimitives.WriteUInt16BigEndian(pdu.AsSpan(4), reference);
        BinaryPrimitives.WriteUInt16BigEndian(pdu.AsSpan(6), (ushort)parameters.Length);
        BinaryPrimitives.WriteUInt16BigEndian(pdu.AsSpan(8), (ushort)data.Length);
        pdu[10] = errorClass;
        pdu[11] = errorCode;
        parameters.CopyTo(pdu, 12);
        data.CopyTo(pdu, 12 + parameters.Length);
        return pdu;
    }

    /// <summary>Read-var items: 12-byte S7ANY addresses; each answered with zeros of the asked size (at most 200 bytes).</summary>
    private static byte[] ReadItems(ReadOnlySpan<byte> parameters)
    {
        var result = new List<byte>();
        var count = parameters.Length >= 2 ? parameters[1] : 0;
        for (var i = 0; i < count && 2 + i * 12 + 12 <= parameters.Length; i++)
        {
            var item = parameters.Slice(2 + i * 12, 12);
            var size = Math.Min((int)BinaryPrimitives.ReadUInt16BigEndian(item[4..]), 200);
            if (result.Count % 2 == 1)
            {
                result.Add(0);
            }
            result.AddRange([0xff, 0x04, (byte)((size * 8) >> 8), (byte)(size * 8)]);
            result.AddRange(new byte[size]);
        }
        return [.. result];
    }

    /// <summary>The memory areas the items address (DB, M, I, Q ...), for the event.</summary>
    private static string Areas(ReadOnlySpan<byte> parameters)
    {
        var areas = new List<string>();
        var count = parameters.Length >= 2 ? parameters[1] : 0;
        for (var i = 0; i < count && 2 + i * 12 + 12 <= parameters.Length && areas.Count < 16; i++)
        {
            var item = parameters.Slice(2 + i * 12, 12);
            var db = BinaryPrimitives.ReadUInt16BigEndian(item[6..]);
            var address = (item[9] << 16 | item[10] << 8 | item[11]) >> 3;
            areas.Add(item[8] switch
            {
                0x84 => $"DB{db}.{address}",
                0x83 => $"M{address}",
                0x81 => $"I{address}",
                0x82 => $"Q{address}",
                var other => $"area0x{other:x2}.{address}",
            });
        }
        return string.Join(',', areas);
    }
}
