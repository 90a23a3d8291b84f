using System.Buffers.Binary;
using System.Text;
using Decnet.Core.Honeypots.Smb;
using Decnet.Tests.Honeypots.Ntlm;

namespace Decnet.Tests.Honeypots.Smb;

[Trait("Category", "Integration")]
public sealed class SmbHoneypotTests
{
    private static Task<RealClient.Result> Smbclient(params string[] args) =>
        RealClient.RunAsync("smbclient", [.. args, "--option=client min protocol=SMB2"], timeout: TimeSpan.FromSeconds(60));

    private static string Describe(RealClient.Result result) => $"exit {result.ExitCode}\nstdout:\n{result.StdOut}\nstderr:\n{result.StdErr}";

    [Fact]
    public async Task Smbclient_lists_the_shares_anonymously()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmbHoneypotFactory());

        var result = await Smbclient("-L", $"//{decky.Address}", "-N");

        Assert.Matches(@"Shared\s+Disk\s+Department files", result.StdOut);
        Assert.Matches(@"IPC\$\s+IPC\s+Remote IPC", result.StdOut);
        Assert.Matches(@"ADMIN\$\s+Disk\s+Remote Admin", result.StdOut);
        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.True(auth.Field("status") == "anonymous", string.Join(";", auth.Fields.Select(f => f.Key + "=" + f.Value)));
        await decky.Sink.WaitForAsync("rpc_call", e => e.Field("operation") == "NetrShareEnum");
        Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0, s.FaultedSessions));
    }

    [Fact]
    public async Task A_login_is_captured_as_a_crackable_netntlmv2_line_and_the_share_lists_its_bait()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmbHoneypotFactory());

        var result = await Smbclient($"//{decky.Address}/Shared", "-U", "CORP\\alice%Summer2026!", "-c", "ls; cd IT; get passwords.txt /dev/null");

        Assert.True(result.StdOut.Contains("Finance", StringComparison.Ordinal), Describe(result));
        Assert.Matches(@"readme\.txt\s+A\s+\d+", result.StdOut);
        Assert.Contains("blocks of size", result.StdOut, StringComparison.Ordinal);
        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.Equal("alice", auth.Field("username"));
        Assert.Equal("CORP", auth.Field("domain"));
        Assert.Equal("NTLMv2", auth.Field("ntlm_version"));
        Assert.Equal("5600", auth.Field("hashcat_mode"));
        Assert.StartsWith("alice::CORP:", auth.Field("hash"), StringComparison.Ordinal);
        Assert.True(NtlmHashes.VerifiesNetNtlmV2(auth.Field("hash")!, "Summer2026!"), auth.Field("hash"));
        Assert.False(NtlmHashes.VerifiesNetNtlmV2(auth.Field("hash")!, "Summer2025!"));
        Assert.Equal(auth.Field("hash"), BountyOf.Credential(auth)["hash"]);
        var read = await decky.Sink.WaitForAsync("file_read");
        Assert.Equal("IT\\passwords.txt", read.Field("path"));
        Assert.Contains(decky.Sink.OfType("tree_connect"), e => e.Field("share") == "Shared" && e.Field("status") == "success");
    }

    [Fact]
    public async Task Smbclient_over_netbios_port_139_opens_a_session_and_lists_the_shares()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmbHoneypotFactory());

        var result = await Smbclient("-p", "139", "-L", $"//{decky.Address}", "-N");

        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(result.StdOut, @"Shared\s+Disk\s+Department files"), Describe(result));
        var session = await decky.Sink.WaitForAsync("netbios_session");
        Assert.False(string.IsNullOrEmpty(session.Field("called_name")));
        Assert.DoesNotContain(decky.Sink.OfType("protocol_error"), e => e.Field("error")!.Contains("NetBIOS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_and_admin_shares_are_refused()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmbHoneypotFactory());

        var admin = await Smbclient($"//{decky.Address}/C$", "-U", "administrator%Passw0rd", "-c", "ls");
        Assert.Contains("NT_STATUS_ACCESS_DENIED", admin.StdOut + admin.StdErr, StringComparison.Ordinal);
        var missing = await Smbclient($"//{decky.Address}/nosuch", "-N", "-c", "ls");
        Assert.Contains("NT_STATUS_BAD_NETWORK_NAME", missing.StdOut + missing.StdErr, StringComparison.Ordinal);
    }

    /// <summary>An SMB2 message (64-byte header, then the body) as a client would put it in a NetBIOS frame.</summary>
    private static byte[] Smb2(ushort command, byte[] body, ulong sessionId = 0, uint treeId = 0, uint next = 0)
    {
        var message = new byte[64 + body.Length];
        message[0] = 0xFE;
        "SMB"u8.CopyTo(message.AsSpan(1));
        message[4] = 64;
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(12), command);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(14), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(20), next);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(36), treeId);
        BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(40), sessionId);
        body.CopyTo(message, 64);
        return message;
    }

    private static byte[] Frame(params byte[][] messages)
    {
        byte[] all = [.. messages.SelectMany(m => m)];
        return [0, (byte)(all.Length >> 16), (byte)(all.Length >> 8), (byte)all.Length, .. all];
    }

    /// <summary>SESSION_SETUP carrying a security blob at its usual place (offset 88 from the header).</summary>
    private static byte[] SessionSetup(byte[] blob, ulong sessionId, ushort offset = 88, ushort? length = null)
    {
        var body = new byte[24 + blob.Length];
        body[0] = 25;
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(12), offset);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(14), length ?? (ushort)blob.Length);
        blob.CopyTo(body, 24);
        return Smb2(0x0001, body, sessionId);
    }

    private static byte[] NtlmNegotiate() => [.. "NTLMSSP\0"u8, 1, 0, 0, 0, 0x97, 0x82, 0x08, 0xE2, .. new byte[16]];

    /// <summary>An NTLM AUTHENTICATE whose six fields all have the given length and offset, Unicode flag set.</summary>
    private static byte[] NtlmAuthenticate(ushort length, uint offset)
    {
        var message = new byte[64];
        "NTLMSSP\0"u8.CopyTo(message);
        message[8] = 3;
        for (var at = 12; at <= 52; at += 8)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(at), length);
            BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(at + 2), length);
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(at + 4), offset);
        }
        message[60] = 1;
        return message;
    }

    private static byte[] TreeConnect(string share, ulong sessionId, ushort? pathOffset = null)
    {
        var path = Encoding.Unicode.GetBytes(share);
        var body = new byte[8 + path.Length];
        body[0] = 9;
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(4), pathOffset ?? 72);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(6), (ushort)path.Length);
        path.CopyTo(body, 8);
        return Smb2(0x0003, body, sessionId);
    }

    private static byte[] Create(string name, ulong sessionId, uint treeId, ushort nameLength)
    {
        var encoded = Encoding.Unicode.GetBytes(name);
        var body = new byte[56 + encoded.Length];
        body[0] = 57;
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(24), 0x00120089);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(36), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(44), 120);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(46), nameLength);
        encoded.CopyTo(body, 56);
        return Smb2(0x0005, body, sessionId, treeId);
    }

    /// <summary>A request on file id 1 (the first open of the connection) with the given body, the file id written at its place.</summary>
    private static byte[] OnFile(ushort command, int size, int fileIdAt, ulong sessionId, uint treeId, Action<byte[]> fill)
    {
        var body = new byte[size];
        BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(fileIdAt), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(fileIdAt + 8), 1);
        fill(body);
        return Smb2(command, body, sessionId, treeId);
    }

    [Fact]
    public async Task Garbage_hostile_offsets_and_truncated_messages_leave_no_fault_and_smbclient_still_lists_the_shares()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new SmbHoneypotFactory());
        const ulong session = 7;
        // One connection that logs in anonymously (client-chosen session id), reaches the share, then sends
        // requests whose every length and offset points past the message.
        byte[] deep =
        [
            .. Frame(SessionSetup(NtlmNegotiate(), session)),
            .. Frame(SessionSetup(NtlmAuthenticate(0, 64), session)),
            .. Frame(TreeConnect("\\\\decky\\Shared", session)),
            .. Frame(TreeConnect("\\\\decky\\Shared", session, pathOffset: 0xFFF0)),
            .. Frame(Create("IT", session, treeId: 1, nameLength: 0xFFFF)),
            .. Frame(Create("IT", session, treeId: 1, nameLength: 4)),
            .. Frame(OnFile(0x000E, 32, 8, session, 1, b => { b[0] = 33; b[2] = 0x25; BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(24), 0xFFFF); BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(26), 0xFFFF); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(28), uint.MaxValue); })),
            .. Frame(OnFile(0x0008, 48, 16, session, 1, b => { b[0] = 49; BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), uint.MaxValue); BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), ulong.MaxValue); })),
            .. Frame(OnFile(0x000B, 56, 8, session, 1, b => { b[0] = 57; BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 0x0011C017); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24), uint.MaxValue); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(28), uint.MaxValue); })),
            .. Frame(OnFile(0x0010, 40, 24, session, 1, b => { b[0] = 41; b[2] = 1; b[3] = 18; BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 3); })),
            .. Frame(OnFile(0x0009, 48, 16, session, 1, b => { b[0] = 49; BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), 0xFFFF); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), uint.MaxValue); })),
            .. Frame(OnFile(0x0006, 24, 8, session, 1, b => b[0] = 24)),
            .. Frame(Smb2(0x0042, new byte[8], session, 1)),
        ];
        await Robustness.SendGarbageAsync(hosted.EndPointOf("smb", 445),
        [
            deep,
            [0x00, 0xFF, 0xFF, 0xFF],
            [0x42, 0x00, 0x00, 0x04, 1, 2, 3, 4],
            [0x00, 0x00, 0x00, 0x05, 0xFF, (byte)'S', (byte)'M', (byte)'B', 0x72],
            [0x00, 0x00, 0x00, 0x25, 0xFF, (byte)'S', (byte)'M', (byte)'B', 0x72, .. new byte[28], 0xFF, 0xFF, 0x02, (byte)'N'],
            Frame(Smb2(0x0000, new byte[2])),
            Frame(Smb2(0x0000, [36, 0, 0xFF, 0xFF, .. new byte[32]])),
            Frame(Smb2(0x0000, new byte[8], next: 8)),
            Frame([.. Enumerable.Range(0, 40).SelectMany(_ => Smb2(0x0000, [36, 0, 1, 0, .. new byte[32], 0x02, 0x02, 0, 0], next: 104))]),
            Frame(SessionSetup(new byte[4], 0, offset: 0xFFFF, length: 0xFFFF)),
            Frame(SessionSetup([0x60, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0xA0, 0x84, 0x7F, 0xFF, 0xFF, 0xFF], 0)),
            [.. Frame(SessionSetup(NtlmNegotiate(), 9)), .. Frame(SessionSetup(NtlmAuthenticate(0xFFFF, 0xFFFFFFF0), 9))],
            Frame(TreeConnect("\\\\decky\\Shared", 1234)),
            [0x81, 0x00, 0x00, 0x03, 0x20, 0x41, 0x41],
        ]);
        await decky.Sink.WaitForAsync("protocol_error", e => e.Field("error") == "frame too large");
        await decky.Sink.WaitForAsync("protocol_error", e => e.Field("error") == "not an SMB frame");
        await decky.Sink.WaitForAsync("protocol_error", e => e.Field("error") == "bad compound offset");
        await decky.Sink.WaitForAsync("protocol_error", e => e.Field("error") == "malformed NTLM authenticate");
        await decky.Sink.WaitForAsync("protocol_error", e => e.Field("error") == "session setup without NTLMSSP");
        // The hostile requests were reached, not cut short at the door.
        await decky.Sink.WaitForAsync("file_open", e => e.Field("path") == "IT" && e.Field("status") == "success");

        var result = await Smbclient("-L", $"//{decky.Address}", "-N");
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(result.StdOut, @"Shared\s+Disk\s+Department files"), Describe(result));
        Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0, s.FaultedSessions));
    }

    [Fact]
    public void A_pipe_written_to_without_being_read_breaks_instead_of_growing()
    {
        var pipe = new SrvsvcPipe([new SmbShareInfo("Shared", 0, "Department files")], (_, _) => { });
        // Short request PDUs: each is answered with a fault PDU twice its size, and nothing is ever read.
        var requests = Enumerable.Range(0, 1000).SelectMany(_ => (byte[])[5, 0, 0, 3, 0x10, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0]).ToArray();
        var accepted = 0;
        while (pipe.Write(requests))
        {
            accepted++;
            Assert.True(accepted < 100, "the pipe kept accepting writes nobody reads");
        }

        Assert.InRange(pipe.PendingOutput, 1, SrvsvcPipe.MaxBufferedBytes + 64);
        Assert.False(pipe.Write(requests));
    }
}
