using System.Buffers.Binary;
using System.Net;
using System.Text;
using CsCheck;
using Decnet.Core.Honeypots.Auth;
using Decnet.Core.Honeypots.Mongo;
using Decnet.Core.Honeypots.Postgres;
using Decnet.Core.Honeypots.Snmp;
using static Decnet.Tests.Honeypots.ProtocolFuzz;
using Driver = MongoDB.Bson;

namespace Decnet.Tests.Honeypots;

/// <summary>
/// Property-based fuzzing (CsCheck) of the database and SNMP parsers: valid protocol messages are mutated
/// (bytes flipped, cut, inserted or duplicated, length fields set to boundary values) and fed to the parsers
/// directly; nothing may throw past a parser. A failure prints CsCheck's seed to replay it. The live
/// listeners of this family are fuzzed by <c>Fuzzing.DataFamilyProtocolFuzzTests</c>.
/// </summary>
public sealed class DataFamilyFuzzTests
{
    private static byte[] OpMsg(Driver.BsonDocument body)
    {
        var document = Driver.BsonExtensionMethods.ToBson(body);
        var message = new byte[MongoWire.HeaderLength + 5 + document.Length];
        BinaryPrimitives.WriteInt32LittleEndian(message, message.Length);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(12), MongoOpCode.Msg);
        document.CopyTo(message, MongoWire.HeaderLength + 5);
        return message;
    }

    /// <summary>Valid MongoDB messages (OP_MSG and the legacy OP_QUERY handshake); also the frames of the MongoDB fuzz campaign.</summary>
    internal static readonly byte[][] MongoSeeds =
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
}
