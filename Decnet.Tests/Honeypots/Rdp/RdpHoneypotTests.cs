using System.Net;
using System.Net.Sockets;
using Decnet.Core.Honeypots.Rdp;
using Decnet.Tests.Honeypots.Ntlm;

namespace Decnet.Tests.Honeypots.Rdp;

[Trait("Category", "Integration")]
public sealed class RdpHoneypotTests
{
    /// <summary>xfreerdp needs an X display even to authenticate only; a throwaway Xvfb provides it.</summary>
    private static Task<RealClient.Result> Xfreerdp(IPAddress address, string user, string password, string domain) =>
        RealClient.RunAsync("xvfb-run", ["-a", "xfreerdp", "+auth-only", "/cert:ignore", $"/v:{address}", $"/u:{user}", $"/p:{password}", $"/d:{domain}"],
            timeout: TimeSpan.FromSeconds(60));

    [Fact]
    public async Task An_xfreerdp_nla_login_is_captured_as_a_crackable_netntlmv2_line_and_refused()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new RdpHoneypotFactory());

        var result = await Xfreerdp(decky.Address, "alice", "Autumn2026!", "CORP");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("LOGON_FAILURE", result.StdOut + result.StdErr, StringComparison.Ordinal);
        var request = await decky.Sink.WaitForAsync("connection_request");
        Assert.Equal(("alice", "hybrid"), (request.Field("username"), request.Field("selected_protocol")));
        Assert.Contains("hybrid", request.Field("requested_protocols"), StringComparison.Ordinal);
        await decky.Sink.WaitForAsync("tls_session");
        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.Equal(("alice", "CORP", "NTLMv2"), (auth.Field("username"), auth.Field("domain"), auth.Field("ntlm_version")));
        Assert.True(NtlmHashes.VerifiesNetNtlmV2(auth.Field("hash")!, "Autumn2026!"), auth.Field("hash"));
        Assert.False(NtlmHashes.VerifiesNetNtlmV2(auth.Field("hash")!, "Autumn2025!"));
        Assert.Equal(auth.Field("hash"), BountyOf.Credential(auth)["hash"]);
    }

    [Fact]
    public async Task A_client_without_nla_is_told_that_the_server_requires_it()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new RdpHoneypotFactory());
        using var client = new TcpClient();
        await client.ConnectAsync(hosted.EndPointOf("rdp", 3389));
        var stream = client.GetStream();
        // X.224 connection request with a cookie, asking for TLS only (PROTOCOL_SSL).
        byte[] cookie = [.. "Cookie: mstshash=scanner\r\n"u8];
        byte[] negotiation = [0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00];
        var indicator = 6 + cookie.Length + negotiation.Length;
        byte[] request = [0x03, 0x00, 0x00, (byte)(5 + indicator), (byte)indicator, 0xE0, 0, 0, 0, 0, 0, .. cookie, .. negotiation];
        await stream.WriteAsync(request);

        var confirm = new byte[19];
        await stream.ReadExactlyAsync(confirm);

        // RDP_NEG_FAILURE (type 3) with HYBRID_REQUIRED_BY_SERVER (5).
        Assert.Equal([0x03, 0x00, 0x00, 0x13, 0x0E, 0xD0], confirm[..6]);
        Assert.Equal([0x03, 0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00], confirm[11..]);
        var logged = await decky.Sink.WaitForAsync("connection_request");
        Assert.Equal(("scanner", "ssl", "refused"), (logged.Field("username"), logged.Field("requested_protocols"), logged.Field("selected_protocol")));
    }

    [Fact]
    public async Task Garbage_and_truncated_requests_leave_no_fault_and_xfreerdp_still_gets_through()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new RdpHoneypotFactory());
        await Robustness.SendGarbageAsync(hosted.EndPointOf("rdp", 3389),
        [
            [0x03, 0x00, 0x00, 0x0b, 0xff, 0xe0, 0, 0, 0, 0, 0],
            [0x03, 0x00, 0x00, 0x0b, 0x06, 0xe0, 0, 0, 0, 0, 0],
            [0x03, 0x00, 0xff, 0xff, 0x06, 0xe0],
            [0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0, 0x08, 0, 0x02, 0, 0, 0, 0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            [0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0, 0x08, 0, 0x02, 0, 0, 0, 0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5],
            "Cookie: mstshash=x\r\n"u8.ToArray(),
        ]);
        await decky.Sink.WaitForAsync("protocol_error");
        await decky.Sink.WaitForAsync("tls_error");

        var result = await Xfreerdp(decky.Address, "after", "garbage", "CORP");
        Assert.Contains("LOGON_FAILURE", result.StdOut + result.StdErr, StringComparison.Ordinal);
        await decky.Sink.WaitForAsync("auth", e => e.Field("username") == "after");
        Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0, s.FaultedSessions));
    }
}
