using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Mqtt;
using Decnet.Core.Honeypots.Sip;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// VoIP/IoT family: logins per second that concurrent protocol clients complete against the MQTT broker
/// (CONNECT with a username and password) and the SIP registrar over TCP (REGISTER, 401 digest challenge,
/// REGISTER with the digest response, 403), and the credentials captured per second (auth events with the
/// secret, delivered through the embedded runtime's bounded channel sink). The same clients run against a bare
/// TCP accept loop that answers the same canned bytes, in the same run: the cost of the honeypot itself.
/// </summary>
[Collection(BenchmarkCollection.Name)]
public sealed partial class IotFamilyBenchmark(ITestOutputHelper output)
{
    private const int Clients = 16;
    private static readonly TimeSpan RunFor = TimeSpan.FromSeconds(8);

    private static readonly byte[] ConnAck = [0x20, 0x02, 0x00, 0x00];

    [GeneratedRegex("nonce=\"([^\"]+)\"")]
    private static partial Regex Nonce();

    [Fact]
    [Trait("Category", "Benchmark")]
    public async Task Mqtt_and_sip_logins_per_second_honeypot_vs_bare_accept_loop()
    {
        var report = new BenchmarkReport(output, "iot-logins");
        report.Machine();

        await MeasureAsync(report, "mqtt CONNECT+CONNACK+DISCONNECT", new MqttHoneypotFactory(), 1883, "auth", MqttLoginAsync,
            CountMqttPackets, [ConnAck]);

        var bare401 = Encoding.ASCII.GetBytes("SIP/2.0 401 Unauthorized\r\nWWW-Authenticate: Digest algorithm=MD5, realm=\"asterisk\", nonce=\"0bare0\"\r\nContent-Length: 0\r\n\r\n");
        var bare403 = Encoding.ASCII.GetBytes("SIP/2.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        await MeasureAsync(report, "sip/tcp REGISTER+401+digest REGISTER+403", new SipHoneypotFactory(), 5060, "auth_attempt", SipLoginAsync,
            CountSipMessages, [bare401, bare403]);
    }

    private async Task MeasureAsync(
        BenchmarkReport report,
        string what,
        IHoneypotServiceFactory factory,
        int port,
        string credentialEvent,
        Func<IPEndPoint, int, CancellationToken, Task> login,
        Func<byte[], int, int> completeMessages,
        byte[][] cannedReplies)
    {
        var sink = new ChannelEventSink();
        long captured = 0;
        using var drainStop = new CancellationTokenSource();
        var drain = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in sink.Reader.ReadAllAsync(drainStop.Token))
                {
                    if (e.EventType == credentialEvent && e.Field("username") is not null && (e.Field("password") ?? e.Field("hash")) is not null)
                    {
                        Interlocked.Increment(ref captured);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped after the run.
            }
        });

        long honeypotLogins;
        await using (var decky = await BenchmarkDecky.StartAsync(factory, sink, new Dictionary<string, string>(), new SessionLimits(), port))
        {
            honeypotLogins = await DriveAsync(decky.EndPoint, login);
            Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0L, s.FaultedSessions));
        }
        sink.Complete();
        await drain.WaitAsync(TimeSpan.FromSeconds(30));

        using var bare = new BareAcceptLoop(completeMessages, cannedReplies);
        var bareLogins = await DriveAsync(bare.EndPoint, login);

        var seconds = RunFor.TotalSeconds;
        report.Figure($"{what}, {Clients} clients, logins/s", honeypotLogins / seconds, "logins/s", "bare TCP accept loop with canned replies, same clients", bareLogins / seconds);
        report.Line(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{what}: credentials captured {captured / seconds:0.0}/s ({captured} auth events with the secret for {honeypotLogins} completed logins; {sink.DroppedCount} events dropped, capacity {sink.Capacity})"));

        Assert.True(honeypotLogins > 0 && bareLogins > 0, $"no login completed: honeypot {honeypotLogins}, bare {bareLogins}");
        // Every login a client saw answered was captured (a client stopped mid-login may add a few more).
        Assert.True(Interlocked.Read(ref captured) + sink.DroppedCount >= honeypotLogins, $"{honeypotLogins} logins answered, {captured} captured, {sink.DroppedCount} dropped");
    }

    /// <summary><see cref="Clients"/> loops logging in for <see cref="RunFor"/>; returns the logins that completed.</summary>
    private static async Task<long> DriveAsync(IPEndPoint target, Func<IPEndPoint, int, CancellationToken, Task> login)
    {
        long completed = 0;
        using var stop = new CancellationTokenSource(RunFor);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(worker => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                try
                {
                    await login(target, (worker * 1_000_000) + n, stop.Token);
                    Interlocked.Increment(ref completed);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
            }
        })));
        Assert.True(clock.Elapsed < RunFor + TimeSpan.FromSeconds(30), "clients did not stop");
        return completed;
    }

    private static async Task MqttLoginAsync(IPEndPoint target, int n, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(target, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(MqttConnect($"bench-{n}", "operator", $"guess-{n}"), cancellationToken);
        var reply = new byte[4];
        await stream.ReadExactlyAsync(reply, cancellationToken);
        Assert.Equal(ConnAck, reply);
        await stream.WriteAsync(new byte[] { 0xe0, 0x00 }, cancellationToken);
    }

    private static byte[] MqttConnect(string clientId, string username, string password)
    {
        var body = new List<byte> { 0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x04, 0xc2, 0x00, 0x3c };
        foreach (var text in new[] { clientId, username, password })
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            body.Add((byte)(bytes.Length >> 8));
            body.Add((byte)bytes.Length);
            body.AddRange(bytes);
        }
        return [0x10, (byte)body.Count, .. body];
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5351", Justification = "SIP Digest is MD5 by protocol.")]
    private static async Task SipLoginAsync(IPEndPoint target, int n, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(target, cancellationToken);
        var stream = client.GetStream();
        var local = (IPEndPoint)client.Client.LocalEndPoint!;
        var user = (1000 + (n % 9000)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var uri = $"sip:{target.Address}";
        string Register(int cseq, string? authorization) =>
            $"REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/TCP {local};branch=z9hG4bK{n}x{cseq}\r\nMax-Forwards: 70\r\n" +
            $"From: <sip:{user}@{target.Address}>;tag={n}\r\nTo: <sip:{user}@{target.Address}>\r\nCall-ID: {n}@bench\r\nCSeq: {cseq} REGISTER\r\n" +
            $"Contact: <sip:{user}@{local}>\r\n{(authorization is null ? string.Empty : "Authorization: " + authorization + "\r\n")}Content-Length: 0\r\n\r\n";

        await stream.WriteAsync(Encoding.ASCII.GetBytes(Register(1, null)), cancellationToken);
        var challenge = await ReadSipResponseAsync(stream, cancellationToken);
        Assert.StartsWith("SIP/2.0 401", challenge, StringComparison.Ordinal);
        var nonce = Nonce().Match(challenge).Groups[1].Value;
        static string Md5(string text) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)));
        var response = Md5($"{Md5($"{user}:asterisk:guess-{n}")}:{nonce}:{Md5($"REGISTER:{uri}")}");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(Register(2,
            $"Digest username=\"{user}\", realm=\"asterisk\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5")), cancellationToken);
        var refused = await ReadSipResponseAsync(stream, cancellationToken);
        Assert.StartsWith("SIP/2.0 403", refused, StringComparison.Ordinal);
    }

    /// <summary>One response without a body: up to the blank line.</summary>
    private static async Task<string> ReadSipResponseAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new List<byte>(512);
        var buffer = new byte[1];
        while (received.Count < 16 * 1024)
        {
            if (await stream.ReadAsync(buffer, cancellationToken) == 0)
            {
                throw new IOException("connection closed before the response ended");
            }
            received.Add(buffer[0]);
            if (received.Count >= 4 && received[^4] == '\r' && received[^3] == '\n' && received[^2] == '\r' && received[^1] == '\n')
            {
                return Encoding.ASCII.GetString([.. received]);
            }
        }
        throw new IOException("response too long");
    }

    private static int CountMqttPackets(byte[] data, int count)
    {
        var packets = 0;
        var offset = 0;
        while (offset + 2 <= count && offset + 2 + data[offset + 1] <= count)
        {
            offset += 2 + data[offset + 1];
            packets++;
        }
        return packets;
    }

    private static int CountSipMessages(byte[] data, int count)
    {
        var messages = 0;
        for (var i = 3; i < count; i++)
        {
            if (data[i - 3] == '\r' && data[i - 2] == '\n' && data[i - 1] == '\r' && data[i] == '\n')
            {
                messages++;
            }
        }
        return messages;
    }
}
