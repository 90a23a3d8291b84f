using System.Buffers.Binary;
using System.Diagnostics;
using System.Formats.Asn1;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Ldap;
using Decnet.Core.Honeypots.Mssql;
using Decnet.Core.Honeypots.NameResolution;
using Decnet.Core.Honeypots.Rdp;
using Decnet.Core.Honeypots.Smb;
using Decnet.Core.Honeypots.Vnc;
using Decnet.Tests.Honeypots;
using static Decnet.Tests.Benchmarks.LoginLoad;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// The Windows / directory family: login connections per second and credentials captured per second when
/// protocol clients that speak each service as a password sprayer does (one login per connection, 32
/// concurrent workers) hammer a decky, next to a bare TCP accept loop driven the same way in the same run.
/// NTLM logins (SMB, RDP's CredSSP inside TLS) carry well-formed NetNTLMv2 responses whose proofs are
/// random: the decky records them either way, and computing real ones is the attacker's cost. The name
/// services are UDP: an LLMNR query flood from many askers, handled per second, next to a bare UDP receive loop.
/// </summary>
[Collection(BenchmarkCollection.Name)]
public sealed class WindowsFamilyBenchmark(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Benchmark")]
    public async Task Login_connections_and_credentials_per_second_next_to_a_bare_accept_loop()
    {
        var report = new BenchmarkReport(output, "windows-family");
        report.Machine();

        var bare = await BareAcceptLoopAsync();
        report.Line($"reference: bare TCP accept loop, {Workers} workers: {bare:0.0} connections/s");
        // RDP's cost is its TLS handshake (RSA 2048, as Windows' self-signed RDP certificate): its fair
        // reference is a bare TLS accept loop with the same key size, driven the same way.
        var bareTls = await BareTlsAcceptLoopAsync();
        report.Line($"reference: bare TLS accept loop (RSA 2048 handshake, one byte, close), {Workers} workers: {bareTls:0.0} connections/s");

        var tcp = ("bare TCP accept loop", bare);
        var targets = new (string Name, IHoneypotServiceFactory Factory, int Port, string Event, Func<IPEndPoint, int, Task> Login, (string Name, double Rate) Reference)[]
        {
            ("smb (SMB2 negotiate + NTLMSSP session setup)", new SmbHoneypotFactory(), 445, "auth", SmbLoginAsync, tcp),
            ("mssql (PRELOGIN + LOGIN7)", new MssqlHoneypotFactory(), 1433, "auth", MssqlLoginAsync, tcp),
            ("ldap (simple bind)", new LdapHoneypotFactory(), 389, "bind", LdapBindAsync, tcp),
            ("vnc (RFB 3.8 VNC authentication)", new VncHoneypotFactory(), 5900, "auth_response", VncLoginAsync, tcp),
            ("rdp (X.224 + TLS + CredSSP/NTLM)", new RdpHoneypotFactory(), 3389, "auth", RdpLoginAsync, ("bare TLS accept loop", bareTls)),
        };
        foreach (var (name, factory, port, eventType, login, reference) in targets)
        {
            await using var drain = new CountingDrain();
            double rate;
            long connections;
            await using (var decky = await BenchmarkDecky.StartAsync(factory, drain.Sink, new Dictionary<string, string>(), new SessionLimits { MaxConcurrentSessions = 1024 }, port))
            {
                (connections, rate) = await DriveAsync(decky.EndPoint, login);
                Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0L, s.FaultedSessions));
            }
            await drain.DisposeAsync();
            var credentials = drain.Count(eventType);
            report.Figure($"{name}: login connections/s", rate, "conn/s", reference.Name, reference.Rate);
            report.Line($"{name}: {credentials} credentials captured in {connections} connections = {credentials / Duration.TotalSeconds:0.0} credentials/s; {drain.Sink.DroppedCount} events dropped by the bounded sink");
            Assert.True(credentials + drain.Sink.DroppedCount >= connections, $"{connections} logins but {credentials} {eventType} events");
        }

        await LlmnrQueriesAsync(report);
    }

    private static async Task<double> BareTlsAcceptLoopAsync()
    {
        using var key = RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=bench", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(TestDecky.NextAddress(), 0));
        listener.Listen(512);
        using var stop = new CancellationTokenSource();
        var accept = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var client = await listener.AcceptAsync(stop.Token);
                    _ = Task.Run(async () =>
                    {
                        using (client)
                        {
                            try
                            {
                                await using var tls = new SslStream(new NetworkStream(client, ownsSocket: false));
                                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = context });
                                await tls.WriteAsync(new byte[] { 0x2b });
                                client.Shutdown(SocketShutdown.Both);
                            }
                            catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException or SocketException)
                            {
                                // A client gone at the end of the run.
                            }
                        }
                    });
                }
            }
            catch (OperationCanceledException)
            {
                // Measurement over.
            }
        });
        var (_, rate) = await DriveAsync((IPEndPoint)listener.LocalEndPoint!, async (endPoint, _) =>
        {
            using var tcp = await ConnectAsync(endPoint);
            using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "bench" });
            await DrainAsync(tls);
        });
        await stop.CancelAsync();
        await accept;
        return rate;
    }

    private static async Task<byte[]> ReadNetBiosFrameAsync(Stream stream)
    {
        var header = new byte[4];
        await stream.ReadExactlyAsync(header);
        var frame = new byte[(header[1] << 16) | (header[2] << 8) | header[3]];
        await stream.ReadExactlyAsync(frame);
        return frame;
    }

    private static byte[] Smb2Frame(ushort command, ulong messageId, ulong sessionId, byte[] body)
    {
        var length = 64 + body.Length;
        var frame = new byte[4 + length];
        frame[1] = (byte)(length >> 16);
        frame[2] = (byte)(length >> 8);
        frame[3] = (byte)length;
        var message = frame.AsSpan(4);
        message[0] = 0xFE;
        "SMB"u8.CopyTo(message[1..]);
        message[4] = 64;
        BinaryPrimitives.WriteUInt16LittleEndian(message[12..], command);
        BinaryPrimitives.WriteUInt16LittleEndian(message[14..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(message[24..], messageId);
        BinaryPrimitives.WriteUInt64LittleEndian(message[40..], sessionId);
        body.CopyTo(message[64..]);
        return frame;
    }

    private static byte[] SmbSessionSetup(ulong messageId, ulong sessionId, byte[] token)
    {
        var body = new byte[24 + token.Length];
        body[0] = 25;
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(12), 64 + 24);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(14), (ushort)token.Length);
        token.CopyTo(body, 24);
        return Smb2Frame(0x0001, messageId, sessionId, body);
    }

    private static byte[] NtlmNegotiate() => [.. "NTLMSSP\0"u8, 1, 0, 0, 0, 0x97, 0x82, 0x08, 0xE2, .. new byte[16]];

    /// <summary>
    /// An NTLM AUTHENTICATE with a NetNTLMv2-shaped response: 16-byte proof, then the client blob (version,
    /// timestamp, client challenge, an empty AV list).
    /// </summary>
    private static byte[] NtlmAuthenticate(string user, string domain)
    {
        byte[] nt = [.. RandomNumberGenerator.GetBytes(16), 1, 1, 0, 0, 0, 0, 0, 0, .. BitConverter.GetBytes(DateTime.UtcNow.ToFileTimeUtc()), .. RandomNumberGenerator.GetBytes(8), 0, 0, 0, 0, 0, 0, 0, 0];
        var fields = new[] { new byte[24], nt, Encoding.Unicode.GetBytes(domain), Encoding.Unicode.GetBytes(user), Encoding.Unicode.GetBytes("KALI"), Array.Empty<byte>() };
        var message = new byte[64 + fields.Sum(f => f.Length)];
        "NTLMSSP\0"u8.CopyTo(message);
        message[8] = 3;
        var offset = 64;
        for (var i = 0; i < fields.Length; i++)
        {
            var at = 12 + (i * 8);
            BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(at), (ushort)fields[i].Length);
            BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(at + 2), (ushort)fields[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(at + 4), (uint)offset);
            fields[i].CopyTo(message, offset);
            offset += fields[i].Length;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(60), 0xE2088215);
        return message;
    }

    private static async Task SmbLoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        byte[] negotiate = [36, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, .. Guid.NewGuid().ToByteArray(), 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x02, 0x10, 0x02];
        await stream.WriteAsync(Smb2Frame(0x0000, 0, 0, negotiate));
        await ReadNetBiosFrameAsync(stream);
        await stream.WriteAsync(SmbSessionSetup(1, 0, NtlmNegotiate()));
        var challenge = await ReadNetBiosFrameAsync(stream);
        var sessionId = BinaryPrimitives.ReadUInt64LittleEndian(challenge.AsSpan(40));
        await stream.WriteAsync(SmbSessionSetup(2, sessionId, NtlmAuthenticate("user" + i, "CORP")));
        await ReadNetBiosFrameAsync(stream);
    }

    private static byte[] TdsPacket(byte type, byte[] payload)
    {
        byte[] packet = [type, 1, (byte)((payload.Length + 8) >> 8), (byte)(payload.Length + 8), 0, 0, 1, 0, .. payload];
        return packet;
    }

    /// <summary>A LOGIN7 record with host, user, password (scrambled as TDS does) and application name.</summary>
    private static byte[] Login7(string user, string password)
    {
        var strings = new (int At, byte[] Bytes)[]
        {
            (36, Encoding.Unicode.GetBytes("KALI")),
            (40, Encoding.Unicode.GetBytes(user)),
            (44, Encoding.Unicode.GetBytes(password).Select(b => (byte)(((b << 4) | (b >> 4)) ^ 0xA5)).ToArray()),
            (48, Encoding.Unicode.GetBytes("sqlspray")),
        };
        var login = new byte[94 + strings.Sum(s => s.Bytes.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(login, (uint)login.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(login.AsSpan(4), 0x74000004);
        BinaryPrimitives.WriteUInt32LittleEndian(login.AsSpan(8), 4096);
        var offset = 94;
        foreach (var (at, bytes) in strings)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(login.AsSpan(at), (ushort)offset);
            BinaryPrimitives.WriteUInt16LittleEndian(login.AsSpan(at + 2), (ushort)(bytes.Length / 2));
            bytes.CopyTo(login, offset);
            offset += bytes.Length;
        }
        return login;
    }

    private static async Task MssqlLoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        byte[] prelogin = [0, 0, 11, 0, 6, 1, 0, 17, 0, 1, 0xFF, 15, 0, 0x10, 0x39, 0, 0, 2];
        await stream.WriteAsync(TdsPacket(0x12, prelogin));
        var header = new byte[8];
        await stream.ReadExactlyAsync(header);
        await stream.ReadExactlyAsync(new byte[BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)) - 8]);
        await stream.WriteAsync(TdsPacket(0x10, Login7("sa", "guess" + i)));
        await DrainAsync(stream);
    }

    private static async Task ReadBerMessageAsync(Stream stream)
    {
        var head = new byte[2];
        await stream.ReadExactlyAsync(head);
        var length = (int)head[1];
        if (head[1] >= 0x80)
        {
            var bytes = new byte[head[1] & 0x7F];
            await stream.ReadExactlyAsync(bytes);
            length = bytes.Aggregate(0, (n, b) => (n << 8) | b);
        }
        await stream.ReadExactlyAsync(new byte[length]);
    }

    private static async Task LdapBindAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        var writer = new AsnWriter(AsnEncodingRules.BER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(1);
            using (writer.PushSequence(new Asn1Tag(TagClass.Application, 0, isConstructed: true)))
            {
                writer.WriteInteger(3);
                writer.WriteOctetString(Encoding.UTF8.GetBytes($"CN=user{i},CN=Users,DC=corp,DC=local"));
                writer.WriteOctetString(Encoding.UTF8.GetBytes("guess" + i), new Asn1Tag(TagClass.ContextSpecific, 0));
            }
        }
        await stream.WriteAsync(writer.Encode());
        await ReadBerMessageAsync(stream);
        await stream.WriteAsync(new byte[] { 0x30, 0x05, 0x02, 0x01, 0x02, 0x42, 0x00 });
        await DrainAsync(stream);
    }

    private static async Task VncLoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        await stream.ReadExactlyAsync(new byte[12]);
        await stream.WriteAsync("RFB 003.008\n"u8.ToArray());
        var count = new byte[1];
        await stream.ReadExactlyAsync(count);
        await stream.ReadExactlyAsync(new byte[count[0]]);
        await stream.WriteAsync(new byte[] { 2 });
        await stream.ReadExactlyAsync(new byte[16]);
        await stream.WriteAsync(RandomNumberGenerator.GetBytes(16));
        await DrainAsync(stream);
    }

    private static byte[] TsRequest(byte[] token)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                writer.WriteInteger(6);
            }
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1, isConstructed: true)))
            using (writer.PushSequence())
            using (writer.PushSequence())
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                writer.WriteOctetString(token);
            }
        }
        return writer.Encode();
    }

    private static async Task RdpLoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        var cookie = Encoding.ASCII.GetBytes($"Cookie: mstshash=user{i}\r\n");
        byte[] request = [3, 0, 0, 0, (byte)(6 + cookie.Length + 8), 0xE0, 0, 0, 0, 0, 0, .. cookie, 1, 0, 8, 0, 0x0B, 0, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(2), (ushort)request.Length);
        await stream.WriteAsync(request);
        await stream.ReadExactlyAsync(new byte[19]);
        using var tls = new SslStream(stream, leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "rdp" });
        await tls.WriteAsync(TsRequest(NtlmNegotiate()));
        await ReadBerMessageAsync(tls);
        await tls.WriteAsync(TsRequest(NtlmAuthenticate("user" + i, "CORP")));
        await ReadBerMessageAsync(tls);
    }

    /// <summary>
    /// Responder-style chatter turned flood: LLMNR queries for names nobody owns from 1000 askers, paced (at
    /// most 500 in flight) to what the loopback keeps without drops. The figure is datagrams the decky
    /// handled per second (recorded, or counted against a budget and dropped), next to a bare UDP receive
    /// loop fed the same datagrams the same way; recorded events stay within the decky-wide budget.
    /// </summary>
    private static async Task LlmnrQueriesAsync(BenchmarkReport report)
    {
        const int Askers = 1000;
        const int PerAsker = NameResolutionHoneypot.QueriesPerSecondPerSource;
        var askers = Enumerable.Range(0, Askers).Select(_ => new UdpClient(new IPEndPoint(TestDecky.NextAddress(), 0))).ToList();
        try
        {
            byte[] Query(int i)
            {
                var label = Encoding.ASCII.GetBytes("fileserv" + i);
                return [(byte)(i >> 8), (byte)i, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, (byte)label.Length, .. label, 0, 0, 1, 0, 1];
            }
            var payloads = Enumerable.Range(0, Askers * PerAsker).Select(Query).ToList();

            async Task<(double Rate, TimeSpan Elapsed)> BlastAsync(IPEndPoint target, Func<long> counted)
            {
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < payloads.Count; i++)
                {
                    await askers[i % Askers].SendAsync(payloads[i], target);
                    while (i - counted() > 500)
                    {
                        await Task.Delay(1);
                    }
                }
                var last = counted();
                var lastProgress = watch.Elapsed;
                while (last < payloads.Count && watch.Elapsed - lastProgress < TimeSpan.FromSeconds(2))
                {
                    await Task.Delay(10);
                    if (counted() != last)
                    {
                        last = counted();
                        lastProgress = watch.Elapsed;
                    }
                }
                return (last / lastProgress.TotalSeconds, lastProgress);
            }

            long received = 0;
            double bareRate;
            using (var bare = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
            {
                bare.Bind(new IPEndPoint(TestDecky.NextAddress(), 0));
                using var stop = new CancellationTokenSource();
                var loop = Task.Run(async () =>
                {
                    var buffer = new byte[8192];
                    try
                    {
                        while (true)
                        {
                            await bare.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), stop.Token);
                            Interlocked.Increment(ref received);
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        // Measurement over.
                    }
                });
                (bareRate, _) = await BlastAsync((IPEndPoint)bare.LocalEndPoint!, () => Interlocked.Read(ref received));
                await stop.CancelAsync();
                await loop;
            }

            await using var drain = new CountingDrain();
            double rate;
            TimeSpan elapsed;
            long handled;
            await using (var decky = await BenchmarkDecky.StartUdpAsync(new NameResolutionHoneypotFactory(), drain.Sink, NameResolutionHoneypot.LlmnrPort))
            {
                long Handled() => decky.Hosted.Statistics().Sum(s => s.Datagrams);
                (rate, elapsed) = await BlastAsync(decky.EndPoint, Handled);
                handled = Handled();
                Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0L, s.FaultedSessions));
            }
            await drain.DisposeAsync();
            var recorded = drain.Count("query");
            report.Figure($"llmnr: flood queries handled/s ({payloads.Count} queries from {Askers} askers)", rate, "queries/s", "bare UDP receive loop", bareRate);
            report.Line($"llmnr: {handled} of {payloads.Count} queries handled in {elapsed.TotalSeconds:0.00} s, {recorded} recorded (budget {NameResolutionHoneypot.QueriesPerSecondPerDecky}/s per decky), {drain.Sink.DroppedCount} events dropped by the bounded sink");
            Assert.InRange(recorded, 1, NameResolutionHoneypot.QueriesPerSecondPerDecky * ((long)Math.Ceiling(elapsed.TotalSeconds) + 1));
        }
        finally
        {
            askers.ForEach(a => a.Dispose());
        }
    }
}
