using System.Buffers.Binary;
using System.Text;
using Decnet.Core.Honeypots.Ldap;
using Decnet.Core.Honeypots.Mssql;
using Decnet.Core.Honeypots.Rdp;
using Decnet.Core.Honeypots.Smb;
using Decnet.Core.Honeypots.Vnc;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Honeypots.Fuzzing;

/// <summary>
/// Fuzz campaigns (see <see cref="ProtocolFuzzer"/>) for the Windows / directory family: SMB2, LDAP, TDS,
/// RFB and RDP's X.224 negotiation from valid client conversations, held unfinished messages measured on
/// the heap, then the real client. CredSSP inside RDP's TLS is fuzzed by WindowsFamilyFuzzTests.
/// </summary>
[Trait("Category", "Integration")]
[Collection(ProcessMeasurementCollection.Name)]
[Trait("Category", TestCategories.Isolated)]
public sealed class WindowsProtocolFuzzTests
{
    private const ulong Session = 5;

    /// <summary>An anonymous login with a client-chosen session id, then IPC$, the srvsvc pipe, a bind and NetrShareEnum.</summary>
    private static IReadOnlyList<byte[]> SmbConversation()
    {
        var path = Encoding.Unicode.GetBytes("\\\\decky\\IPC$");
        var pipe = Encoding.Unicode.GetBytes("srvsvc");
        var create = new byte[56 + pipe.Length];
        create[0] = 57;
        BinaryPrimitives.WriteUInt32LittleEndian(create.AsSpan(24), 0x0012019F);
        BinaryPrimitives.WriteUInt32LittleEndian(create.AsSpan(36), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(create.AsSpan(44), 120);
        BinaryPrimitives.WriteUInt16LittleEndian(create.AsSpan(46), (ushort)pipe.Length);
        pipe.CopyTo(create, 56);
        byte[] bind =
        [
            5, 0, 11, 3, 0x10, 0, 0, 0, 72, 0, 0, 0, 1, 0, 0, 0, 0xB8, 0x10, 0xB8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0,
            0, 0, 1, 0, 0xC8, 0x4F, 0x32, 0x4B, 0x70, 0x16, 0xD3, 0x01, 0x12, 0x78, 0x5A, 0x47, 0xBF, 0x6E, 0xE1, 0x88, 3, 0, 0, 0,
            0x04, 0x5D, 0x88, 0x8A, 0xEB, 0x1C, 0xC9, 0x11, 0x9F, 0xE8, 0x08, 0x00, 0x2B, 0x10, 0x48, 0x60, 2, 0, 0, 0,
        ];
        byte[] shareEnum = [5, 0, 0, 3, 0x10, 0, 0, 0, 48, 0, 0, 0, 2, 0, 0, 0, 24, 0, 0, 0, 0, 0, 15, 0, 0, 0, 0, 0, 1, 0, 0, 0, .. new byte[16]];
        byte[] Write(byte[] data)
        {
            var body = new byte[48 + data.Length];
            body[0] = 49;
            BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(2), 64 + 48);
            BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), (uint)data.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(16), 1);
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(24), 1);
            data.CopyTo(body, 48);
            return WindowsWire.Smb2Frame(0x0009, 6, Session, body, treeId: 1);
        }
        var read = new byte[48];
        read[0] = 49;
        BinaryPrimitives.WriteUInt32LittleEndian(read.AsSpan(4), 4280);
        BinaryPrimitives.WriteUInt64LittleEndian(read.AsSpan(16), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(read.AsSpan(24), 1);
        byte[] anonymous = [.. "NTLMSSP\0"u8, 3, 0, 0, 0, .. Enumerable.Range(0, 6).SelectMany(_ => (byte[])[0, 0, 0, 0, 64, 0, 0, 0]), 1, 0, 0, 0];
        return
        [
            WindowsWire.SmbNegotiate(),
            WindowsWire.SmbSessionSetup(1, Session, WindowsWire.NtlmNegotiate()),
            WindowsWire.SmbSessionSetup(2, Session, anonymous),
            WindowsWire.Smb2Frame(0x0003, 3, Session, [9, 0, 0, 0, 72, 0, (byte)path.Length, 0, .. path]),
            WindowsWire.Smb2Frame(0x0005, 4, Session, create, treeId: 1),
            Write(bind),
            Write(shareEnum),
            WindowsWire.Smb2Frame(0x0008, 7, Session, read, treeId: 1),
            WindowsWire.Smb2Frame(0x0002, 8, Session, [4, 0, 0, 0]),
        ];
    }

    [Fact]
    public Task Smb_survives_random_and_mutated_smb2_messages() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new SmbHoneypotFactory(),
        ValidFrames = SmbConversation(),
        RealClient = async target =>
        {
            var shares = await RealClient.RunAsync("smbclient", ["-L", $"//{target.Address}", "-p", target.Port, "-N", "--option=client min protocol=SMB2"], timeout: TimeSpan.FromSeconds(60));
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(shares.StdOut, @"Shared\s+Disk\s+Department files"), shares.StdOut + shares.StdErr);
        },
    });

    [Fact]
    public Task Ldap_survives_random_and_mutated_ber_messages() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new LdapHoneypotFactory(),
        ValidFrames =
        [
            WindowsWire.LdapSearch(1, "", 0, w => WindowsWire.Present(w, "objectClass"), "defaultNamingContext", "supportedSASLMechanisms"),
            WindowsWire.LdapSimpleBind(2, "CN=svc_sql,CN=Users,DC=corp,DC=local", "Summer2026!"),
            WindowsWire.LdapSearch(3, "DC=corp,DC=local", 2, WindowsWire.KerberoastFilter, "servicePrincipalName", "sAMAccountName"),
            WindowsWire.LdapSearch(4, "DC=corp,DC=local", 2, WindowsWire.SubstringFilter, "cn", "description"),
            [0x30, 0x05, 0x02, 0x01, 0x05, 0x42, 0x00],
        ],
        RealClient = async target =>
        {
            var rootDse = await RealClient.RunAsync("ldapsearch", ["-x", "-H", $"ldap://{target.Address}:{target.Port}", "-s", "base", "-b", "", "defaultNamingContext"]);
            Assert.True(rootDse.StdOut.Contains("defaultNamingContext: DC=corp,DC=local", StringComparison.Ordinal), rootDse.StdOut + rootDse.StdErr);
        },
    });

    [Fact]
    public Task Mssql_survives_random_and_mutated_tds_packets() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new MssqlHoneypotFactory(),
        ValidFrames = [WindowsWire.TdsPrelogin(), WindowsWire.TdsLogin7("sa", "Pr0d#Sql!2019")],
        RealClient = async target =>
        {
            var login = await RealClient.RunAsync("tsql", ["-H", target.Address.ToString(), "-p", target.Port, "-U", "sa", "-P", "after-the-fuzz"], stdin: "quit\n");
            Assert.Contains("Login failed for user 'sa'", login.StdOut + login.StdErr, StringComparison.Ordinal);
        },
    });

    [Fact]
    public Task Vnc_survives_random_and_mutated_rfb_handshakes() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new VncHoneypotFactory(),
        ValidFrames = [FuzzFrames.Ascii("RFB 003.008\n"), [2], new byte[16]],
        RealClient = async target =>
        {
            var passwd = Path.Combine(target.Decky.Root, "passwd");
            await File.WriteAllBytesAsync(passwd, new byte[8], TestContext.Current.CancellationToken);
            var snapshot = await RealClient.RunAsync("vncsnapshot", ["-passwd", passwd, $"{target.Address}::{target.Port}", Path.Combine(target.Decky.Root, "shot.jpg")]);
            Assert.NotEqual(0, snapshot.ExitCode);
            await target.Decky.Sink.WaitForAsync("auth_response", e => e.Field("client_version") == "003.003");
        },
    });

    [Fact]
    public Task Rdp_survives_random_and_mutated_connection_requests() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new RdpHoneypotFactory(),
        ValidFrames = [WindowsWire.X224ConnectionRequest("administrator", 0x0B)],
        RealClient = async target =>
        {
            var login = await RealClient.RunAsync("xvfb-run", ["-a", "xfreerdp", "+auth-only", "/cert:ignore", $"/v:{target.Address}:{target.Port}", "/u:after", "/p:the-fuzz", "/d:CORP"],
                timeout: TimeSpan.FromSeconds(60));
            Assert.Contains("LOGON_FAILURE", login.StdOut + login.StdErr, StringComparison.Ordinal);
        },
    });
}
