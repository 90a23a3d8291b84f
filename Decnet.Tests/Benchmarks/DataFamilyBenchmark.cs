using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Decnet.Core.Honeypots.Elasticsearch;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Mail;
using Decnet.Core.Honeypots.Mongo;
using Decnet.Core.Honeypots.Postgres;
using Decnet.Core.Honeypots.Snmp;
using Decnet.Tests.Honeypots;
using Decnet.Tests.Honeypots.Mongo;
using Driver = MongoDB.Bson;

using static Decnet.Tests.Benchmarks.LoginLoad;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// Databases, mail and SNMP: login connections per second and credentials captured per second when a
/// guessing client (one login per connection, as hydra and its kin work) hammers each decky with 32
/// concurrent workers, next to a bare TCP accept loop (accept, one byte, close) driven by the same workers
/// in the same run. SNMP is UDP: community guesses recorded per second next to a bare UDP receive loop.
/// Events go through the bounded channel sink the embedded runtime uses, drained as the ingest would.
/// </summary>
[Collection(BenchmarkCollection.Name)]
public sealed class DataFamilyBenchmark(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Benchmark")]
    public async Task Login_connections_and_credentials_per_second_next_to_a_bare_accept_loop()
    {
        var report = new BenchmarkReport(output, "data-family");
        report.Machine();

        // The reference runs first and last; the better of the two is the figure (the first run also warms the JIT and thread pool).
        var bareFirst = await BareAcceptLoopAsync();
        var results = new List<(string Name, double Rate, long Credentials, long Connections, long Dropped)>();

        var targets = new (string Name, IHoneypotServiceFactory Factory, Dictionary<string, string> Persona, int Port, Func<IPEndPoint, int, Task> Login)[]
        {
            ("postgres (clear-text password)", new PostgresHoneypotFactory(), new() { ["auth"] = "password" }, 5432, PostgresLoginAsync),
            ("postgres (md5)", new PostgresHoneypotFactory(), new(), 5432, PostgresMd5LoginAsync),
            ("mongodb (SCRAM-SHA-256)", new MongoHoneypotFactory(), new() { ["auth"] = "scram" }, 27017, MongoScramLoginAsync),
            ("elasticsearch (Basic)", new ElasticsearchHoneypotFactory(), new() { ["auth"] = "basic" }, 9200, ElasticsearchLoginAsync),
            ("imap (LOGIN)", new ImapHoneypotFactory(), new(), 143, ImapLoginAsync),
            ("pop3 (USER/PASS)", new Pop3HoneypotFactory(), new(), 110, Pop3LoginAsync),
        };
        foreach (var (name, factory, persona, port, login) in targets)
        {
            await using var drain = new CountingDrain();
            double rate;
            long connections;
            await using (var decky = await BenchmarkDecky.StartAsync(factory, drain.Sink, persona, new SessionLimits { MaxConcurrentSessions = 1024 }, port))
            {
                (connections, rate) = await DriveAsync(decky.EndPoint, login);
                Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0L, s.FaultedSessions));
            }
            await drain.DisposeAsync();
            var credentials = drain.Count("auth");
            results.Add((name, rate, credentials, connections, drain.Sink.DroppedCount));
            Assert.True(credentials + drain.Sink.DroppedCount >= connections, $"{connections} logins but {credentials} auth events");
        }
        var bareLast = await BareAcceptLoopAsync();
        var bare = Math.Max(bareFirst, bareLast);
        report.Line($"reference: bare TCP accept loop, {Workers} workers: {bareFirst:0.0} connections/s first, {bareLast:0.0} last");
        foreach (var (name, rate, credentials, connections, dropped) in results)
        {
            report.Figure($"{name}: login connections/s", rate, "conn/s", "bare TCP accept loop", bare);
            report.Line($"{name}: {credentials} credentials captured in {connections} connections = {credentials / Duration.TotalSeconds:0.0} credentials/s; {dropped} events dropped by the bounded sink");
        }

        await SnmpCommunityGuessesAsync(report);
    }

    private static byte[] PostgresStartup(int i)
    {
        var body = Encoding.ASCII.GetBytes($"user\0u{i}\0database\0postgres\0\0");
        var packet = new byte[8 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), PostgresMessages.ProtocolVersion3);
        body.CopyTo(packet, 8);
        return packet;
    }

    private static byte[] PostgresPassword(string text)
    {
        var body = Encoding.ASCII.GetBytes(text + "\0");
        var message = new byte[5 + body.Length];
        message[0] = (byte)'p';
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), 4 + body.Length);
        body.CopyTo(message, 5);
        return message;
    }

    private static async Task PostgresLoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        await stream.WriteAsync(PostgresStartup(i));
        await stream.ReadExactlyAsync(new byte[9]);
        await stream.WriteAsync(PostgresPassword("guess" + i));
        await DrainAsync(stream);
    }

    private static async Task PostgresMd5LoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        await stream.WriteAsync(PostgresStartup(i));
        var request = new byte[13];
        await stream.ReadExactlyAsync(request);
        await stream.WriteAsync(PostgresPassword("md5" + PostgresHoneypot.Md5Response("u" + i, "guess" + i, request[9..13])));
        await DrainAsync(stream);
    }

    private static byte[] OpMsg(int requestId, Driver.BsonDocument body)
    {
        var document = Driver.BsonExtensionMethods.ToBson(body);
        var message = new byte[MongoWire.HeaderLength + 5 + document.Length];
        BinaryPrimitives.WriteInt32LittleEndian(message, message.Length);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(4), requestId);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(12), MongoOpCode.Msg);
        document.CopyTo(message, MongoWire.HeaderLength + 5);
        return message;
    }

    /// <summary>
    /// A SCRAM-SHA-256 conversation whose proof is random bytes: the decky records the exchange either way,
    /// and the PBKDF2 a real guesser pays is the attacker's cost, not the decky's.
    /// </summary>
    private static async Task MongoScramLoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        var nonce = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        await stream.WriteAsync(OpMsg(1, new Driver.BsonDocument
        {
            { "saslStart", 1 }, { "mechanism", "SCRAM-SHA-256" }, { "payload", new Driver.BsonBinaryData(Encoding.ASCII.GetBytes($"n,,n=u{i},r={nonce}")) }, { "$db", "admin" },
        }));
        var (_, first) = await MongoWireClient.ReadReplyAsync(stream);
        var serverFirst = Encoding.ASCII.GetString(first["payload"].AsBsonBinaryData.Bytes);
        var combined = serverFirst.Split(',')[0][2..];
        var proof = Convert.ToBase64String(Guid.NewGuid().ToByteArray().Concat(Guid.NewGuid().ToByteArray()).ToArray());
        await stream.WriteAsync(OpMsg(2, new Driver.BsonDocument
        {
            { "saslContinue", 1 }, { "conversationId", 1 }, { "payload", new Driver.BsonBinaryData(Encoding.ASCII.GetBytes($"c=biws,r={combined},p={proof}")) }, { "$db", "admin" },
        }));
        await MongoWireClient.ReadReplyAsync(stream);
    }

    private static async Task ElasticsearchLoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        var basic = Convert.ToBase64String(Encoding.ASCII.GetBytes($"elastic:guess{i}"));
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /_cat/indices HTTP/1.1\r\nHost: es\r\nAuthorization: Basic {basic}\r\nConnection: close\r\n\r\n"));
        await DrainAsync(stream);
    }

    private static async Task ImapLoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"a LOGIN admin guess{i}\r\nb LOGOUT\r\n"));
        await DrainAsync(stream);
    }

    private static async Task Pop3LoginAsync(IPEndPoint endPoint, int i)
    {
        using var tcp = await ConnectAsync(endPoint);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"USER admin\r\nPASS guess{i}\r\nQUIT\r\n"));
        await DrainAsync(stream);
    }

    /// <summary>
    /// onesixtyone-style community guessing: GetRequests with a new community each, at a paced rate the
    /// loopback keeps without drops, counted as recorded events; the reference is a bare UDP receive loop
    /// fed the same datagrams the same way.
    /// </summary>
    private async Task SnmpCommunityGuessesAsync(BenchmarkReport report)
    {
        const int Datagrams = 40_000;
        byte[] Guess(int i) => Ber.Constructed(Ber.Sequence, Ber.Int(1), Ber.Octets("guess" + i),
            Ber.Constructed(0xA0, Ber.Int(i), Ber.Int(0), Ber.Int(0), Ber.Constructed(Ber.Sequence, Ber.Constructed(Ber.Sequence, Ber.Oid("1.3.6.1.2.1.1.1.0"), Ber.NullValue()))));
        var payloads = Enumerable.Range(0, Datagrams).Select(Guess).ToList();

        async Task<double> BlastAsync(IPEndPoint target, Func<long> counted)
        {
            using var udp = new UdpClient(new IPEndPoint(TestDecky.NextAddress(), 0));
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < payloads.Count; i++)
            {
                await udp.SendAsync(payloads[i], target);
                // Keep at most a socket buffer's worth in flight so the figure is processing, not drops.
                while (i - counted() > 200)
                {
                    await Task.Delay(1);
                }
            }
            // Wait for the tail; a datagram lost on the way stops the count short, so stop after 2 s without progress
            // and measure up to the last counted one.
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
            return last / lastProgress.TotalSeconds;
        }

        long received = 0;
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
            var bareRate = await BlastAsync((IPEndPoint)bare.LocalEndPoint!, () => Interlocked.Read(ref received));
            await stop.CancelAsync();
            await loop;

            await using var drain = new CountingDrain();
            double snmpRate;
            await using (var decky = await BenchmarkDecky.StartUdpAsync(new SnmpHoneypotFactory(), drain.Sink, 161))
            {
                snmpRate = await BlastAsync(decky.EndPoint, () => drain.Count("get_request"));
            }
            report.Figure($"snmp: community guesses recorded/s ({Datagrams} GetRequests, one community each)", snmpRate, "guesses/s", "bare UDP receive loop", bareRate);
            report.Line($"snmp: {drain.Count("get_request")} of {Datagrams} guesses recorded, {drain.Sink.DroppedCount} events dropped by the bounded sink");
        }
    }
}
