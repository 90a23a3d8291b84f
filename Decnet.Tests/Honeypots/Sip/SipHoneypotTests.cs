using System.Net;
using System.Net.Sockets;
using System.Text;
using Decnet.Core.Bounty;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Sip;

namespace Decnet.Tests.Honeypots.Sip;

[Trait("Category", "Integration")]
public sealed class SipHoneypotTests
{
    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task Sipsak_options_ping_is_answered_by_an_asterisk_pbx(string transport)
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SipHoneypotFactory(), new Dictionary<string, string> { ["version"] = "16.28.0" });

        var ping = await RealClient.RunAsync("sipsak", ["-vv", "--transport", transport, "-s", $"sip:{decky.Address}"]);

        Assert.True(ping.ExitCode == 0, ping.StdOut + ping.StdErr);
        Assert.Contains("SIP/2.0 200 OK", ping.StdOut, StringComparison.Ordinal);
        Assert.Contains("Server: Asterisk PBX 16.28.0", ping.StdOut, StringComparison.Ordinal);
        var request = await decky.Sink.WaitForAsync("request", e => e.Field("method") == "OPTIONS");
        Assert.Equal(transport, request.Field("transport"));
        Assert.Contains("sipsak", request.Field("user_agent") ?? string.Empty, StringComparison.OrdinalIgnoreCase);
        Assert.NotNull(request.Field("src_ip"));
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public async Task A_register_is_challenged_and_the_digest_response_is_captured_in_a_form_that_cracks_to_the_password(string transport)
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SipHoneypotFactory());

        var register = await RealClient.RunAsync("sipsak",
            ["-vvv", "--transport", transport, "-U", "-C", "empty", "-x", "60", "-s", $"sip:2001@{decky.Address}", "-a", "summer2024", "-u", "2001"]);

        // sipsak prints the final reply on stderr as part of its error.
        Assert.Contains("SIP/2.0 401 Unauthorized", register.StdOut + register.StdErr, StringComparison.Ordinal);
        Assert.Contains("SIP/2.0 403 Forbidden", register.StdOut + register.StdErr, StringComparison.Ordinal);
        var attempt = await decky.Sink.WaitForAsync("auth_attempt");
        Assert.Equal("2001", attempt.Field("username"));
        Assert.Equal("asterisk", attempt.Field("realm"));
        Assert.Equal("REGISTER", attempt.Field("method"));
        Assert.Equal("failed", attempt.Field("status"));
        Assert.Equal("11400", attempt.Field("hashcat_mode"));

        // The captured line is everything a cracker needs: recomputing it with the right guess gives the response.
        var line = attempt.Field("hash")!;
        Assert.StartsWith("$sip$*", line, StringComparison.Ordinal);
        Assert.True(CracksTo(line, "summer2024"), line);
        Assert.False(CracksTo(line, "winter2024"), line);

        var bounty = Assert.Single(WireBounty.Of(attempt));
        Assert.Equal(BountyExtractor.Credential, bounty.BountyType);
        Assert.Equal(line, WireBounty.Payload(bounty)["hash"]);
        Assert.Equal("2001", WireBounty.Payload(bounty)["username"]);
    }

    [Fact]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5351", Justification = "SIP Digest is MD5 by protocol.")]
    public async Task An_invite_answered_with_a_digest_is_captured_as_an_invite_attempt_that_cracks_to_the_password()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new SipHoneypotFactory());
        var server = hosted.EndPointOf("sip", 5060, ServiceTransport.Udp);
        using var phone = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        phone.Bind(new IPEndPoint(TestDecky.NextAddress(), 0));
        var local = (IPEndPoint)phone.LocalEndPoint!;
        var uri = $"sip:1001@{decky.Address}";
        var sdp = $"v=0\r\no=- 4711 1 IN IP4 {local.Address}\r\ns=call\r\nc=IN IP4 {local.Address}\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n";
        string Invite(int cseq, string? authorization) =>
            $"INVITE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-inv{cseq};rport\r\nMax-Forwards: 70\r\n" +
            $"From: <sip:2001@{local.Address}>;tag=caller1\r\nTo: <{uri}>\r\nCall-ID: invite-digest@{local.Address}\r\nCSeq: {cseq} INVITE\r\n" +
            $"Contact: <sip:2001@{local}>\r\nUser-Agent: friendly-scanner\r\n" + (authorization is null ? string.Empty : $"Authorization: {authorization}\r\n") +
            $"Content-Type: application/sdp\r\nContent-Length: {Encoding.ASCII.GetByteCount(sdp)}\r\n\r\n{sdp}";
        async Task<string> ExchangeAsync(string request)
        {
            await phone.SendToAsync(Encoding.ASCII.GetBytes(request), server);
            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var received = await phone.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, received.ReceivedBytes);
        }

        var challenge = await ExchangeAsync(Invite(1, null));
        Assert.StartsWith("SIP/2.0 401 Unauthorized\r\n", challenge, StringComparison.Ordinal);
        Assert.Contains("CSeq: 1 INVITE", challenge, StringComparison.Ordinal);
        var offer = System.Text.RegularExpressions.Regex.Match(challenge, "WWW-Authenticate: Digest .*realm=\"(?<realm>[^\"]+)\", nonce=\"(?<nonce>[^\"]+)\"");
        Assert.True(offer.Success, challenge);
        var (realm, nonce) = (offer.Groups["realm"].Value, offer.Groups["nonce"].Value);
        static string Md5(string text) => Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(Encoding.UTF8.GetBytes(text)));
        var response = Md5($"{Md5($"2001:{realm}:summer2024")}:{nonce}:{Md5($"INVITE:{uri}")}");
        var answered = await ExchangeAsync(Invite(2, $"Digest username=\"2001\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5"));

        Assert.StartsWith("SIP/2.0 403 Forbidden\r\n", answered, StringComparison.Ordinal);
        var attempt = await decky.Sink.WaitForAsync("auth_attempt");
        Assert.Equal(("2001", "INVITE", uri, "failed", "udp"), (attempt.Field("username"), attempt.Field("method"), attempt.Field("uri"), attempt.Field("status"), attempt.Field("transport")));
        Assert.Equal(local.Address.ToString(), attempt.Field("src_ip"));
        var line = attempt.Field("hash")!;
        Assert.StartsWith("$sip$*", line, StringComparison.Ordinal);
        Assert.Equal("INVITE", line["$sip$*".Length..].Split('*')[4]);
        Assert.True(CracksTo(line, "summer2024"), line);
        Assert.False(CracksTo(line, "winter2024"), line);
        Assert.Equal(line, WireBounty.Payload(Assert.Single(WireBounty.Of(attempt)))["hash"]);
        await decky.Sink.WaitForAsync("request", e => e.Field("method") == "INVITE" && e.Field("user_agent") == "friendly-scanner");
    }

    [Fact]
    public async Task A_persona_extension_with_the_right_password_registers()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SipHoneypotFactory(), new Dictionary<string, string> { ["users"] = "3001:Tr0mbone", ["realm"] = "pbx.corp.example" });

        var register = await RealClient.RunAsync("sipsak",
            ["-vvv", "-U", "-C", "empty", "-x", "60", "-s", $"sip:3001@{decky.Address}", "-a", "Tr0mbone", "-u", "3001"]);

        Assert.Contains("SIP/2.0 200 OK", register.StdOut + register.StdErr, StringComparison.Ordinal);
        var attempt = await decky.Sink.WaitForAsync("auth_attempt");
        Assert.Equal("success", attempt.Field("status"));
        Assert.Equal("pbx.corp.example", attempt.Field("realm"));
    }

    [Fact]
    public async Task Replies_go_to_the_via_port_of_the_sender_never_to_another_address()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new SipHoneypotFactory());
        var server = hosted.EndPointOf("sip", 5060, ServiceTransport.Udp);
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var listenPort = ((IPEndPoint)listener.LocalEndPoint!).Port;

        // The Via names a third host: the answer still goes to the sender's own address, at the Via port.
        var options = $"OPTIONS sip:{decky.Address} SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.7:{listenPort};branch=z9hG4bK-1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:{decky.Address}>\r\nCall-ID: via-test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        await sender.SendToAsync(Encoding.ASCII.GetBytes(options), server);
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = await listener.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
        var reply = Encoding.ASCII.GetString(buffer, 0, received.ReceivedBytes);

        Assert.StartsWith("SIP/2.0 200 OK\r\n", reply, StringComparison.Ordinal);
        Assert.Contains($"Via: SIP/2.0/UDP 198.51.100.7:{listenPort};branch=z9hG4bK-1;received=127.0.0.1", reply, StringComparison.Ordinal);
        Assert.Equal(server, (IPEndPoint)received.RemoteEndPoint);
    }

    [Fact]
    public async Task Garbage_datagrams_and_streams_fault_nothing_and_sipsak_is_served_afterwards()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new SipHoneypotFactory());
        var udp = hosted.EndPointOf("sip", 5060, ServiceTransport.Udp);
        string[] mutated =
        [
            "REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4:99999999999;rport\r\nAuthorization: Digest username=\"a\", response=\"" + new string('f', 40) + "\", uri=\"***\r\nCSeq: x\r\n\r\n",
            "INVITE sip:x SIP/2.0\r\nAuthorization: Digest \"\"\"===,,,\r\nContent-Length: -5\r\n\r\n",
            "SIP/2.0 200 OK\r\n\r\n",
            "OPTIONS  SIP/2.0\r\n",
            "REGISTER sip:x SIP/2.0\r\n" + string.Concat(Enumerable.Repeat("X-Junk: 1\r\n", 500)),
            "\0\0\0\0",
        ];
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            var random = new Random(5060);
            foreach (var text in mutated)
            {
                await socket.SendToAsync(Encoding.UTF8.GetBytes(text), udp);
            }
            for (var i = 0; i < 50; i++)
            {
                var junk = new byte[random.Next(1, 2048)];
                random.NextBytes(junk);
                await socket.SendToAsync(junk, udp);
            }
        }
        await Robustness.SendGarbageAsync(hosted.EndPointOf("sip", 5060), mutated.Select(Encoding.UTF8.GetBytes));

        var ping = await RealClient.RunAsync("sipsak", ["-s", $"sip:{decky.Address}"]);
        Assert.True(ping.ExitCode == 0, ping.StdOut + ping.StdErr);
        await decky.Sink.WaitForAsync("protocol_error");
        WireBounty.AssertNoFaults(decky);
    }

    /// <summary>hashcat's mode 11400 computation from the captured line and a password guess.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5351", Justification = "SIP Digest is MD5 by protocol.")]
    private static bool CracksTo(string line, string password)
    {
        var f = line["$sip$*".Length..].Split('*');
        var (user, realm, method, uriPrefix, uriResource, uriSuffix, nonce, cnonce, nc, qop, response) =
            (f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[13]);
        var uri = uriPrefix + ":" + uriResource + (uriSuffix.Length > 0 ? ":" + uriSuffix : string.Empty);
        static string Md5(string text) => Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(Encoding.UTF8.GetBytes(text)));
        var ha1 = Md5($"{user}:{realm}:{password}");
        var ha2 = Md5($"{method}:{uri}");
        var expected = qop.Length > 0 ? Md5($"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}") : Md5($"{ha1}:{nonce}:{ha2}");
        return expected == response;
    }
}
