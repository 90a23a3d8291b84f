using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Ntlm;

namespace Decnet.Core.Honeypots.Smb;

/// <summary>
/// One SMB connection: NetBIOS framing, SMB1 negotiate, then SMB2 commands (compounds included). All state
/// an attacker can grow (sessions, tree connects, open handles) is capped; every field read from a
/// request is bounds-checked and a malformed request gets STATUS_INVALID_PARAMETER, never an exception.
/// </summary>
internal sealed class SmbSession(SmbHoneypot server, HoneypotConnection connection)
{
    private const int MaxTrees = 32;
    private const int MaxOpens = 128;
    private const int MaxCompound = 32;
    private const uint MaxTransfer = 65536;

    private const uint StatusSuccess = 0;
    private const uint StatusMoreProcessing = 0xC0000016;
    private const uint StatusInvalidParameter = 0xC000000D;
    private const uint StatusNotSupported = 0xC00000BB;
    private const uint StatusAccessDenied = 0xC0000022;
    private const uint StatusObjectNameNotFound = 0xC0000034;
    private const uint StatusObjectPathNotFound = 0xC000003A;
    private const uint StatusBadNetworkName = 0xC00000CC;
    private const uint StatusNoMoreFiles = 0x80000006;
    private const uint StatusBufferOverflow = 0x80000005;
    private const uint StatusEndOfFile = 0xC0000011;
    private const uint StatusFileClosed = 0xC0000128;
    private const uint StatusUserSessionDeleted = 0xC0000203;
    private const uint StatusNetworkNameDeleted = 0xC00000C9;
    private const uint StatusInsufficientResources = 0xC000009A;
    private const uint StatusInvalidInfoClass = 0xC0000003;
    private const uint StatusInfoLengthMismatch = 0xC0000004;
    private const uint StatusNotADirectory = 0xC0000103;
    private const uint StatusFileIsADirectory = 0xC00000BA;
    private const uint StatusFsDriverRequired = 0xC000019C;
    private const uint StatusPipeEmpty = 0xC00000D9;
    private const uint StatusInvalidDeviceRequest = 0xC0000010;

    private static readonly ushort[] SupportedDialects = [0x0202, 0x0210, 0x0300, 0x0302];

    private const int NetBiosSessionPort = 139;

    private readonly Dictionary<uint, Tree> _trees = [];
    private readonly Dictionary<ulong, Open> _opens = [];
    private readonly HashSet<ulong> _sessions = [];
    private NtlmServer? _ntlm;
    private ushort _dialect;
    private bool _netbiosSessionOpen;
    private ushort _clientSecurityMode;
    private uint _nextTree = 1;
    private ulong _nextFile = 1;
    private ulong _nextSession = 0x0000_1000_0000_0041;

    private sealed record Tree(uint Id, string Share, bool IsIpc);

    private sealed class Open(ulong id, Tree tree, string path, SmbEntry? entry, SrvsvcPipe? pipe)
    {
        public ulong Id { get; } = id;
        public Tree Tree { get; } = tree;
        public string Path { get; } = path;
        public SmbEntry? Entry { get; } = entry;
        public SrvsvcPipe? Pipe { get; } = pipe;
        public bool Listed { get; set; }
        public bool ReadLogged { get; set; }
    }

    private readonly record struct Request(ReadOnlyMemory<byte> Message, ushort Command, ulong MessageId, uint Flags, uint TreeId, ulong SessionId, ushort CreditCharge, ushort Credits)
    {
        public ReadOnlySpan<byte> Body => Message.Span[64..];
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var stream = connection.Stream;
        var header = new byte[4];
        while (await stream.TryReadExactlyAsync(header, cancellationToken).ConfigureAwait(false))
        {
            var length = (header[1] << 16) | (header[2] << 8) | header[3];
            if (header[0] == 0x85)
            {
                continue;
            }
            if (length > SmbHoneypot.MaxFrameBytes || header[0] is not (0x00 or 0x81))
            {
                connection.Emit("protocol_error", ("error", header[0] is 0x00 or 0x81 ? "frame too large" : "not an SMB frame"), ("length", length.ToString(CultureInfo.InvariantCulture)));
                return;
            }
            var frame = new byte[length];
            if (!await stream.TryReadExactlyAsync(frame, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
            if (header[0] == 0x00 && connection.DeclaredPort == NetBiosSessionPort && !_netbiosSessionOpen)
            {
                // Windows on 139 answers a message sent before the NetBIOS session request with a negative
                // session response (unspecified error) and hangs up; scanners fingerprint exactly that.
                connection.Emit("protocol_error", ("error", "message before NetBIOS session request"), ("length", length.ToString(CultureInfo.InvariantCulture)));
                await stream.WriteAsync(new byte[] { 0x83, 0, 0, 1, 0x8F }, cancellationToken).ConfigureAwait(false);
                return;
            }
            if (header[0] == 0x81)
            {
                _netbiosSessionOpen = true;
                // NetBIOS session request on 139: called and calling names, each half-ASCII encoded.
                connection.Emit("netbios_session", ("called_name", NetBiosName.Decode(frame, 0)), ("calling_name", NetBiosName.Decode(frame, 34)));
                await stream.WriteAsync(new byte[] { 0x82, 0, 0, 0 }, cancellationToken).ConfigureAwait(false);
                continue;
            }
            byte[]? reply;
            if (frame.Length >= 4 && frame[0] == 0xFF && frame[1] == 'S' && frame[2] == 'M' && frame[3] == 'B')
            {
                reply = Smb1Negotiate(frame, out var close);
                if (reply is not null)
                {
                    await SendAsync(reply, cancellationToken).ConfigureAwait(false);
                }
                if (close)
                {
                    return;
                }
                continue;
            }
            if (frame.Length < 64 || !frame.AsSpan(0, 4).SequenceEqual((byte[])[0xFE, (byte)'S', (byte)'M', (byte)'B']))
            {
                connection.Emit("protocol_error", ("error", "not an SMB2 message"), ("length", length.ToString(CultureInfo.InvariantCulture)));
                return;
            }
            reply = Compound(frame);
            if (reply is null)
            {
                return;
            }
            await SendAsync(reply, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task SendAsync(byte[] message, CancellationToken cancellationToken)
    {
        var framed = new byte[message.Length + 4];
        framed[1] = (byte)(message.Length >> 16);
        framed[2] = (byte)(message.Length >> 8);
        framed[3] = (byte)message.Length;
        message.CopyTo(framed, 4);
        await connection.Stream.WriteAsync(framed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// SMB1 NEGOTIATE: a client offering SMB2 is moved to SMB2 (wildcard 2.??? or 2.002); one offering only
    /// NT LM 0.12 (scanners, old tools) gets the answer of a Windows 7-10 host, then the connection closes.
    /// </summary>
    private byte[]? Smb1Negotiate(byte[] frame, out bool close)
    {
        close = true;
        if (frame.Length < 35 || frame[4] != 0x72)
        {
            connection.Emit("protocol_error", ("error", "SMB1 command other than negotiate"));
            return null;
        }
        var byteCount = BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(33));
        var dialects = new List<string>();
        var data = frame.AsSpan(35, Math.Min(byteCount, frame.Length - 35));
        while (data.Length > 1 && dialects.Count < 64)
        {
            var end = data[1..].IndexOf((byte)0);
            var text = end < 0 ? data[1..] : data.Slice(1, end);
            dialects.Add(Encoding.ASCII.GetString(text));
            data = end < 0 ? [] : data[(end + 2)..];
        }
        connection.Emit("negotiate", ("protocol", "SMB1"), ("dialects", string.Join(",", dialects)));
        if (dialects.Contains("SMB 2.???"))
        {
            close = false;
            return NegotiateResponse(0x02FF);
        }
        if (dialects.Contains("SMB 2.002"))
        {
            close = false;
            _dialect = 0x0202;
            return NegotiateResponse(0x0202);
        }
        var index = dialects.IndexOf("NT LM 0.12");
        return index < 0 ? null : Smb1NtLmResponse(frame, index);
    }

    private byte[] Smb1NtLmResponse(byte[] request, int dialectIndex)
    {
        var packet = new PacketBuilder();
        packet.U8(0xFF).Ascii("SMB").U8(0x72).U32(0).U8(0x88).U16(0x4001).U16(0).Zeros(8).U16(0).U16(0);
        packet.Bytes(request.AsSpan(26, 2)).U16(0).U16(BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(30)));
        packet.U8(17).U16(dialectIndex).U8(0x03).U16(50).U16(1).U32(0x1104).U32(0x10000).U32(0).U32(0x0001_e3fc);
        packet.U64((ulong)DateTime.UtcNow.ToFileTimeUtc()).U16(0).U8(8);
        var domain = Encoding.Unicode.GetBytes(server.Identity.DomainName + "\0");
        var name = Encoding.Unicode.GetBytes(server.Identity.ComputerName + "\0");
        packet.U16(8 + domain.Length + name.Length).Bytes(_challenge1).Bytes(domain).Bytes(name);
        return packet.ToArray();
    }

    private readonly byte[] _challenge1 = System.Security.Cryptography.RandomNumberGenerator.GetBytes(8);

    private byte[]? Compound(byte[] frame)
    {
        var responses = new List<byte[]>();
        var offset = 0;
        ulong relatedFile = ulong.MaxValue;
        uint relatedTree = 0;
        ulong relatedSession = 0;
        for (var index = 0; index < MaxCompound; index++)
        {
            if (offset + 64 > frame.Length)
            {
                break;
            }
            var span = frame.AsSpan(offset);
            var next = BinaryPrimitives.ReadUInt32LittleEndian(span[20..]);
            var end = next == 0 ? frame.Length : (int)Math.Min((long)offset + next, frame.Length);
            if (next != 0 && (next < 64 || next % 8 != 0))
            {
                connection.Emit("protocol_error", ("error", "bad compound offset"));
                return null;
            }
            var message = frame.AsMemory(offset, end - offset);
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(span[16..]);
            var request = new Request(
                message,
                BinaryPrimitives.ReadUInt16LittleEndian(span[12..]),
                BinaryPrimitives.ReadUInt64LittleEndian(span[24..]),
                flags,
                BinaryPrimitives.ReadUInt32LittleEndian(span[36..]),
                BinaryPrimitives.ReadUInt64LittleEndian(span[40..]),
                BinaryPrimitives.ReadUInt16LittleEndian(span[6..]),
                BinaryPrimitives.ReadUInt16LittleEndian(span[14..]));
            if ((flags & 0x4) != 0 && index > 0)
            {
                request = request with { TreeId = relatedTree, SessionId = relatedSession };
            }
            var (status, body, sessionId, treeId, fileId) = Dispatch(request, relatedFile);
            relatedFile = fileId ?? relatedFile;
            relatedTree = treeId ?? request.TreeId;
            relatedSession = sessionId ?? request.SessionId;
            responses.Add(Response(request, status, body, relatedSession, relatedTree));
            if (next == 0)
            {
                break;
            }
            offset += (int)next;
        }
        if (responses.Count == 1)
        {
            return responses[0];
        }
        var all = new PacketBuilder();
        for (var i = 0; i < responses.Count; i++)
        {
            var start = all.Length;
            all.Bytes(responses[i]);
            if (i < responses.Count - 1)
            {
                all.Align(8, start);
                all.SetU32(start + 20, (uint)(all.Length - start));
            }
        }
        return all.ToArray();
    }

    private byte[] Response(Request request, uint status, byte[] body, ulong sessionId, uint treeId)
    {
        var packet = new PacketBuilder(64 + body.Length);
        packet.U8(0xFE).Ascii("SMB").U16(64).U16(request.CreditCharge).U32(status).U16(request.Command);
        packet.U16(Math.Clamp((int)request.Credits, 1, 64));
        packet.U32(0x1 | (request.Flags & 0x4)).U32(0).U64(request.MessageId).U32(0).U32(treeId).U64(sessionId).Zeros(16);
        packet.Bytes(body);
        return packet.ToArray();
    }

    private static byte[] ErrorBody() => [9, 0, 0, 0, 0, 0, 0, 0, 0];

    private (uint Status, byte[] Body, ulong? Session, uint? Tree, ulong? File) Dispatch(Request request, ulong relatedFile)
    {
        if (request.Command == 0x0000)
        {
            return (StatusSuccess, Negotiate(request), null, null, null);
        }
        if (request.Command == 0x0001)
        {
            var (ssStatus, ssBody, session) = SessionSetup(request);
            return (ssStatus, ssBody, session, null, null);
        }
        if (request.Command == 0x0012)
        {
            return (StatusSuccess, OplockAck(request), null, null, null);
        }
        if (!_sessions.Contains(request.SessionId))
        {
            return (StatusUserSessionDeleted, ErrorBody(), null, null, null);
        }
        switch (request.Command)
        {
            case 0x0002:
                _sessions.Remove(request.SessionId);
                return (StatusSuccess, [4, 0, 0, 0], null, null, null);
            case 0x0003:
                var (tcStatus, tcBody, tree) = TreeConnect(request);
                return (tcStatus, tcBody, null, tree, null);
            case 0x000D:
                return (StatusSuccess, [4, 0, 0, 0], null, null, null);
        }
        if (!_trees.TryGetValue(request.TreeId, out var treeConnect))
        {
            return (StatusNetworkNameDeleted, ErrorBody(), null, null, null);
        }
        switch (request.Command)
        {
            case 0x0004:
                _trees.Remove(request.TreeId);
                return (StatusSuccess, [4, 0, 0, 0], null, null, null);
            case 0x0005:
                var (crStatus, crBody, file) = Create(request, treeConnect);
                return (crStatus, crBody, null, null, file);
        }
        var body = request.Body;
        int fileIdAt = request.Command switch
        {
            0x0006 => 8,
            0x0007 => 8,
            0x0008 => 16,
            0x0009 => 16,
            0x000B => 8,
            0x000E => 8,
            0x000F => 8,
            0x0010 => 24,
            0x0011 => 16,
            _ => -1,
        };
        if (fileIdAt < 0)
        {
            return (StatusNotSupported, ErrorBody(), null, null, null);
        }
        if (body.Length < fileIdAt + 16)
        {
            return (StatusInvalidParameter, ErrorBody(), null, null, null);
        }
        var fileId = BinaryPrimitives.ReadUInt64LittleEndian(body[(fileIdAt + 8)..]);
        if (fileId == ulong.MaxValue)
        {
            fileId = relatedFile;
        }
        if (request.Command == 0x000B && BinaryPrimitives.ReadUInt32LittleEndian(body[4..]) is 0x00140204 or 0x00060194)
        {
            return Ioctl(request, null);
        }
        if (!_opens.TryGetValue(fileId, out var open) || open.Tree.Id != treeConnect.Id)
        {
            return (StatusFileClosed, ErrorBody(), null, null, null);
        }
        return request.Command switch
        {
            0x0006 => Close(open),
            0x0007 => (StatusSuccess, [4, 0, 0, 0], null, null, null),
            0x0008 => Read(request, open),
            0x0009 => Write(request, open),
            0x000B => Ioctl(request, open),
            0x000E => QueryDirectory(request, open),
            0x000F => (StatusNotSupported, ErrorBody(), null, null, null),
            0x0010 => QueryInfo(request, open),
            _ => (StatusAccessDenied, ErrorBody(), null, null, null),
        };
    }

    private byte[] Negotiate(Request request)
    {
        var body = request.Body;
        var offered = new List<ushort>();
        if (body.Length >= 36)
        {
            var count = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(body[2..]), (ushort)64);
            _clientSecurityMode = BinaryPrimitives.ReadUInt16LittleEndian(body[4..]);
            for (var i = 0; i < count && 36 + (i * 2) + 2 <= body.Length; i++)
            {
                offered.Add(BinaryPrimitives.ReadUInt16LittleEndian(body[(36 + (i * 2))..]));
            }
        }
        var dialect = SupportedDialects.Where(offered.Contains).DefaultIfEmpty((ushort)0x0202).Max();
        _dialect = dialect;
        connection.Emit("negotiate",
            ("protocol", "SMB2"),
            ("dialects", string.Join(",", offered.Select(d => SmbHoneypot.Hex(d)))),
            ("dialect", SmbHoneypot.Hex(dialect)),
            ("client_guid", body.Length >= 28 ? new Guid(body.Slice(12, 16)).ToString() : null),
            ("signing_required", (_clientSecurityMode & 0x2) != 0 ? "true" : "false"));
        return NegotiateResponse(dialect);
    }

    private byte[] NegotiateResponse(ushort dialect)
    {
        var token = Spnego.ServerInit();
        var body = new PacketBuilder();
        body.U16(65).U16(0x0001).U16(dialect).U16(0).Bytes(server.ServerGuid.ToByteArray());
        body.U32(0).U32(MaxTransfer).U32(MaxTransfer).U32(MaxTransfer);
        body.U64((ulong)DateTime.UtcNow.ToFileTimeUtc()).U64((ulong)server.StartedAt.UtcDateTime.ToFileTimeUtc());
        body.U16(64 + 64).U16(token.Length).U32(0).Bytes(token);
        if (dialect == 0x02FF)
        {
            // The answer to an SMB1 multi-protocol negotiate is itself an SMB2 message.
            var request = new Request(new byte[64], 0, 0, 0, 0, 0, 0, 1);
            return Response(request, StatusSuccess, body.ToArray(), 0, 0);
        }
        return body.ToArray();
    }

    private (uint, byte[], ulong?) SessionSetup(Request request)
    {
        var body = request.Body;
        if (body.Length < 24)
        {
            return (StatusInvalidParameter, ErrorBody(), null);
        }
        var blob = Slice(request.Message.Span, BinaryPrimitives.ReadUInt16LittleEndian(body[12..]), BinaryPrimitives.ReadUInt16LittleEndian(body[14..]));
        var ntlm = Spnego.FindNtlm(blob);
        if (NtlmServer.IsNtlm(ntlm, 1))
        {
            if (_sessions.Count >= 4)
            {
                return (StatusInsufficientResources, ErrorBody(), null);
            }
            _ntlm = new NtlmServer(server.Identity);
            var challenge = _ntlm.Challenge(ntlm);
            var sessionId = request.SessionId != 0 ? request.SessionId : _nextSession++;
            return (StatusMoreProcessing, SessionSetupBody(0, Spnego.Response(Spnego.NegState.AcceptIncomplete, challenge, includeMechanism: true)), sessionId);
        }
        if (NtlmServer.IsNtlm(ntlm, 3) && _ntlm is not null && request.SessionId != 0)
        {
            var capture = _ntlm.ReadAuthenticate(ntlm);
            _ntlm = null;
            if (capture is null)
            {
                connection.Emit("protocol_error", ("error", "malformed NTLM authenticate"));
                return (StatusInvalidParameter, ErrorBody(), null);
            }
            connection.Emit("auth", [.. capture.Fields(), ("dialect", SmbHoneypot.Hex(_dialect)), ("status", capture.Anonymous ? "anonymous" : "guest")]);
            connection.SetDisconnectDetails(("username", capture.User), ("domain", capture.Domain));
            _sessions.Add(request.SessionId);
            // Everyone is let in as guest, as a server with "map to guest" does. A null-session flag would make
            // Samba clients refuse the unsigned IPC$ connection they use for share listing.
            return (StatusSuccess, SessionSetupBody(0x0001, Spnego.Response(Spnego.NegState.AcceptCompleted, null, includeMechanism: false)), request.SessionId);
        }
        connection.Emit("protocol_error", ("error", "session setup without NTLMSSP"), ("blob_length", blob.Length.ToString(CultureInfo.InvariantCulture)));
        return (StatusNotSupported, ErrorBody(), null);
    }

    private static byte[] SessionSetupBody(int sessionFlags, byte[] token)
    {
        var body = new PacketBuilder();
        body.U16(9).U16(sessionFlags).U16(64 + 8).U16(token.Length).Bytes(token);
        return body.ToArray();
    }

    private static byte[] OplockAck(Request request) =>
        request.Body.Length >= 24 ? [.. request.Body[..24]] : ErrorBody();

    private (uint, byte[], uint?) TreeConnect(Request request)
    {
        var body = request.Body;
        if (body.Length < 8)
        {
            return (StatusInvalidParameter, ErrorBody(), null);
        }
        var path = Encoding.Unicode.GetString(Slice(request.Message.Span, BinaryPrimitives.ReadUInt16LittleEndian(body[4..]), Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(body[6..]), (ushort)1024)));
        var share = path[(path.LastIndexOf('\\') + 1)..];
        var isIpc = string.Equals(share, "IPC$", StringComparison.OrdinalIgnoreCase);
        var isShare = string.Equals(share, server.ShareName, StringComparison.OrdinalIgnoreCase);
        var known = server.Shares.Any(s => string.Equals(s.Name, share, StringComparison.OrdinalIgnoreCase));
        uint status = isIpc || isShare ? StatusSuccess : known ? StatusAccessDenied : StatusBadNetworkName;
        if (status == StatusSuccess && _trees.Count >= MaxTrees)
        {
            status = StatusInsufficientResources;
        }
        connection.Emit("tree_connect", ("share", share), ("path", path), ("status", StatusName(status)));
        if (status != StatusSuccess)
        {
            return (status, ErrorBody(), null);
        }
        var tree = new Tree(_nextTree++, isIpc ? "IPC$" : server.ShareName, isIpc);
        _trees[tree.Id] = tree;
        var response = new PacketBuilder();
        // Share type pipe or disk; manual caching; maximal access read-only for guests.
        response.U16(16).U8(isIpc ? 2 : 1).U8(0).U32(0).U32(0).U32(isIpc ? 0x001F01FFu : 0x001200A9u);
        return (StatusSuccess, response.ToArray(), tree.Id);
    }

    private (uint, byte[], ulong?) Create(Request request, Tree tree)
    {
        var body = request.Body;
        if (body.Length < 56)
        {
            return (StatusInvalidParameter, ErrorBody(), null);
        }
        var desiredAccess = BinaryPrimitives.ReadUInt32LittleEndian(body[24..]);
        var disposition = BinaryPrimitives.ReadUInt32LittleEndian(body[36..]);
        var options = BinaryPrimitives.ReadUInt32LittleEndian(body[40..]);
        var name = Encoding.Unicode.GetString(Slice(request.Message.Span, BinaryPrimitives.ReadUInt16LittleEndian(body[44..]), Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(body[46..]), (ushort)2048)));
        var path = SmbShareTree.Normalize(name);
        if (_opens.Count >= MaxOpens)
        {
            return (StatusInsufficientResources, ErrorBody(), null);
        }
        uint status;
        SmbEntry? entry = null;
        SrvsvcPipe? pipe = null;
        // Writes: FILE_WRITE_DATA, FILE_APPEND_DATA, WRITE_DAC/OWNER, DELETE, GENERIC_WRITE/ALL.
        const uint writeAccess = 0x2 | 0x4 | 0x00010000 | 0x00040000 | 0x00080000 | 0x40000000 | 0x10000000;
        if (tree.IsIpc)
        {
            if (string.Equals(path, "srvsvc", StringComparison.OrdinalIgnoreCase))
            {
                pipe = new SrvsvcPipe(server.Shares, (iface, opnum) => connection.Emit("rpc_call", ("pipe", iface), ("opnum", opnum.ToString(CultureInfo.InvariantCulture)), ("operation", opnum == 15 ? "NetrShareEnum" : null)));
                status = StatusSuccess;
            }
            else
            {
                status = StatusObjectNameNotFound;
            }
        }
        else
        {
            entry = server.Tree.Find(path);
            var parentExists = path.LastIndexOf('\\') is var slash && (slash < 0 || server.Tree.Find(path[..slash]) is { IsDirectory: true });
            status = entry is null
                ? (parentExists ? (disposition is 2 or 3 or 5 ? StatusAccessDenied : StatusObjectNameNotFound) : StatusObjectPathNotFound)
                : (desiredAccess & writeAccess) != 0 || disposition is 2 or 4 or 5 ? StatusAccessDenied
                : (options & 0x1) != 0 && !entry.IsDirectory ? StatusNotADirectory
                : (options & 0x40) != 0 && entry.IsDirectory ? StatusFileIsADirectory
                : StatusSuccess;
        }
        connection.Emit("file_open",
            ("share", tree.Share), ("path", path.Length == 0 ? "\\" : path), ("access", "0x" + desiredAccess.ToString("x8", CultureInfo.InvariantCulture)),
            ("disposition", disposition.ToString(CultureInfo.InvariantCulture)), ("status", StatusName(status)));
        if (status != StatusSuccess)
        {
            return (status, ErrorBody(), null);
        }
        var open = new Open(_nextFile++, tree, path, entry, pipe);
        _opens[open.Id] = open;
        var response = new PacketBuilder();
        var time = FileTime(entry);
        response.U16(89).U8(0).U8(0).U32(1).U64(time).U64(time).U64(time).U64(time);
        response.U64((ulong)AllocationSize(entry)).U64((ulong)(entry?.Size ?? 0)).U32(Attributes(entry)).U32(0);
        response.U64(open.Id).U64(open.Id).U32(0).U32(0);
        return (StatusSuccess, response.ToArray(), open.Id);
    }

    private (uint, byte[], ulong?, uint?, ulong?) Close(Open open)
    {
        _opens.Remove(open.Id);
        var response = new PacketBuilder();
        response.U16(60).U16(0).U32(0).Zeros(32).U64(0).U64(0).U32(0);
        return (StatusSuccess, response.ToArray(), null, null, null);
    }

    private (uint, byte[], ulong?, uint?, ulong?) Read(Request request, Open open)
    {
        var body = request.Body;
        if (body.Length < 48)
        {
            return (StatusInvalidParameter, ErrorBody(), null, null, null);
        }
        var length = Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(body[4..]), MaxTransfer);
        var offset = BinaryPrimitives.ReadUInt64LittleEndian(body[8..]);
        byte[] data;
        var status = StatusSuccess;
        if (open.Pipe is not null)
        {
            if (open.Pipe.PendingOutput == 0)
            {
                return (StatusPipeEmpty, ErrorBody(), null, null, null);
            }
            data = open.Pipe.Read((int)length, out var more);
            status = more ? StatusBufferOverflow : StatusSuccess;
        }
        else if (open.Entry is null || open.Entry.IsDirectory)
        {
            return (StatusInvalidDeviceRequest, ErrorBody(), null, null, null);
        }
        else
        {
            if (offset >= (ulong)open.Entry.Size)
            {
                return (StatusEndOfFile, ErrorBody(), null, null, null);
            }
            data = open.Entry.Content.AsSpan((int)offset, (int)Math.Min(length, (ulong)open.Entry.Size - offset)).ToArray();
            if (!open.ReadLogged)
            {
                open.ReadLogged = true;
                connection.Emit("file_read", ("share", open.Tree.Share), ("path", open.Path), ("size", open.Entry.Size.ToString(CultureInfo.InvariantCulture)));
            }
        }
        var response = new PacketBuilder();
        response.U16(17).U8(64 + 16).U8(0).U32((uint)data.Length).U32(0).U32(0).Bytes(data);
        return (status, response.ToArray(), null, null, null);
    }

    private (uint, byte[], ulong?, uint?, ulong?) Write(Request request, Open open)
    {
        var body = request.Body;
        if (body.Length < 48)
        {
            return (StatusInvalidParameter, ErrorBody(), null, null, null);
        }
        var data = Slice(request.Message.Span, BinaryPrimitives.ReadUInt16LittleEndian(body[2..]), BinaryPrimitives.ReadUInt32LittleEndian(body[4..]));
        if (open.Pipe is null)
        {
            connection.Emit("write_denied", ("share", open.Tree.Share), ("path", open.Path), ("bytes", data.Length.ToString(CultureInfo.InvariantCulture)));
            return (StatusAccessDenied, ErrorBody(), null, null, null);
        }
        if (!open.Pipe.Write(data))
        {
            return (StatusInvalidParameter, ErrorBody(), null, null, null);
        }
        var response = new PacketBuilder();
        response.U16(17).U16(0).U32((uint)data.Length).U32(0).U16(0).U16(0);
        return (StatusSuccess, response.ToArray(), null, null, null);
    }

    private (uint, byte[], ulong?, uint?, ulong?) Ioctl(Request request, Open? open)
    {
        var body = request.Body;
        if (body.Length < 56)
        {
            return (StatusInvalidParameter, ErrorBody(), null, null, null);
        }
        var code = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
        var input = Slice(request.Message.Span, BinaryPrimitives.ReadUInt32LittleEndian(body[24..]), BinaryPrimitives.ReadUInt32LittleEndian(body[28..]));
        var maxOutput = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(body[44..]), MaxTransfer);
        byte[] output;
        var status = StatusSuccess;
        switch (code)
        {
            case 0x00140204:
                // FSCTL_VALIDATE_NEGOTIATE_INFO: what this connection negotiated.
                output = new PacketBuilder().U32(0).Bytes(server.ServerGuid.ToByteArray()).U16(0x0001).U16(_dialect).ToArray();
                break;
            case 0x00060194:
                connection.Emit("ioctl", ("code", "FSCTL_DFS_GET_REFERRALS"));
                return (StatusFsDriverRequired, ErrorBody(), null, null, null);
            case 0x0011C017 when open?.Pipe is not null:
                if (!open.Pipe.Write(input))
                {
                    return (StatusInvalidParameter, ErrorBody(), null, null, null);
                }
                output = open.Pipe.Read(maxOutput, out var more);
                status = more ? StatusBufferOverflow : StatusSuccess;
                break;
            default:
                connection.Emit("ioctl", ("code", "0x" + code.ToString("x8", CultureInfo.InvariantCulture)), ("path", open?.Path));
                return (StatusNotSupported, ErrorBody(), null, null, null);
        }
        var response = new PacketBuilder();
        response.U16(49).U16(0).U32(code).Bytes(body.Slice(8, 16)).U32(64 + 48).U32(0).U32(64 + 48).U32((uint)output.Length).U32(0).U32(0).Bytes(output);
        return (status, response.ToArray(), null, null, null);
    }

    private (uint, byte[], ulong?, uint?, ulong?) QueryDirectory(Request request, Open open)
    {
        var body = request.Body;
        if (body.Length < 32)
        {
            return (StatusInvalidParameter, ErrorBody(), null, null, null);
        }
        if (open.Entry is not { IsDirectory: true } directory)
        {
            return (StatusInvalidParameter, ErrorBody(), null, null, null);
        }
        var infoClass = body[2];
        var flags = body[3];
        var pattern = Encoding.Unicode.GetString(Slice(request.Message.Span, BinaryPrimitives.ReadUInt16LittleEndian(body[24..]), Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(body[26..]), (ushort)512)));
        var maxOutput = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(body[28..]), MaxTransfer);
        if ((flags & 0x11) != 0)
        {
            open.Listed = false;
        }
        if (open.Listed)
        {
            return (StatusNoMoreFiles, ErrorBody(), null, null, null);
        }
        if (infoClass is not (0x01 or 0x02 or 0x03 or 0x0C or 0x25 or 0x26))
        {
            return (StatusInvalidInfoClass, ErrorBody(), null, null, null);
        }
        open.Listed = true;
        connection.Emit("directory_list", ("share", open.Tree.Share), ("path", open.Path.Length == 0 ? "\\" : open.Path), ("pattern", pattern));
        var entries = new PacketBuilder();
        var previous = -1;
        foreach (var (name, entry) in server.Tree.List(directory).Where(e => SmbShareTree.Matches(pattern, e.Name)))
        {
            var encoded = DirectoryEntry(infoClass, name, entry);
            if (entries.Length + encoded.Length > maxOutput || (flags & 0x2) != 0 && previous >= 0)
            {
                break;
            }
            if (previous >= 0)
            {
                entries.SetU32(previous, (uint)(entries.Length - previous));
            }
            previous = entries.Length;
            entries.Bytes(encoded);
            entries.Align(8);
        }
        if (previous < 0)
        {
            return (StatusNoMoreFiles, ErrorBody(), null, null, null);
        }
        var output = entries.Written[..Math.Min(entries.Length, maxOutput)];
        var response = new PacketBuilder();
        response.U16(9).U16(64 + 8).U32((uint)output.Length).Bytes(output);
        return (StatusSuccess, response.ToArray(), null, null, null);
    }

    private static byte[] DirectoryEntry(byte infoClass, string name, SmbEntry entry)
    {
        var nameBytes = Encoding.Unicode.GetBytes(name);
        var time = FileTime(entry);
        var record = new PacketBuilder();
        record.U32(0).U32(0);
        if (infoClass == 0x0C)
        {
            record.U32((uint)nameBytes.Length).Bytes(nameBytes);
            return record.ToArray();
        }
        record.U64(time).U64(time).U64(time).U64(time).U64((ulong)entry.Size).U64((ulong)AllocationSize(entry)).U32(Attributes(entry)).U32((uint)nameBytes.Length);
        switch (infoClass)
        {
            case 0x02:
                record.U32(0);
                break;
            case 0x26:
                record.U32(0).U32(0).U64(entry.Id);
                break;
            case 0x03:
                record.U32(0).U8(0).U8(0).Zeros(24);
                break;
            case 0x25:
                record.U32(0).U8(0).U8(0).Zeros(24).U16(0).U64(entry.Id);
                break;
        }
        record.Bytes(nameBytes);
        return record.ToArray();
    }

    private (uint, byte[], ulong?, uint?, ulong?) QueryInfo(Request request, Open open)
    {
        var body = request.Body;
        if (body.Length < 40)
        {
            return (StatusInvalidParameter, ErrorBody(), null, null, null);
        }
        var infoType = body[2];
        var infoClass = body[3];
        var maxOutput = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(body[4..]), MaxTransfer);
        var info = infoType switch
        {
            1 => FileInfo(infoClass, open),
            2 => FileSystemInfo(infoClass),
            _ => null,
        };
        if (infoType == 3)
        {
            return (StatusAccessDenied, ErrorBody(), null, null, null);
        }
        if (info is null)
        {
            return (StatusInvalidInfoClass, ErrorBody(), null, null, null);
        }
        var status = StatusSuccess;
        if (info.Length > maxOutput)
        {
            if (infoType == 1 && infoClass is not (18 or 22))
            {
                return (StatusInfoLengthMismatch, ErrorBody(), null, null, null);
            }
            info = info[..maxOutput];
            status = StatusBufferOverflow;
        }
        var response = new PacketBuilder();
        response.U16(9).U16(64 + 8).U32((uint)info.Length).Bytes(info);
        return (status, response.ToArray(), null, null, null);
    }

    private static byte[]? FileInfo(byte infoClass, Open open)
    {
        var entry = open.Entry;
        var time = FileTime(entry);
        var size = (ulong)(entry?.Size ?? 0);
        var directory = entry?.IsDirectory == true;
        var info = new PacketBuilder();
        switch (infoClass)
        {
            case 4:
                info.U64(time).U64(time).U64(time).U64(time).U32(Attributes(entry)).U32(0);
                break;
            case 5:
                info.U64((ulong)AllocationSize(entry)).U64(size).U32(1).U8(0).U8(directory ? 1 : 0).U16(0);
                break;
            case 6:
                info.U64(entry?.Id ?? open.Id);
                break;
            case 7:
                info.U32(0);
                break;
            case 18:
                var name = Encoding.Unicode.GetBytes("\\" + open.Path);
                info.U64(time).U64(time).U64(time).U64(time).U32(Attributes(entry)).U32(0);
                info.U64((ulong)AllocationSize(entry)).U64(size).U32(1).U8(0).U8(directory ? 1 : 0).U16(0);
                info.U64(entry?.Id ?? open.Id).U32(0).U32(0x001200A9).U64(0).U32(0).U32(0).U32((uint)name.Length).Bytes(name);
                break;
            case 22:
                if (!directory)
                {
                    var stream = Encoding.Unicode.GetBytes("::$DATA");
                    info.U32(0).U32((uint)stream.Length).U64(size).U64((ulong)AllocationSize(entry)).Bytes(stream);
                }
                break;
            case 34:
                info.U64(time).U64(time).U64(time).U64(time).U64((ulong)AllocationSize(entry)).U64(size).U32(Attributes(entry)).U32(0);
                break;
            case 35:
                info.U32(Attributes(entry)).U32(0);
                break;
            default:
                return null;
        }
        return info.ToArray();
    }

    private byte[]? FileSystemInfo(byte infoClass)
    {
        var info = new PacketBuilder();
        var created = (ulong)server.StartedAt.AddDays(-400).UtcDateTime.ToFileTimeUtc();
        switch (infoClass)
        {
            case 1:
                var label = Encoding.Unicode.GetBytes("Data");
                info.U64(created).U32(0x5A3C_19E7).U32((uint)label.Length).U8(0).U8(0).Bytes(label);
                break;
            case 3:
                info.U64(26_214_400).U64(9_437_184).U32(8).U32(512);
                break;
            case 4:
                info.U32(0x07).U32(0x20);
                break;
            case 5:
                var fs = Encoding.Unicode.GetBytes("NTFS");
                info.U32(0x00E700FF).U32(255).U32((uint)fs.Length).Bytes(fs);
                break;
            case 7:
                info.U64(26_214_400).U64(9_437_184).U64(9_437_184).U32(8).U32(512);
                break;
            default:
                return null;
        }
        return info.ToArray();
    }

    private static ulong FileTime(SmbEntry? entry) => (ulong)SmbShareTree.Modified.ToFileTimeUtc() + (entry?.Id % 97 ?? 0) * 10_000_000UL * 3_600;

    private static long AllocationSize(SmbEntry? entry) => entry is null || entry.IsDirectory ? 0 : (entry.Size + 4095) / 4096 * 4096;

    private static uint Attributes(SmbEntry? entry) => entry is null ? 0x80u : entry.IsDirectory ? 0x10u : 0x20u;

    /// <summary>A window of the message given an offset from its header; empty when it points outside.</summary>
    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> message, uint offset, uint length)
    {
        if (length == 0 || offset >= (uint)message.Length || length > (uint)message.Length - offset)
        {
            return [];
        }
        return message.Slice((int)offset, (int)length);
    }

    private static string StatusName(uint status) => status switch
    {
        StatusSuccess => "success",
        StatusAccessDenied => "access_denied",
        StatusBadNetworkName => "bad_network_name",
        StatusObjectNameNotFound => "not_found",
        StatusObjectPathNotFound => "path_not_found",
        StatusInsufficientResources => "too_many",
        StatusNotADirectory => "not_a_directory",
        StatusFileIsADirectory => "is_a_directory",
        _ => "0x" + status.ToString("x8", CultureInfo.InvariantCulture),
    };
}

/// <summary>NetBIOS first-level name encoding (RFC 1001 §14.1): each byte as two letters 'A'+nibble.</summary>
public static class NetBiosName
{
    /// <summary>Decodes the length-prefixed name at <paramref name="offset"/>; empty when malformed.</summary>
    public static string Decode(ReadOnlySpan<byte> data, int offset)
    {
        if (offset + 33 > data.Length || data[offset] != 32)
        {
            return "";
        }
        Span<char> name = stackalloc char[16];
        for (var i = 0; i < 16; i++)
        {
            var high = data[offset + 1 + (i * 2)] - 'A';
            var low = data[offset + 2 + (i * 2)] - 'A';
            if (high is < 0 or > 15 || low is < 0 or > 15)
            {
                return "";
            }
            var c = (char)((high << 4) | low);
            name[i] = char.IsControl(c) && i < 15 ? '?' : c;
        }
        var suffix = (byte)name[15];
        var text = new string(name[..15]).TrimEnd();
        return text + "<" + suffix.ToString("x2", CultureInfo.InvariantCulture) + ">";
    }

    public static void Encode(PacketBuilder packet, string name, byte suffix)
    {
        var padded = (name.Length > 15 ? name[..15] : name).ToUpperInvariant().PadRight(15);
        packet.U8(32);
        foreach (var c in padded + (char)suffix)
        {
            packet.U8('A' + ((c >> 4) & 0xF)).U8('A' + (c & 0xF));
        }
        packet.U8(0);
    }
}
