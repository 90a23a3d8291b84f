using System.Buffers.Binary;
using System.Text;
using Decnet.Core.Honeypots.Elasticsearch;
using Decnet.Core.Honeypots.Mail;
using Decnet.Core.Honeypots.Mongo;
using Decnet.Core.Honeypots.Postgres;
using MongoDB.Driver;
using Driver = MongoDB.Bson;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Honeypots.Fuzzing;

/// <summary>
/// Fuzz campaigns (see <see cref="ProtocolFuzzer"/>) for the mail and database family: IMAP, POP3,
/// Elasticsearch, MongoDB and PostgreSQL, each followed by its real client (curl, the MongoDB driver, psql).
/// </summary>
[Trait("Category", "Integration")]
[Collection(ProcessMeasurementCollection.Name)]
[Trait("Category", TestCategories.Isolated)]
public sealed class DataFamilyProtocolFuzzTests
{
    [Fact]
    public Task Imap_survives_random_and_mutated_commands() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new ImapHoneypotFactory(),
        ValidFrames =
        [
            .. FuzzFrames.Lines(
                "a CAPABILITY", "b LOGIN admin admin123", "c SELECT INBOX",
                "d UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)] BODY[]<0.100>)", "e SEARCH SUBJECT aws",
                "f STATUS INBOX (MESSAGES UNSEEN)", "g APPEND INBOX {11+}", "Subject: x", "h LOGOUT"),
        ],
        RealClient = async target =>
        {
            var message = await RealClient.RunAsync("curl", ["-sS", "--max-time", "20", "-u", "admin:admin123", $"imap://{target.Address}:{target.Port}/INBOX;UID=1"]);
            Assert.True(message.ExitCode == 0, message.StdErr);
            Assert.Contains("Subject: Your AWS access keys for the deploy user", message.StdOut, StringComparison.Ordinal);
        },
    });

    [Fact]
    public Task Pop3_survives_random_and_mutated_commands() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new Pop3HoneypotFactory(),
        ValidFrames = [.. FuzzFrames.Lines("CAPA", "USER admin", "PASS admin123", "STAT", "LIST", "UIDL 2", "RETR 1", "TOP 2 3", "DELE 1", "RSET", "QUIT")],
        RealClient = async target =>
        {
            var message = await RealClient.RunAsync("curl", ["-sS", "--max-time", "20", "-u", "admin:admin123", $"pop3://{target.Address}:{target.Port}/2"]);
            Assert.True(message.ExitCode == 0, message.StdErr);
            Assert.Contains("Subject: prod database credentials (do not forward)", message.StdOut, StringComparison.Ordinal);
        },
    });

    [Fact]
    public Task Elasticsearch_survives_random_and_mutated_requests() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new ElasticsearchHoneypotFactory(),
        ValidFrames =
        [
            FuzzFrames.Ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            FuzzFrames.Ascii("GET /_cat/indices?v&format=json HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ZWxhc3RpYzpjaGFuZ2VtZQ==\r\n\r\n"),
            FuzzFrames.Ascii("POST /customers/_search?pretty HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"query\":{\"bool\":{\"must\":[{\"match\":{\"a\":\"b\"}}]}}}"),
            FuzzFrames.Ascii("PUT /pwned/_doc/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{\"a\":\"b\"}\r\n0\r\n\r\n"),
            FuzzFrames.Ascii("DELETE /_all HTTP/1.1\r\nHost: x\r\n\r\n"),
        ],
        RealClient = async target =>
        {
            var root = await RealClient.RunAsync("curl", ["-sS", "--max-time", "20", $"http://{target.Address}:{target.Port}/"]);
            Assert.True(root.ExitCode == 0, root.StdErr);
            Assert.Contains("You Know, for Search", root.StdOut, StringComparison.Ordinal);
        },
    });

    [Fact]
    public Task Mongodb_survives_random_and_mutated_wire_messages() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new MongoHoneypotFactory(),
        ValidFrames = DataFamilyFuzzTests.MongoSeeds,
        RealClient = async target =>
        {
            // mongosh is not packaged by Debian; the official driver is the real client.
            var settings = MongoClientSettings.FromConnectionString($"mongodb://{target.Address}:{target.Port}/?directConnection=true");
            settings.ServerSelectionTimeout = TimeSpan.FromSeconds(15);
            settings.ConnectTimeout = TimeSpan.FromSeconds(10);
            using var client = new MongoClient(settings);
            var build = await client.GetDatabase("admin").RunCommandAsync<Driver.BsonDocument>(new Driver.BsonDocument("buildInfo", 1));
            Assert.True(build.Contains("versionArray"), build.ToString());
            Assert.Contains("shop", await (await client.ListDatabaseNamesAsync()).ToListAsync());
        },
    });

    [Fact]
    public Task Postgres_survives_random_and_mutated_messages() => ProtocolFuzzer.RunAsync(new FuzzProtocol
    {
        Factory = new PostgresHoneypotFactory(),
        Persona = new Dictionary<string, string> { ["auth"] = "scram-sha-256" },
        ValidFrames =
        [
            [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f],
            Startup("user\0bob\0database\0db\0application_name\0psql\0\0"),
            Pg('p', [.. "SCRAM-SHA-256\0"u8.ToArray(), .. Int32("n,,n=,r=rOprNGfwEbeRWgbNEkqO".Length), .. "n,,n=,r=rOprNGfwEbeRWgbNEkqO"u8.ToArray()]),
            Pg('p', [.. "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="u8.ToArray()]),
            Pg('Q', [.. "select version();\0"u8.ToArray()]),
            Pg('X', []),
        ],
        RealClient = async target =>
        {
            var psql = await ClientProcess.RunAsync("psql",
                [$"host={target.Address} port={target.Port} user=replicator dbname=postgres connect_timeout=10", "-X", "-c", "select 1"],
                timeoutMs: 30_000, environment: new Dictionary<string, string> { ["PGPASSWORD"] = "r3pl!cate", ["PGCONNECT_TIMEOUT"] = "10" });
            // The decoy refuses every login; being asked for and refused the password is being served.
            Assert.Contains("password authentication failed for user \"replicator\"", psql.Stderr, StringComparison.Ordinal);
        },
    });

    private static byte[] Int32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>A typed PostgreSQL message: its type byte, its length (itself included), its body.</summary>
    private static byte[] Pg(char type, byte[] body) => [(byte)type, .. Int32(body.Length + 4), .. body];

    /// <summary>The untyped startup message of protocol 3.0.</summary>
    private static byte[] Startup(string parameters)
    {
        var body = Encoding.UTF8.GetBytes(parameters);
        return [.. Int32(body.Length + 8), 0, 3, 0, 0, .. body];
    }
}
