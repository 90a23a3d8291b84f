using System.Formats.Asn1;
using System.Net;
using System.Net.Sockets;
using CsCheck;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Ldap;
using Decnet.Core.Honeypots.NameResolution;
using Decnet.Core.Honeypots.Ntlm;
using Decnet.Core.Honeypots.Rdp;
using Decnet.Core.Honeypots.Smb;
using Microsoft.Extensions.Time.Testing;
using static Decnet.Tests.Honeypots.ProtocolFuzz;

namespace Decnet.Tests.Honeypots;

/// <summary>
/// Property-based fuzzing (CsCheck) of the Windows / directory family's parsers: NTLM, LDAP filters, the
/// srvsvc pipe and name-service datagrams, and RDP's CredSSP inside TLS on a live decky (the session-level
/// campaigns for SMB, LDAP, MSSQL, VNC and X.224 run in Fuzzing/WindowsProtocolFuzzTests).
/// </summary>
public sealed class WindowsFamilyFuzzTests
{
    private static readonly WindowsIdentity Identity = new("DC01", "CORP", "corp.local");

    [Fact]
    [Trait("Category", "Unit")]
    public void Mutated_ntlm_messages_never_throw_and_a_captured_hash_line_keeps_its_hashcat_fields()
    {
        Mutated(WindowsWire.NtlmNegotiate(), WindowsWire.NtlmAuthenticate("alice", "CORP"), WindowsWire.NtlmAuthenticate("", "", ""))
            .Sample(message =>
            {
                var ntlm = new NtlmServer(Identity);
                Assert.True(NtlmServer.IsNtlm(ntlm.Challenge(message), 2));
                var capture = ntlm.ReadAuthenticate(message);
                if (capture?.Hash is { } hash)
                {
                    // user::domain:… has six fields for both v1 and v2; an attacker's ':' or newline in a name must not shift them.
                    Assert.Equal(6, hash.Split(':').Length);
                    Assert.DoesNotContain(hash, char.IsControl);
                }
            }, iter: 3000);
    }

    private static byte[] Filter(Action<AsnWriter> write)
    {
        var writer = new AsnWriter(AsnEncodingRules.BER);
        write(writer);
        return writer.Encode();
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Mutated_ldap_filters_fail_only_as_the_session_expects_and_evaluate_over_the_whole_directory()
    {
        var directory = new LdapDirectory(Identity, null, DateTimeOffset.UnixEpoch);
        Mutated(Filter(WindowsWire.KerberoastFilter), Filter(WindowsWire.SubstringFilter), Filter(w => WindowsWire.Present(w, "objectClass")))
            .Sample(bytes =>
            {
                LdapFilter filter;
                try
                {
                    filter = LdapFilter.Read(new AsnReader(bytes, AsnEncodingRules.BER));
                }
                catch (Exception ex) when (ex is AsnContentException or ArgumentException)
                {
                    // The session answers these with protocolError and a notice of disconnection.
                    return;
                }
                Assert.NotEmpty(filter.ToString());
                _ = directory.Entries.Count(filter.Matches);
            }, iter: 3000);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Mutated_dce_rpc_pdus_never_throw_and_the_pipe_stays_bounded()
    {
        byte[] bind =
        [
            5, 0, 11, 3, 0x10, 0, 0, 0, 72, 0, 0, 0, 1, 0, 0, 0, 0xB8, 0x10, 0xB8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0,
            0, 0, 1, 0, 0xC8, 0x4F, 0x32, 0x4B, 0x70, 0x16, 0xD3, 0x01, 0x12, 0x78, 0x5A, 0x47, 0xBF, 0x6E, 0xE1, 0x88, 3, 0, 0, 0,
            0x04, 0x5D, 0x88, 0x8A, 0xEB, 0x1C, 0xC9, 0x11, 0x9F, 0xE8, 0x08, 0x00, 0x2B, 0x10, 0x48, 0x60, 2, 0, 0, 0,
        ];
        byte[] shareEnum = [5, 0, 0, 3, 0x10, 0, 0, 0, 48, 0, 0, 0, 2, 0, 0, 0, 24, 0, 0, 0, 0, 0, 15, 0, 0, 0, 0, 0, 1, 0, 0, 0, .. new byte[16]];
        Mutated(bind, shareEnum, [.. bind, .. shareEnum]).Sample(pdu =>
        {
            var pipe = new SrvsvcPipe([new SmbShareInfo("Shared", 0, "Department files")], (_, _) => { });
            for (var round = 0; round < 3 && pipe.Write(pdu); round++)
            {
                // Drained whole, so every read starts at a PDU boundary.
                var answer = pipe.Read(int.MaxValue, out var more);
                Assert.False(more);
                Assert.True(answer.Length == 0 || answer[0] == 5, "an answer is a DCE/RPC PDU");
            }
            Assert.InRange(pipe.PendingOutput, 0, SrvsvcPipe.MaxBufferedBytes + 8192);
        }, iter: 3000);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task Mutated_name_queries_never_throw_and_no_answer_is_larger_than_a_datagram_a_host_sends()
    {
        using var context = new HoneypotTestContext();
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var service = new NameResolutionHoneypot(new ServiceContext
        {
            DeckyName = "dc01", Hostname = "dc01", StateDirectory = context.Context.StateDirectory, ArtifactsDirectory = context.Context.ArtifactsDirectory,
            Events = context.Context.Events, LoggerFactory = context.Context.LoggerFactory, Time = time,
        });
        byte[] llmnr = [0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, .. "dc01"u8, 0, 0, 1, 0, 1];
        byte[] mdns = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, .. "dc01"u8, 5, .. "local"u8, 0, 0, 1, 0x80, 1];
        byte[] nbName = [0, 9, 1, 16, 0, 1, 0, 0, 0, 0, 0, 0, 32, .. "EEEDDADBCACACACACACACACACACACAAA"u8, 0, 0, 0x20, 0, 1];
        byte[] nbStatus = [0, 10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 32, .. "CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"u8, 0, 0, 0x21, 0, 1];
        var remote = new IPEndPoint(IPAddress.Parse("127.0.0.9"), 40000);
        await Mutated(llmnr, mdns, nbName, nbStatus).SampleAsync(async datagram =>
        {
            // A new second for every datagram: the rate limits must not hide the parser from the fuzzer.
            time.Advance(TimeSpan.FromSeconds(1));
            foreach (var port in new[] { NameResolutionHoneypot.LlmnrPort, NameResolutionHoneypot.MdnsPort, 137 })
            {
                var reply = await service.HandleDatagramAsync(datagram, remote, new IPEndPoint(IPAddress.Parse("127.0.0.8"), port), CancellationToken.None);
                if (reply is { } bytes)
                {
                    Assert.InRange(bytes.Length, 12, 512);
                }
            }
        }, iter: 2000, threads: 1);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Live_rdp_survives_mutated_credssp_messages_inside_tls()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new RdpHoneypotFactory());
        var endPoint = hosted.EndPointOf("rdp", 3389);
        byte[][] seeds =
        [
            WindowsWire.TsRequest(WindowsWire.NtlmNegotiate()),
            [.. WindowsWire.TsRequest(WindowsWire.NtlmNegotiate()), .. WindowsWire.TsRequest(WindowsWire.NtlmAuthenticate("alice", "CORP"))],
        ];
        await Mutated(seeds).SampleAsync(async payload =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(endPoint);
            try
            {
                await using var tls = await WindowsWire.RdpTlsAsync(client.GetStream(), "fuzz");
                await tls.WriteAsync(payload);
                using var brief = new CancellationTokenSource(TimeSpan.FromMilliseconds(60));
                _ = await tls.ReadAsync(new byte[4096], brief.Token);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                // Hanging up on garbage is a correct answer.
            }
            client.Client.LingerState = new LingerOption(true, 0);
        }, iter: 60, threads: 1);

        using (var last = new TcpClient())
        {
            await last.ConnectAsync(endPoint);
            await using var tls = await WindowsWire.RdpTlsAsync(last.GetStream(), "probe");
            await tls.WriteAsync(WindowsWire.TsRequest(WindowsWire.NtlmNegotiate()));
            await WindowsWire.ReadBerMessageAsync(tls);
            await tls.WriteAsync(WindowsWire.TsRequest(WindowsWire.NtlmAuthenticate("probe", "CORP")));
            await WindowsWire.ReadBerMessageAsync(tls);
        }
        await decky.Sink.WaitForAsync("auth", e => e.Field("username") == "probe" && e.Field("hashcat_mode") == "5600");
        DataFamilyKit.AssertNoFaults(decky);
    }
}
