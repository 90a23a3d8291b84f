using System.Buffers.Binary;
using System.Diagnostics;
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

        // The references run first and last; the better of the two is the figure (the first run also warms
        // the JIT and thread pool). RDP's cost is its TLS handshake (RSA 2048, as Windows' self-signed RDP
        // certificate): its fair reference is a bare TLS accept loop with the same key size, driven the same way.
        var bareFirst = await BareAcceptLoopAsync();
        var bareTlsFirst = await BareTlsAcceptLoopAsync();
        var results = new List<(string Name, bool Tls, double Rate, long Credentials, long Connections, long Dropped)>();

        var targets = new (string Name, IHoneypotServiceFactory Factory, int Port, string Event, Func<IPEndPoint, int, Task> Login, bool Tls)[]
        {
            ("smb (SMB2 negotiate + NTLMSSP session setup)", new SmbHoneypotFactory(), 445, "auth", SmbLoginAsync, false),
            ("mssql (PRELOGIN + LOGIN7)", new MssqlHoneypotFactory(), 1433, "auth", MssqlLoginAsync, false),
            ("ldap (simple bind)", new LdapHoneypotFactory(), 389, "bind", LdapBindAsync, false),
            ("vnc (RFB 3.8 VNC authentication)", new VncHoneypotFactory(), 5900, "auth_response", VncLoginAsync, false),
            ("rdp (X.224 + TLS + CredSSP/NTLM)", new RdpHoneypotFactory(), 3389, "auth", RdpLoginAsync, true),
        };
        foreach (var (name, factory, port, eventType, login, tls) in targets)
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
            results.Add((name, tls, rate, credentials, connections, drain.Sink.DroppedCount));
            Assert.True(credentials + drain.Sink.DroppedCount >= connections, $"{name}: {connections} logins but {credentials} {eventType} events");
        }
        var bareTlsLast = await BareTlsAcceptLoopAsync();
        var bareLast = await BareAcceptLoopAsync();
        var bare = Math.Max(bareFirst, bareLast);
        var bareTls = Math.Max(bareTlsFirst, bareTlsLast);
        report.Line($"reference: bare TCP accept loop, {Workers} workers: {bareFirst:0.0} connections/s first, {bareLast:0.0} last");
        report.Line($"reference: bare TLS accept loop (RSA 2048 handshake, one byte, close), {Workers} workers: {bareTlsFirst:0.0} connections/s first, {bareTlsLast:0.0} last");
        foreach (var (name, tls, rate, credentials, connections, dropped) in results)
        {
            report.Figure($"{name}: login connections/s", rate, "conn/s", tls ? "bare TLS accept loop" : "bare TCP accept loop", tls ? bareTls : bare);
            report.Line($"{name}: {credentials} credentials captured in {connections} connections = {credentials / Duration.TotalSeconds:0.0} credentials/s; {dropped} events dropped by the bounded sink");
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

    private static async Task SmbLoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        await stream.WriteAsync(WindowsWire.SmbNegotiate());
        await WindowsWire.ReadNetBiosFrameAsync(stream);
        await stream.WriteAsync(WindowsWire.SmbSessionSetup(1, 0, WindowsWire.NtlmNegotiate()));
        var challenge = await WindowsWire.ReadNetBiosFrameAsync(stream);
        var sessionId = BinaryPrimitives.ReadUInt64LittleEndian(challenge.AsSpan(40));
        await stream.WriteAsync(WindowsWire.SmbSessionSetup(2, sessionId, WindowsWire.NtlmAuthenticate("user" + i, "CORP")));
        await WindowsWire.ReadNetBiosFrameAsync(stream);
    }

    private static async Task MssqlLoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        await stream.WriteAsync(WindowsWire.TdsPrelogin());
        var header = new byte[8];
        await stream.ReadExactlyAsync(header);
        await stream.ReadExactlyAsync(new byte[BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)) - 8]);
        await stream.WriteAsync(WindowsWire.TdsLogin7("sa", "guess" + i));
        await DrainAsync(stream);
    }

    private static async Task LdapBindAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        await stream.WriteAsync(WindowsWire.LdapSimpleBind(1, $"CN=user{i},CN=Users,DC=corp,DC=local", "guess" + i));
        await WindowsWire.ReadBerMessageAsync(stream);
        // Unbind: the client ends the session, as ldapsearch does.
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

    private static async Task RdpLoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        await using var tls = await WindowsWire.RdpTlsAsync(tcp.GetStream(), "user" + i);
        await tls.WriteAsync(WindowsWire.TsRequest(WindowsWire.NtlmNegotiate()));
        await WindowsWire.ReadBerMessageAsync(tls);
        await tls.WriteAsync(WindowsWire.TsRequest(WindowsWire.NtlmAuthenticate("user" + i, "CORP")));
        await WindowsWire.ReadBerMessageAsync(tls);
    }

    /// <summary>
    /// Responder-style chatter turned flood: LLMNR queries for names nobody owns from 1000 askers, paced (at
    /// most 200 in flight) to what the loopback keeps without drops. The figure is datagrams the decky
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
                    while (i - counted() > 200)
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
