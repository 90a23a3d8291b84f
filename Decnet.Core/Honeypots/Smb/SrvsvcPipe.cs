using System.Buffers.Binary;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Smb;

/// <summary>A share as NetrShareEnum reports it.</summary>
public sealed record SmbShareInfo(string Name, uint Type, string Remark);

/// <summary>
/// The <c>\PIPE\srvsvc</c> named pipe: DCE/RPC (connection-oriented, NDR 2.0) just far enough for share
/// enumeration (<c>smbclient -L</c>, <c>net view</c>, enum4linux). Bytes written by the client are
/// buffered (bounded), complete PDUs are answered, answers wait to be read (bounded too: a client that
/// keeps writing without reading breaks the pipe instead of growing it).
/// </summary>
public sealed class SrvsvcPipe(IReadOnlyList<SmbShareInfo> shares, Action<string, ushort> onCall)
{
    public const int MaxBufferedBytes = 64 * 1024;
    private const byte PtypeRequest = 0;
    private const byte PtypeResponse = 2;
    private const byte PtypeFault = 3;
    private const byte PtypeBind = 11;
    private const byte PtypeBindAck = 12;
    private const byte PtypeAlterContext = 14;
    private const byte PtypeAlterContextResponse = 15;
    private const uint FaultOperationRange = 0x1C010002;
    private const uint FaultProtocolError = 0x1C01000B;

    private static readonly byte[] Ndr32 = [0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60];
    private static readonly byte[] BindTimeFeaturePrefix = [0x2c, 0x1c, 0xb7, 0x6c, 0x12, 0x98, 0x40, 0x45];

    private readonly List<byte> _input = [];
    private readonly Queue<byte> _output = new();
    private ushort _maxFragment = 4280;

    public int PendingOutput => _output.Count;

    /// <summary>Client bytes arrive; false when the client overran either buffer (the pipe is then broken).</summary>
    public bool Write(ReadOnlySpan<byte> data)
    {
        if (_input.Count + data.Length > MaxBufferedBytes || _output.Count > MaxBufferedBytes)
        {
            return false;
        }
        foreach (var b in data)
        {
            _input.Add(b);
        }
        while (_input.Count >= 16)
        {
            var fragmentLength = _input[8] | (_input[9] << 8);
            if (_input[0] != 5 || fragmentLength < 16)
            {
                _input.Clear();
                return false;
            }
            if (_input.Count < fragmentLength)
            {
                break;
            }
            var pdu = _input.GetRange(0, fragmentLength).ToArray();
            _input.RemoveRange(0, fragmentLength);
            Enqueue(Answer(pdu));
            if (_output.Count > MaxBufferedBytes)
            {
                _input.Clear();
                return false;
            }
        }
        return true;
    }

    /// <summary>Up to <paramref name="max"/> answer bytes; <paramref name="more"/> tells the caller data is left.</summary>
    public byte[] Read(int max, out bool more)
    {
        var count = Math.Min(max, _output.Count);
        var result = new byte[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = _output.Dequeue();
        }
        more = _output.Count > 0;
        return result;
    }

    private void Enqueue(byte[]? pdu)
    {
        if (pdu is null)
        {
            return;
        }
        foreach (var b in pdu)
        {
            _output.Enqueue(b);
        }
    }

    private byte[]? Answer(byte[] pdu)
    {
        var type = pdu[2];
        var callId = BinaryPrimitives.ReadUInt32LittleEndian(pdu.AsSpan(12));
        return type switch
        {
            PtypeBind => BindAck(pdu, callId, PtypeBindAck),
            PtypeAlterContext => BindAck(pdu, callId, PtypeAlterContextResponse),
            PtypeRequest => Request(pdu, callId),
            _ => null,
        };
    }

    private byte[] BindAck(byte[] pdu, uint callId, byte ackType)
    {
        if (pdu.Length < 28)
        {
            return Fault(callId, FaultProtocolError);
        }
        var maxRecv = BinaryPrimitives.ReadUInt16LittleEndian(pdu.AsSpan(18));
        _maxFragment = (ushort)Math.Clamp((int)maxRecv, 1024, 4280);
        var contexts = pdu[24];
        var results = new PacketBuilder();
        var offset = 28;
        var accepted = false;
        for (var i = 0; i < Math.Min((int)contexts, 16); i++)
        {
            if (offset + 24 > pdu.Length)
            {
                break;
            }
            var transferCount = pdu[offset + 2];
            offset += 24;
            bool ndr = false, feature = false;
            for (var t = 0; t < transferCount && offset + 20 <= pdu.Length; t++, offset += 20)
            {
                var transfer = pdu.AsSpan(offset, 16);
                ndr |= transfer.SequenceEqual(Ndr32);
                feature |= transfer[..8].SequenceEqual(BindTimeFeaturePrefix);
            }
            if (ndr && !accepted)
            {
                results.U16(0).U16(0).Bytes(Ndr32).U32(2);
                accepted = true;
            }
            else if (feature)
            {
                // Bind-time feature negotiation: acknowledged, no features.
                results.U16(3).U16(0).Zeros(20);
            }
            else
            {
                // Provider rejection: proposed transfer syntaxes not supported (NDR64 and the like).
                results.U16(2).U16(2).Zeros(20);
            }
        }

        var body = new PacketBuilder();
        var port = "\\PIPE\\srvsvc\0"u8;
        body.U16(_maxFragment).U16(_maxFragment).U32(0x0001_2b4c).U16(port.Length).Bytes(port);
        // The result list is 4-aligned relative to the PDU start; the 16-byte header keeps the parity.
        body.Align(4);
        body.U8(results.Length / 24).U8(0).U16(0).Bytes(results.Written);
        return Pdu(ackType, callId, body.Written);
    }

    private byte[] Request(byte[] pdu, uint callId)
    {
        if (pdu.Length < 24)
        {
            return Fault(callId, FaultProtocolError);
        }
        var opnum = BinaryPrimitives.ReadUInt16LittleEndian(pdu.AsSpan(22));
        var authLength = BinaryPrimitives.ReadUInt16LittleEndian(pdu.AsSpan(10));
        var stubEnd = pdu.Length - (authLength > 0 ? authLength + 8 : 0);
        var stub = stubEnd > 24 ? pdu.AsSpan(24, stubEnd - 24) : [];
        onCall("srvsvc", opnum);
        if (opnum != 15)
        {
            return Fault(callId, FaultOperationRange);
        }
        var level = ShareEnumLevel(stub);
        var ndr = level == 0 ? ShareEnum(0) : ShareEnum(1);
        var body = new PacketBuilder();
        body.U32((uint)ndr.Length).U16(0).U8(0).U8(0).Bytes(ndr);
        return Pdu(PtypeResponse, callId, body.Written);
    }

    /// <summary>The info level asked for, read past the optional server name; 1 when the stub is odd.</summary>
    private static uint ShareEnumLevel(ReadOnlySpan<byte> stub)
    {
        if (stub.Length < 8)
        {
            return 1;
        }
        var offset = 4;
        if (BinaryPrimitives.ReadUInt32LittleEndian(stub) != 0)
        {
            if (stub.Length < 16)
            {
                return 1;
            }
            var actual = BinaryPrimitives.ReadUInt32LittleEndian(stub[12..]);
            if (actual > 1024)
            {
                return 1;
            }
            offset = 16 + ((int)actual * 2);
            offset = (offset + 3) & ~3;
        }
        return offset + 4 <= stub.Length ? BinaryPrimitives.ReadUInt32LittleEndian(stub[offset..]) : 1;
    }

    private byte[] ShareEnum(uint level)
    {
        var ndr = new PacketBuilder();
        uint referent = 0x0002_0000;
        ndr.U32(level).U32(level).U32(referent);
        ndr.U32((uint)shares.Count).U32(referent += 4);
        ndr.U32((uint)shares.Count);
        foreach (var share in shares)
        {
            ndr.U32(referent += 4);
            if (level == 1)
            {
                ndr.U32(share.Type).U32(referent += 4);
            }
        }
        foreach (var share in shares)
        {
            NdrString(ndr, share.Name);
            if (level == 1)
            {
                NdrString(ndr, share.Remark);
            }
        }
        ndr.U32((uint)shares.Count);
        ndr.U32(referent + 4).U32(0);
        ndr.U32(0);
        return ndr.ToArray();
    }

    private static void NdrString(PacketBuilder ndr, string value)
    {
        var chars = (uint)value.Length + 1;
        ndr.U32(chars).U32(0).U32(chars).Utf16(value).U16(0).Align(4);
    }

    private static byte[] Fault(uint callId, uint status)
    {
        var body = new PacketBuilder();
        body.U32(0).U16(0).U8(0).U8(0).U32(status).U32(0);
        return Pdu(PtypeFault, callId, body.Written);
    }

    private static byte[] Pdu(byte type, uint callId, ReadOnlySpan<byte> body)
    {
        var pdu = new PacketBuilder(16 + body.Length);
        pdu.U8(5).U8(0).U8(type).U8(0x03).U8(0x10).U8(0).U8(0).U8(0).U16(16 + body.Length).U16(0).U32(callId).Bytes(body);
        return pdu.ToArray();
    }
}
