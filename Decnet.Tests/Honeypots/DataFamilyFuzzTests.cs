using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CsCheck;
using Decnet.Core.Honeypots.Auth;
using Decnet.Core.Honeypots.Elasticsearch;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Mail;
using Decnet.Core.Honeypots.Mongo;
using Decnet.Core.Honeypots.Postgres;
using Decnet.Core.Honeypots.Snmp;
using Driver = MongoDB.Bson;

namespace Decnet.Tests.Honeypots;

/// <summary>
/// Property-based fuzzing (CsCheck) of the database, mail and SNMP parsers: valid protocol messages are
/// mutated (bytes flipped, cut, inserted or duplicated, length fields set to boundary values) and fed to the
/// parsers directly and to live deckies. Nothing may throw past a parser, no session may fault, and the
/// decky must still serve a well-formed request afterwards. A failure prints CsCheck's seed to replay it.
/// </summary>
public sealed class DataFamilyFuzzTests
{
    private sealed record Mutation(int Kind, int Position, byte Value, int Length);

    private static readonly Gen<Mutation> AnyMutation =
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 1 << 16], Gen.Byte, Gen.Int[0, 64], (kind, position, value, length) => new Mutation(kind, position, value, length));

    private static readonly int[] BoundaryLengths = [0, -1, int.MaxValue, int.MinValue, 4, 5, 16, 1 << 20];

    /// <summary>One of the seeds with one to four mutations applied.</summary>
    private static Gen<byte[]> Mutated(params byte[][] seeds) =>
        Gen.Select(Gen.Int[0, seeds.Length - 1], AnyMutation.Array[1, 4], (index, mutations) => mutations.Aggregate(seeds[index], Apply));

    private static byte[] Apply(byte[] data, Mutation m)
    {
        var bytes = new List<byte>(data);
        var at = bytes.Count == 0 ? 0 : m.Position % bytes.Count;
        switch (m.Kind)
        {
            case 0 when bytes.Count > 0:
                bytes[at] ^= (byte)(m.Value | 1);
                break;
            case 1:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            case 2:
                bytes.InsertRange(at, Enumerable.Range(0, m.Length).Select(i => (byte)(m.Value + i)));
                break;
            case 3 or 4 when bytes.Count >= at + 4:
                var value = BoundaryLengths[m.Value % BoundaryLengths.Length];
                var span = new byte[4];
                if (m.Kind == 3)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(span, value);
                }
                else
                {
                    BinaryPrimitives.WriteInt32BigEndian(span, value);
                }
                for (var i = 0; i < 4; i++)
                {
                    bytes[at + i] = span[i];
                }
                break;
            case 5:
                bytes.InsertRange(at, bytes.Skip(at).Take(m.Length).ToList());
                break;
        }
        return [.. bytes];
    }

    private static byte[] OpMsg(Driver.BsonDocument body)
    {
        var document = Driver.BsonExtensionMethods.ToBson(body);
        var message = new byte[MongoWire.HeaderLength + 5 + document.Length];
        BinaryPrimitives.WriteInt32LittleEndian(message, message.Length);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(12), MongoOpCode.Msg);
        document.CopyTo(message, MongoWire.HeaderLength + 5);
        return message;
    }

    private static readonly byte[][] MongoSeeds =
    [
        OpMsg(new Driver.BsonDocument { { "hello", 1 }, { "client", new Driver.BsonDocument("driver", new Driver.BsonDocument { { "name", "x" }, { "version", "1" } }) }, { "$db", "admin" } }),
        OpMsg(new Driver.BsonDocument { { "find", "users" }, { "filter", new Driver.BsonDocument("role", "admin") }, { "limit", 5 }, { "$db", "shop" } }),
        OpMsg(new Driver.BsonDocument { { "saslStart", 1 }, { "mechanism", "SCRAM-SHA-256" }, { "payload", new Driver.BsonBinaryData("n,,n=a,r=abcdef"u8.ToArray()) }, { "$db", "admin" } }),
        OpMsg(new Driver.BsonDocument { { "insert", "x" }, { "documents", new Driver.BsonArray { new Driver.BsonDocument { { "a", 1.5 }, { "t", DateTime.UnixEpoch }, { "o", Driver.ObjectId.Empty } } } }, { "$db", "d" } }),
        Mongo.MongoWireClient.Query(1, "admin.$cmd", new Driver.BsonDocument("isMaster", 1)),
    ];

    [Fact]
    [Trait("Category", "Unit")]
    public void Mutated_bson_and_mongo_messages_never_throw_and_what_parses_writes_back_readably()
    {
        Mutated(MongoSeeds).Sample(message =>
        {
            if (message.Length >= MongoWire.HeaderLength)
            {
                var opCode = BinaryPrimitives.ReadInt32LittleEndian(message.AsSpan(12));
                var command = MongoWire.ParseCommand(1, opCode, message.AsSpan(MongoWire.HeaderLength));
                if (command is not null)
                {
                    Assert.NotNull(Bson.TryRead(Bson.Write(command.Body)));
                    _ = Bson.ToJson(command.Body, 256);
                }
            }
            var document = Bson.TryRead(message.AsSpan(Math.Min(message.Length, MongoWire.HeaderLength + 5)));
            if (document is not null)
            {
                Assert.NotNull(Bson.TryRead(Bson.Write(document)));
            }
        }, iter: 3000);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Mutated_postgres_and_scram_messages_never_throw()
    {
        byte[][] seeds =
        [
            "user\0bob\0database\0db\0application_name\0psql\0\0"u8.ToArray(),
            [.. "SCRAM-SHA-256\0"u8.ToArray(), 0, 0, 0, 30, .. "n,,n=,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF"u8.ToArray()],
            "c=biws,r=abcdefghijklmnopqrstuvwxyz,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="u8.ToArray(),
        ];
        Mutated(seeds).Sample(body =>
        {
            _ = PostgresMessages.ParseStartupParameters(body);
            _ = PostgresMessages.ParseSaslInitialResponse(body);
            _ = PostgresMessages.ParseParseQuery(body);
            var text = Encoding.UTF8.GetString(body);
            _ = Scram.ParseClientFirst(text);
            _ = Scram.ParseClientFinal(text);
            _ = ScramExchange.TryParse(text);
        }, iter: 3000);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task Mutated_snmp_datagrams_never_throw_and_every_reply_is_one_bounded_ber_message()
    {
        using var decky = new HoneypotTestContext();
        var snmp = new SnmpHoneypotFactory().Create(decky.Context);
        byte[] Get(int version, string community, byte pdu) => Ber.Constructed(Ber.Sequence, Ber.Int(version), Ber.Octets(community),
            Ber.Constructed(pdu, Ber.Int(42), Ber.Int(0), Ber.Int(pdu == 0xA5 ? 10 : 0),
                Ber.Constructed(Ber.Sequence, Ber.Constructed(Ber.Sequence, Ber.Oid("1.3.6.1.2.1.1.1.0"), Ber.NullValue()), Ber.Constructed(Ber.Sequence, Ber.Oid("1.3.6.1.2.1"), Ber.NullValue()))));
        byte[][] seeds =
        [
            Get(0, "public", 0xA0), Get(1, "public", 0xA1), Get(1, "public", 0xA5), Get(1, "private", 0xA3),
            Ber.Constructed(Ber.Sequence, Ber.Int(3), Ber.Constructed(Ber.Sequence, Ber.Int(77), Ber.Int(65507), Ber.Octets([5]), Ber.Int(3)),
                Ber.Octets(Ber.Constructed(Ber.Sequence, Ber.Octets([0x80, 0, 0x1f, 0x88, 0x80, 1, 2, 3, 4, 5, 6, 7, 8]), Ber.Int(3), Ber.Int(1000), Ber.Octets("admin"), Ber.Octets(new byte[12]), Ber.Octets([]))),
                Ber.Constructed(Ber.Sequence, Ber.Octets([]), Ber.Octets([]), Ber.Constructed(0xA0, Ber.Int(1), Ber.Int(0), Ber.Int(0), Ber.Constructed(Ber.Sequence)))),
        ];
        var remote = new IPEndPoint(IPAddress.Parse("127.0.0.9"), 40000);
        var local = new IPEndPoint(IPAddress.Parse("127.0.0.8"), 161);
        await Mutated(seeds).SampleAsync(async datagram =>
        {
            var reply = await snmp.HandleDatagramAsync(datagram, remote, local, CancellationToken.None);
            if (reply is { } bytes)
            {
                Assert.InRange(bytes.Length, 2, SnmpHoneypot.MaxReplyBytes);
                var reader = new BerReader(bytes.Span);
                Assert.True(reader.TryRead(out var message) && message.Tag == Ber.Sequence && message.End == bytes.Length);
            }
        }, iter: 3000, threads: 1);
    }

    /// <summary>Mutated sessions against a live decky over TCP, then one well-formed exchange that must still be answered.</summary>
    private static async Task LiveAsync(IHoneypotServiceFactory factory, IReadOnlyDictionary<string, string>? persona, int port, byte[][] seeds, byte[] probe, string expected)
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(factory, persona, ports: [new ServicePort(port)]);
        var endPoint = hosted.EndPointOf(factory.Name, port);
        await Mutated(seeds).SampleAsync(async payload =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(endPoint);
            var stream = client.GetStream();
            try
            {
                await stream.WriteAsync(payload);
                using var brief = new CancellationTokenSource(TimeSpan.FromMilliseconds(60));
                _ = await stream.ReadAsync(new byte[4096], brief.Token);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                // Hanging up on garbage is a correct answer.
            }
            client.Client.LingerState = new LingerOption(true, 0);
        }, iter: 80, threads: 1);

        using var last = new TcpClient();
        await last.ConnectAsync(endPoint);
        var lastStream = last.GetStream();
        await lastStream.WriteAsync(probe);
        var answer = new StringBuilder();
        var buffer = new byte[8192];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!answer.ToString().Contains(expected, StringComparison.Ordinal))
        {
            var read = await lastStream.ReadAsync(buffer, deadline.Token);
            Assert.True(read > 0, $"connection closed before '{expected}': {answer}");
            answer.Append(Encoding.Latin1.GetString(buffer, 0, read));
        }
        DataFamilyKit.AssertNoFaults(decky);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public Task Live_imap_survives_mutated_sessions() =>
        LiveAsync(new ImapHoneypotFactory(), null, 143,
        [
            "a LOGIN admin admin123\r\nb SELECT INBOX\r\nc UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)] BODY[]<0.100>)\r\nd SEARCH SUBJECT aws\r\ne LOGOUT\r\n"u8.ToArray(),
            "a AUTHENTICATE PLAIN AGFkbWluAGFkbWluMTIz\r\nb LIST \"\" *\r\nc STATUS INBOX (MESSAGES UNSEEN)\r\nd APPEND INBOX {11+}\r\nSubject: x\r\n"u8.ToArray(),
        ],
        "x1 CAPABILITY\r\n"u8.ToArray(), "x1 OK");

    [Fact]
    [Trait("Category", "Integration")]
    public Task Live_pop3_survives_mutated_sessions() =>
        LiveAsync(new Pop3HoneypotFactory(), null, 110,
        [
            "USER admin\r\nPASS admin123\r\nSTAT\r\nLIST\r\nUIDL 2\r\nRETR 1\r\nTOP 2 3\r\nDELE 1\r\nRSET\r\nQUIT\r\n"u8.ToArray(),
            "CAPA\r\nAUTH PLAIN AGFkbWluAGFkbWluMTIz\r\nRETR 3\r\n"u8.ToArray(),
        ],
        "CAPA\r\n"u8.ToArray(), "SASL PLAIN LOGIN");

    [Fact]
    [Trait("Category", "Integration")]
    public Task Live_elasticsearch_survives_mutated_requests() =>
        LiveAsync(new ElasticsearchHoneypotFactory(), null, 9200,
        [
            "POST /customers/_search?pretty HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 52\r\n\r\n{\"query\":{\"bool\":{\"must\":[{\"match\":{\"a\":\"b\"}}]}}}  "u8.ToArray(),
            "GET /_cat/indices?v&format=json HTTP/1.1\r\nAuthorization: Basic ZWxhc3RpYzpjaGFuZ2VtZQ==\r\n\r\nDELETE /_all HTTP/1.1\r\n\r\n"u8.ToArray(),
        ],
        "GET / HTTP/1.0\r\n\r\n"u8.ToArray(), "You Know, for Search");

    [Fact]
    [Trait("Category", "Integration")]
    public Task Live_mongodb_survives_mutated_messages() =>
        LiveAsync(new MongoHoneypotFactory(), null, 27017, MongoSeeds, Mongo.MongoWireClient.Query(9, "admin.$cmd", new Driver.BsonDocument("buildInfo", 1)), "versionArray");

    [Fact]
    [Trait("Category", "Integration")]
    public Task Live_postgres_survives_mutated_startups() =>
        LiveAsync(new PostgresHoneypotFactory(), new Dictionary<string, string> { ["auth"] = "scram-sha-256" }, 5432,
        [
            [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f, 0, 0, 0, 49, 0, 3, 0, 0, .. "user\0bob\0database\0db\0application_name\0x\0\0"u8.ToArray()],
            [0, 0, 0, 49, 0, 3, 0, 0, .. "user\0bob\0database\0db\0application_name\0x\0\0"u8.ToArray(), (byte)'p', 0, 0, 0, 32, .. "SCRAM-SHA-256\0"u8.ToArray(), 0, 0, 0, 10, .. "n,,n=,r=ab"u8.ToArray()],
        ],
        [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f], "N");
}
