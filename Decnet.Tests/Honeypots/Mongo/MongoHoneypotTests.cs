using System.Buffers.Binary;
using System.Net.Sockets;
using Decnet.Core.Honeypots.Auth;
using Decnet.Core.Honeypots.Mongo;
using MongoDB.Driver;
using Driver = MongoDB.Bson;

namespace Decnet.Tests.Honeypots.Mongo;

/// <summary>
/// mongosh is not packaged by Debian; the official MongoDB .NET driver is the real client here (it speaks
/// OP_MSG, the legacy OP_QUERY handshake, SCRAM-SHA-1 and SCRAM-SHA-256), and a hand-built wire client
/// sends what no driver would.
/// </summary>
public sealed class MongoHoneypotTests
{
    private static Dictionary<string, string> Persona(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);

    private static MongoClient Client(TestDecky decky, MongoCredential? credential = null)
    {
        var settings = MongoClientSettings.FromConnectionString($"mongodb://{decky.Address}:27017/?directConnection=true");
        settings.ServerSelectionTimeout = TimeSpan.FromSeconds(15);
        settings.ConnectTimeout = TimeSpan.FromSeconds(10);
        settings.ApplicationName = "decnet-test";
        settings.Credential = credential;
        return new MongoClient(settings);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task The_driver_finds_an_open_server_lists_bait_databases_and_reads_the_secrets()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MongoHoneypotFactory());
        using var client = Client(decky);

        var names = await (await client.ListDatabaseNamesAsync()).ToListAsync();
        Assert.Equal(["admin", "config", "local", "shop", "shop_config"], names);
        var databases = await (await client.ListDatabasesAsync()).ToListAsync();
        Assert.True(databases.Single(d => d["name"] == "shop")["sizeOnDisk"].ToInt64() > 1_000_000);

        var shop = client.GetDatabase("shop");
        Assert.Equal(["orders", "sessions", "users"], (await (await shop.ListCollectionNamesAsync()).ToListAsync()).Order());
        var users = await shop.GetCollection<Driver.BsonDocument>("users").Find(FilterDefinition<Driver.BsonDocument>.Empty).ToListAsync();
        Assert.Equal(6, users.Count);
        var admin = Assert.Single(users, u => u["role"] == "admin");
        Assert.StartsWith("adm_", admin["api_token"].AsString, StringComparison.Ordinal);
        var byEmail = await shop.GetCollection<Driver.BsonDocument>("users").Find(new Driver.BsonDocument("email", admin["email"])).ToListAsync();
        Assert.Equal(admin["_id"], Assert.Single(byEmail)["_id"]);

        var secrets = await client.GetDatabase("shop_config").GetCollection<Driver.BsonDocument>("secrets").Find(FilterDefinition<Driver.BsonDocument>.Empty).ToListAsync();
        Assert.StartsWith("sk_live_", secrets.Single(s => s["_id"] == "stripe")["secret_key"].AsString, StringComparison.Ordinal);
        Assert.StartsWith("AKIA", secrets.Single(s => s["_id"] == "aws")["access_key_id"].AsString, StringComparison.Ordinal);

        // The same decky serves the same secrets to the next visitor.
        using var again = Client(decky);
        var second = await again.GetDatabase("shop_config").GetCollection<Driver.BsonDocument>("secrets").Find(FilterDefinition<Driver.BsonDocument>.Empty).ToListAsync();
        Assert.Equal(secrets, second);

        var hello = await decky.Sink.WaitForAsync("hello");
        Assert.Contains("mongo-csharp-driver", hello.Field("driver"), StringComparison.Ordinal);
        Assert.Equal("decnet-test", hello.Field("application"));
        await decky.Sink.WaitForAsync("command", e => e.Field("command") == "listDatabases" && e.Field("database") == "admin");
        var find = await decky.Sink.WaitForAsync("command", e => e.Field("command") == "find" && e.Field("collection") == "secrets");
        Assert.Equal("shop_config", find.Field("database"));
        Assert.Equal("2013", find.Field("opcode"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Ransom_writes_and_drops_are_acknowledged_recorded_as_intent_and_change_nothing()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MongoHoneypotFactory());
        using var client = Client(decky);
        var shop = client.GetDatabase("shop");

        await shop.DropCollectionAsync("users");
        await shop.GetCollection<Driver.BsonDocument>("README").InsertOneAsync(new Driver.BsonDocument
        {
            { "content", "All your data is backed up. Send 0.05 BTC to bc1qransom to get it back." },
            { "BitcoinAddress", "bc1qransom" },
        });

        var drop = await decky.Sink.WaitForAsync("write_attempt", e => e.Field("command") == "drop");
        Assert.Equal("users", drop.Field("collection"));
        var insert = await decky.Sink.WaitForAsync("write_attempt", e => e.Field("command") == "insert");
        Assert.Equal("shop", insert.Field("database"));
        Assert.Equal("README", insert.Field("collection"));
        Assert.Equal("1", insert.Field("count"));
        Assert.Contains("bc1qransom", insert.Field("documents"), StringComparison.Ordinal);

        var users = await shop.GetCollection<Driver.BsonDocument>("users").CountDocumentsAsync(FilterDefinition<Driver.BsonDocument>.Empty);
        Assert.Equal(6, users);
    }

    [Theory]
    [Trait("Category", "Integration")]
    [InlineData("SCRAM-SHA-1")]
    [InlineData("SCRAM-SHA-256")]
    public async Task A_failed_scram_login_is_recorded_as_an_exchange_that_verifies_only_the_real_password(string mechanism)
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MongoHoneypotFactory(), Persona(("auth", "scram")));
        using var client = Client(decky, new MongoCredential(mechanism, new MongoInternalIdentity("admin", "siteRootAdmin"), new PasswordEvidence("M0ng0!pass")));

        await Assert.ThrowsAsync<MongoAuthenticationException>(() => client.ListDatabaseNamesAsync());

        var auth = await decky.Sink.WaitForAsync("auth", e => e.Field("mechanism") == mechanism);
        Assert.Equal("siteRootAdmin", auth.Field("username"));
        Assert.Equal("admin", auth.Field("database"));
        Assert.Equal("failed", auth.Field("status"));
        var algorithm = mechanism == "SCRAM-SHA-1" ? ScramAlgorithm.Sha1 : ScramAlgorithm.Sha256;
        var exchange = ScramExchange.TryParse(auth.Field("hash")!);
        Assert.NotNull(exchange);
        Assert.Equal(algorithm, exchange.Algorithm);
        Assert.True(exchange.Verify(MongoHoneypot.ScramPassword(algorithm, "siteRootAdmin", "M0ng0!pass")));
        Assert.False(exchange.Verify(MongoHoneypot.ScramPassword(algorithm, "siteRootAdmin", "M0ng0!pas")));

        var bounty = DataFamilyKit.CredentialOf(auth);
        Assert.Equal("siteRootAdmin", bounty["username"]);
        Assert.Equal(auth.Field("hash"), bounty["hash"]);
        Assert.Equal(mechanism == "SCRAM-SHA-1" ? "mongodb-scram-sha-1" : "mongodb-scram-sha-256", bounty["hash_type"]);
    }

    [Theory]
    [Trait("Category", "Integration")]
    [InlineData("SCRAM-SHA-1")]
    [InlineData("SCRAM-SHA-256")]
    public async Task With_access_control_only_a_persona_user_gets_in_and_the_rest_are_unauthorized(string mechanism)
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MongoHoneypotFactory(), Persona(("auth", "scram"), ("users", "backup:Backup#2024"), ("version", "6.0.16")));

        using var anonymous = Client(decky);
        var denied = await Assert.ThrowsAsync<MongoCommandException>(() => anonymous.ListDatabaseNamesAsync());
        Assert.Equal(13, denied.Code);
        Assert.Contains("requires authentication", denied.Message, StringComparison.Ordinal);

        using var user = Client(decky, new MongoCredential(mechanism, new MongoInternalIdentity("admin", "backup"), new PasswordEvidence("Backup#2024")));
        var names = await (await user.ListDatabaseNamesAsync()).ToListAsync();
        Assert.Contains("shop", names);
        var build = await user.GetDatabase("admin").RunCommandAsync<Driver.BsonDocument>(new Driver.BsonDocument("buildInfo", 1));
        Assert.Equal("6.0.16", build["version"].AsString);

        var success = await decky.Sink.WaitForAsync("auth", e => e.Field("status") == "success");
        Assert.Equal(mechanism, success.Field("mechanism"));
        Assert.Equal("backup", success.Field("username"));
        await decky.Sink.WaitForAsync("command", e => e.Field("command") == "listDatabases" && e.Field("username") == "backup");
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task The_legacy_op_query_handshake_is_answered_with_op_reply()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new MongoHoneypotFactory(), Persona(("version", "4.4.29")));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(hosted.EndPointOf("mongodb", 27017));
        var stream = tcp.GetStream();

        await stream.WriteAsync(MongoWireClient.Query(7, "admin.$cmd", new Driver.BsonDocument { { "isMaster", 1 }, { "client", new Driver.BsonDocument("application", new Driver.BsonDocument("name", "scanner")) } }));
        var (header, reply) = await MongoWireClient.ReadReplyAsync(stream);
        Assert.Equal(MongoOpCode.Reply, header.OpCode);
        Assert.Equal(7, header.ResponseTo);
        Assert.True(reply["ismaster"].AsBoolean);
        Assert.Equal(9, reply["maxWireVersion"].AsInt32);

        var hello = await decky.Sink.WaitForAsync("hello");
        Assert.Equal("isMaster", hello.Field("command"));
        Assert.Equal("2004", hello.Field("opcode"));
        Assert.Equal("scanner", hello.Field("application"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Garbage_and_hostile_bson_fault_no_session_and_the_driver_is_still_served()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new MongoHoneypotFactory(), Persona(("auth", "scram")));
        var endPoint = hosted.EndPointOf("mongodb", 27017);

        var hello = Driver.BsonExtensionMethods.ToBson(new Driver.BsonDocument { { "hello", 1 }, { "$db", "admin" } });
        static byte[] Msg(byte[] body, uint flags = 0)
        {
            var message = new byte[MongoWire.HeaderLength + 4 + body.Length];
            BinaryPrimitives.WriteInt32LittleEndian(message, message.Length);
            BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(4), 1);
            BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(12), MongoOpCode.Msg);
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(16), flags);
            body.CopyTo(message, 20);
            return message;
        }
        var deep = MongoWireClient.NestedDocument(200);
        var lying = (byte[])hello.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(lying, int.MaxValue);
        var badType = (byte[])hello.Clone();
        badType[4] = 0x42;
        var unterminatedName = new byte[] { 12, 0, 0, 0, 0x10, (byte)'a', (byte)'b', (byte)'c', (byte)'d', (byte)'e', (byte)'f', 0 };
        var hugeString = new byte[] { 16, 0, 0, 0, 0x02, (byte)'s', 0, 0xff, 0xff, 0xff, 0x7f, (byte)'x', 0, 0, 0, 0 };
        var negativeBinary = new byte[] { 16, 0, 0, 0, 0x05, (byte)'b', 0, 0xf0, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0 };
        var sequence = new List<byte> { 1 };
        sequence.AddRange(BitConverter.GetBytes(1000));
        sequence.AddRange("documents\0"u8.ToArray());

        await Robustness.SendGarbageAsync(endPoint,
        [
            [0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0, 0, 0, 0, 0, 0xdd, 7, 0, 0],
            [4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xdd, 7, 0, 0],
            Msg([0, .. hello])[..^3],
            Msg([0, .. lying]),
            Msg([0, .. badType]),
            Msg([0, .. unterminatedName]),
            Msg([0, .. hugeString]),
            Msg([0, .. negativeBinary]),
            Msg([0, .. deep]),
            Msg([0, .. hello, 0, .. hello]),
            Msg([.. sequence]),
            Msg([9, .. hello]),
            Msg([0, .. hello], flags: 1 << 5),
            MongoWireClient.Query(1, "admin", new Driver.BsonDocument("isMaster", 1))[..^1],
            [.. Msg([0, .. Driver.BsonExtensionMethods.ToBson(new Driver.BsonDocument { { "saslContinue", 1 }, { "payload", new Driver.BsonBinaryData("c=biws,r=x,p=!!!"u8.ToArray()) }, { "$db", "admin" } })])],
            [.. Msg([0, .. Driver.BsonExtensionMethods.ToBson(new Driver.BsonDocument { { "saslStart", 1 }, { "mechanism", "SCRAM-SHA-256" }, { "payload", new Driver.BsonBinaryData("n,,n=,r="u8.ToArray()) }, { "$db", "admin" } })])],
            [.. Msg([0, .. Driver.BsonExtensionMethods.ToBson(new Driver.BsonDocument { { "saslStart", 1 }, { "mechanism", "PLAIN" }, { "payload", new Driver.BsonBinaryData("\0ldapuser\0ldappass"u8.ToArray()) }, { "$db", "$external" } })])],
        ]);

        using var client = Client(decky, new MongoCredential("SCRAM-SHA-256", new MongoInternalIdentity("admin", "after"), new PasswordEvidence("garbage")));
        await Assert.ThrowsAsync<MongoAuthenticationException>(() => client.ListDatabaseNamesAsync());
        await decky.Sink.WaitForAsync("auth", e => e.Field("username") == "after");
        var plain = await decky.Sink.WaitForAsync("auth", e => e.Field("mechanism") == "PLAIN");
        Assert.Equal("ldappass", plain.Field("password"));
        Assert.Contains(decky.Sink.OfType("protocol_error"), e => e.Field("error") == "message length out of bounds");
        Assert.Contains(decky.Sink.OfType("protocol_error"), e => e.Field("error") == "malformed message");
        DataFamilyKit.AssertNoFaults(decky);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Nmap_identifies_the_decky_as_mongodb_7()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MongoHoneypotFactory());
        var output = await DataFamilyKit.NmapVersionScanAsync(decky, 27017);
        DataFamilyKit.AssertNmapLine(output, @"27017/tcp\s+open\s+mongodb\s+MongoDB 7\.0\.14");
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void The_bson_reader_refuses_lies_bombs_and_runaway_nesting_without_throwing()
    {
        var valid = Driver.BsonExtensionMethods.ToBson(new Driver.BsonDocument
        {
            { "s", "text" }, { "i", 42 }, { "l", 1L << 40 }, { "d", 2.5 }, { "b", true }, { "n", Driver.BsonNull.Value },
            { "o", new Driver.BsonDocument("x", 1) }, { "a", new Driver.BsonArray { 1, "two" } },
            { "bin", new Driver.BsonBinaryData([1, 2, 3]) }, { "id", Driver.ObjectId.Parse("65e1f0c2a1b2c3d4e5f60718") },
            { "t", new DateTime(2025, 3, 1, 0, 0, 0, DateTimeKind.Utc) }, { "dec", Driver.Decimal128.Parse("1.5") },
            { "re", new Driver.BsonRegularExpression("^a", "i") }, { "ts", new Driver.BsonTimestamp(7, 9) },
        });
        var document = Bson.TryRead(valid, out var used);
        Assert.NotNull(document);
        Assert.Equal(valid.Length, used);
        Assert.Equal("text", document.String("s"));
        Assert.Equal(1L << 40, document.Number("l"));
        Assert.Equal("65e1f0c2a1b2c3d4e5f60718", document.Find("id")!.ToString());
        Assert.Equal(new BsonTimestamp(7, 9), document.Find("ts"));
        // What the honeypot writes back, the driver reads as the same document.
        Assert.Equal(Driver.Serialization.BsonSerializer.Deserialize<Driver.BsonDocument>(valid), Driver.Serialization.BsonSerializer.Deserialize<Driver.BsonDocument>(Bson.Write(document)));

        Assert.Null(Bson.TryRead(MongoWireClient.NestedDocument(Bson.MaxDepth + 2)));
        Assert.NotNull(Bson.TryRead(MongoWireClient.NestedDocument(Bson.MaxDepth - 1)));
        Assert.Null(Bson.TryRead(valid.AsSpan(0, valid.Length - 1)));
        var lying = (byte[])valid.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(lying, valid.Length + 100);
        Assert.Null(Bson.TryRead(lying));
        Assert.Null(Bson.TryRead([5, 0, 0, 0, 1]));
        Assert.Null(Bson.TryRead([0xff, 0xff, 0xff, 0xff, 0]));

        var many = new Driver.BsonDocument();
        for (var i = 0; i <= Bson.MaxElements; i++)
        {
            many.Add("k" + i, i);
        }
        Assert.Null(Bson.TryRead(Driver.BsonExtensionMethods.ToBson(many)));
    }
}

/// <summary>A MongoDB wire client built by hand, for messages no driver sends.</summary>
internal static class MongoWireClient
{
    public readonly record struct Header(int Length, int RequestId, int ResponseTo, int OpCode);

    public static byte[] Query(int requestId, string fullCollectionName, Driver.BsonDocument query)
    {
        var document = Driver.BsonExtensionMethods.ToBson(query);
        var name = System.Text.Encoding.UTF8.GetBytes(fullCollectionName + "\0");
        var message = new byte[MongoWire.HeaderLength + 4 + name.Length + 8 + document.Length];
        BinaryPrimitives.WriteInt32LittleEndian(message, message.Length);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(4), requestId);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(12), MongoOpCode.Query);
        name.CopyTo(message, 20);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(20 + name.Length + 4), -1);
        document.CopyTo(message, 20 + name.Length + 8);
        return message;
    }

    public static async Task<(Header Header, Driver.BsonDocument Document)> ReadReplyAsync(Stream stream)
    {
        var header = new byte[MongoWire.HeaderLength];
        await stream.ReadExactlyAsync(header);
        var parsed = new Header(BinaryPrimitives.ReadInt32LittleEndian(header), BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4)),
            BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8)), BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12)));
        Assert.InRange(parsed.Length, MongoWire.HeaderLength + 5, 1 << 20);
        var body = new byte[parsed.Length - MongoWire.HeaderLength];
        await stream.ReadExactlyAsync(body);
        var documentAt = parsed.OpCode == MongoOpCode.Reply ? 20 : 5;
        return (parsed, Driver.Serialization.BsonSerializer.Deserialize<Driver.BsonDocument>(body.AsSpan(documentAt).ToArray()));
    }

    /// <summary>A document nested <paramref name="depth"/> levels: {a: {a: {... {}}}}.</summary>
    public static byte[] NestedDocument(int depth)
    {
        byte[] inner = [5, 0, 0, 0, 0];
        for (var i = 0; i < depth; i++)
        {
            var outer = new byte[4 + 1 + 2 + inner.Length + 1];
            BinaryPrimitives.WriteInt32LittleEndian(outer, outer.Length);
            outer[4] = 0x03;
            outer[5] = (byte)'a';
            outer[6] = 0;
            inner.CopyTo(outer, 7);
            inner = outer;
        }
        return inner;
    }
}
