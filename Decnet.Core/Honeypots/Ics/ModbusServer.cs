using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Ics;

/// <summary>
/// The controller's process image as Modbus sees it: holding registers and coils an attacker may write
/// (the writes stick, as on a real PLC, for every visitor of the decky), input registers read-only.
/// </summary>
public sealed class ModbusMemory(IndustrialPersona persona)
{
    private readonly ushort[] _holding = [.. persona.HoldingRegisters];
    private readonly bool[] _coils = [.. persona.Coils];
    private readonly object _gate = new();

    public IndustrialPersona Persona => persona;

    public ushort[] ReadHolding(int start, int count)
    {
        lock (_gate)
        {
            return _holding[start..(start + count)];
        }
    }

    public ushort[] ReadInput(int start, int count) => [.. persona.InputRegisters.Skip(start).Take(count)];

    public bool[] ReadCoils(int start, int count)
    {
        lock (_gate)
        {
            return _coils[start..(start + count)];
        }
    }

    /// <summary>Discrete inputs mirror the coils' field wiring: the same bits, read-only.</summary>
    public bool[] ReadDiscrete(int start, int count) => [.. persona.Coils.Skip(start).Take(count)];

    public void WriteHolding(int start, IReadOnlyList<ushort> values)
    {
        lock (_gate)
        {
            for (var i = 0; i < values.Count; i++)
            {
                _holding[start + i] = values[i];
            }
        }
    }

    public void WriteCoils(int start, IReadOnlyList<bool> values)
    {
        lock (_gate)
        {
            for (var i = 0; i < values.Count; i++)
            {
                _coils[start + i] = values[i];
            }
        }
    }
}

/// <summary>
/// Modbus/TCP (port 502): MBAP framing, function codes 1-6, 15, 16, 17 (report server id) and 43/14 (read
/// device identification) over the persona's register map. Every request is an event; writes are
/// <c>write_attempt</c> events, because changing setpoints is what an attack on a plant looks like.
/// Unknown functions and addresses get the standard exceptions.
/// </summary>
public static class ModbusServer
{
    private const int MaxRequestsPerConnection = 10_000;
    private static readonly TimeSpan PartialHeaderWait = TimeSpan.FromSeconds(1);

    public static async Task ServeAsync(HoneypotConnection connection, ModbusMemory memory, CancellationToken cancellationToken)
    {
        var stream = connection.Stream;
        var header = new byte[7];
        for (var served = 0; served < MaxRequestsPerConnection; served++)
        {
            var got = await ReadHeaderAsync(stream, header, cancellationToken).ConfigureAwait(false);
            if (got == 0)
            {
                return;
            }
            if (got < header.Length)
            {
                // A few bytes and then silence: devices answer what they have with "illegal function"
                // (it is how scanners, nmap among them, recognise Modbus).
                connection.Emit("protocol_error", ("protocol", "modbus"), ("error", $"incomplete MBAP header ({got} bytes)"));
                await stream.WriteAsync(Exception(header, header[6], 0, 1), cancellationToken).ConfigureAwait(false);
                return;
            }
            var protocol = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
            var length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(4));
            if (protocol != 0 || length is < 2 or > 254)
            {
                connection.Emit("protocol_error", ("protocol", "modbus"), ("error", protocol != 0 ? $"protocol id {protocol}" : $"length {length}"));
                await stream.WriteAsync(Exception(header, header[6], 0, 1), cancellationToken).ConfigureAwait(false);
                return;
            }
            var pdu = new byte[length - 1];
            if (await stream.ReadAtLeastAsync(pdu, pdu.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < pdu.Length)
            {
                return;
            }
            var response = Handle(connection, memory, header, pdu);
            await stream.WriteAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Bytes of the 7-byte header read; fewer when the peer went quiet mid-header (0 at end of stream).</summary>
    private static async Task<int> ReadHeaderAsync(Stream stream, byte[] header, CancellationToken cancellationToken)
    {
        var got = await stream.ReadAsync(header, cancellationToken).ConfigureAwait(false);
        if (got == 0)
        {
            return 0;
        }
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        quiet.CancelAfter(PartialHeaderWait);
        while (got < header.Length)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(header.AsMemory(got), quiet.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }
            if (read == 0)
            {
                break;
            }
            got += read;
        }
        Array.Clear(header, got, header.Length - got);
        return got;
    }

    private static byte[] Handle(HoneypotConnection connection, ModbusMemory memory, byte[] header, byte[] pdu)
    {
        var unit = header[6];
        var function = pdu[0];
        var data = pdu.AsSpan(1);
        int? address = data.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(data) : null;
        int? quantity = data.Length >= 4 ? BinaryPrimitives.ReadUInt16BigEndian(data[2..]) : null;
        connection.Emit(
            "request",
            ("protocol", "modbus"),
            ("unit_id", unit.ToString(CultureInfo.InvariantCulture)),
            ("function_code", function.ToString(CultureInfo.InvariantCulture)),
            ("function", FunctionName(function)),
            ("address", function is 17 or 43 ? null : address?.ToString(CultureInfo.InvariantCulture)),
            ("quantity", function is 1 or 2 or 3 or 4 or 15 or 16 ? quantity?.ToString(CultureInfo.InvariantCulture) : null));
        switch (function)
        {
            case 1 or 2 when address is { } a && quantity is { } q:
                if (q is < 1 or > 2000)
                {
                    return Exception(header, unit, function, 3);
                }
                if (a + q > IndustrialPersona.CoilCount)
                {
                    return Exception(header, unit, function, 2);
                }
                return Reply(header, unit, function, PackBits(function == 1 ? memory.ReadCoils(a, q) : memory.ReadDiscrete(a, q)));
            case 3 or 4 when address is { } a && quantity is { } q:
                if (q is < 1 or > 125)
                {
                    return Exception(header, unit, function, 3);
                }
                if (a + q > IndustrialPersona.RegisterCount)
                {
                    return Exception(header, unit, function, 2);
                }
                var values = function == 3 ? memory.ReadHolding(a, q) : memory.ReadInput(a, q);
                var bytes = new byte[1 + values.Length * 2];
                bytes[0] = (byte)(values.Length * 2);
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(1 + i * 2), values[i]);
                }
                return Reply(header, unit, function, bytes);
            case 5 when address is { } a && quantity is { } raw:
                if (raw is not (0xff00 or 0x0000))
                {
                    return Exception(header, unit, function, 3);
                }
                if (a >= IndustrialPersona.CoilCount)
                {
                    return Exception(header, unit, function, 2);
                }
                Write(connection, function, a, 1, JsonSerializer.Serialize(new[] { raw == 0xff00 }));
                memory.WriteCoils(a, [raw == 0xff00]);
                return Reply(header, unit, function, data[..4].ToArray());
            case 6 when address is { } a && quantity is { } value:
                if (a >= IndustrialPersona.RegisterCount)
                {
                    return Exception(header, unit, function, 2);
                }
                Write(connection, function, a, 1, JsonSerializer.Serialize(new[] { value }));
                memory.WriteHolding(a, [(ushort)value]);
                return Reply(header, unit, function, data[..4].ToArray());
            case 15 when address is { } a && quantity is { } q && data.Length >= 5:
                var coilBytes = data[4];
                if (q is < 1 or > 1968 || coilBytes != (q + 7) / 8 || data.Length < 5 + coilBytes)
                {
                    return Exception(header, unit, function, 3);
                }
                if (a + q > IndustrialPersona.CoilCount)
                {
                    return Exception(header, unit, function, 2);
                }
                var coils = new bool[q];
                for (var i = 0; i < q; i++)
                {
                    coils[i] = (data[5 + i / 8] & (1 << (i % 8))) != 0;
                }
                Write(connection, function, a, q, JsonSerializer.Serialize(coils));
                memory.WriteCoils(a, coils);
                return Reply(header, unit, function, data[..4].ToArray());
            case 16 when address is { } a && quantity is { } q && data.Length >= 5:
                var registerBytes = data[4];
                if (q is < 1 or > 123 || registerBytes != q * 2 || data.Length < 5 + registerBytes)
                {
                    return Exception(header, unit, function, 3);
                }
                if (a + q > IndustrialPersona.RegisterCount)
                {
                    return Exception(header, unit, function, 2);
                }
                var registers = new ushort[q];
                for (var i = 0; i < q; i++)
                {
                    registers[i] = BinaryPrimitives.ReadUInt16BigEndian(data[(5 + i * 2)..]);
                }
                Write(connection, function, a, q, JsonSerializer.Serialize(registers));
                memory.WriteHolding(a, registers);
                return Reply(header, unit, function, data[..4].ToArray());
            case 17:
                var id = Encoding.ASCII.GetBytes($"{memory.Persona.Vendor} {memory.Persona.ProductName} {memory.Persona.ModuleType}");
                var slave = new byte[3 + id.Length];
                slave[0] = (byte)(2 + id.Length);
                slave[1] = unit;
                slave[2] = 0xff;
                id.CopyTo(slave, 3);
                return Reply(header, unit, function, slave);
            case 43 when data.Length >= 3 && data[0] == 0x0e:
                return DeviceIdentification(header, unit, memory.Persona, data[1], data[2]);
            default:
                return Exception(header, unit, function, 1);
        }
    }

    private static void Write(HoneypotConnection connection, byte function, int address, int quantity, string values) =>
        connection.Emit("write_attempt", null, EventSeverity.Warning,
            ("protocol", "modbus"),
            ("function", FunctionName(function)),
            ("address", address.ToString(CultureInfo.InvariantCulture)),
            ("quantity", quantity.ToString(CultureInfo.InvariantCulture)),
            ("values", values.Length > 512 ? values[..512] : values));

    /// <summary>MEI 0x0E: basic (1), regular (2), extended (3) or one object (4); all objects fit one response.</summary>
    private static byte[] DeviceIdentification(byte[] header, byte unit, IndustrialPersona persona, byte code, byte objectId)
    {
        var objects = new List<(byte Id, string Value)>
        {
            (0, persona.Vendor),
            (1, persona.OrderNumber),
            (2, persona.Firmware),
            (3, persona.VendorUrl),
            (4, persona.ProductName),
            (5, persona.ModuleType),
            (6, persona.SystemName),
        };
        if (code is < 1 or > 4)
        {
            return Exception(header, unit, 43, 3);
        }
        var selected = code switch
        {
            1 => objects.Where(o => o.Id <= 2 && o.Id >= objectId).ToList(),
            4 => objects.Where(o => o.Id == objectId).ToList(),
            _ => objects.Where(o => o.Id >= objectId).ToList(),
        };
        if (selected.Count == 0)
        {
            return Exception(header, unit, 43, 2);
        }
        var body = new List<byte> { 0x0e, code, 0x83, 0x00, 0x00, (byte)selected.Count };
        foreach (var (id, value) in selected)
        {
            var text = Encoding.ASCII.GetBytes(value);
            body.Add(id);
            body.Add((byte)text.Length);
            body.AddRange(text);
        }
        return Reply(header, unit, 43, [.. body]);
    }

    private static byte[] PackBits(bool[] bits)
    {
        var bytes = new byte[1 + (bits.Length + 7) / 8];
        bytes[0] = (byte)(bytes.Length - 1);
        for (var i = 0; i < bits.Length; i++)
        {
            if (bits[i])
            {
                bytes[1 + i / 8] |= (byte)(1 << (i % 8));
            }
        }
        return bytes;
    }

    private static byte[] Reply(byte[] header, byte unit, byte function, byte[] data)
    {
        var frame = new byte[8 + data.Length];
        header.AsSpan(0, 4).CopyTo(frame);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), (ushort)(2 + data.Length));
        frame[6] = unit;
        frame[7] = function;
        data.CopyTo(frame, 8);
        return frame;
    }

    /// <summary>An exception response echoing the transaction and protocol ids the request carried.</summary>
    private static byte[] Exception(byte[] header, byte unit, byte function, byte code) =>
        [header[0], header[1], header[2], header[3], 0x00, 0x03, unit, (byte)(function | 0x80), code];

    private static string FunctionName(byte function) => function switch
    {
        1 => "read_coils",
        2 => "read_discrete_inputs",
        3 => "read_holding_registers",
        4 => "read_input_registers",
        5 => "write_single_coil",
        6 => "write_single_register",
        15 => "write_multiple_coils",
        16 => "write_multiple_registers",
        17 => "report_server_id",
        43 => "read_device_identification",
        _ => "unknown",
    };
}
