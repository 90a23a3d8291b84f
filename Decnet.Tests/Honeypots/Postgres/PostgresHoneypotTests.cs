using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Decnet.Core.Honeypots.Auth;
using Decnet.Core.Honeypots.Postgres;

namespace Decnet.Tests.Honeypots.Postgres;

public sealed class PostgresHoneypotTests
{
    private static Task<ClientProcess.Result> Psql(TestDecky decky, string user, string password, string database, params string[] args) =>
        ClientProcess.RunAsync("psql",
            [$"host={decky.Address} port=5432 user={user} dbname={database} connect_timeout=10", "-X", "-v", "ON_ERROR_STOP=1", .. args],
            timeoutMs: 30_000,
            environment: new Dictionary<string, string> { ["PGPASSWORD"] = password, ["PGCONNECT_TIMEOUT"] = "10" });

    private static Dictionary<string, string> Persona(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Psql_md5_login_is_refused_and_its_response_is_a_crackable_hashcat_11100_line()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new PostgresHoneypotFactory());

        var result = await Psql(decky, "dbadmin", "Summer2024!", "billing", "-c", "select 1");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("FATAL:  password authentication failed for user \"dbadmin\"", result.Stderr, StringComparison.Ordinal);

        await decky.Sink.WaitForAsync("ssl_request");
        var startup = await decky.Sink.WaitForAsync("startup");
        Assert.Equal("dbadmin", startup.Field("username"));
        Assert.Equal("billing", startup.Field("database"));
        Assert.Equal("psql", startup.Field("application_name"));
        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.Equal("md5", auth.Field("method"));
        Assert.Equal("failed", auth.Field("status"));
        Assert.Equal("11100", auth.Field("hashcat_mode"));

        // $postgres$user*salt*digest: recomputing it from the guessed password is exactly what the cracker does.
        var parts = auth.Field("hash")!["$postgres$".Length..].Split('*');
        Assert.Equal("dbadmin", parts[0]);
        Assert.Equal(PostgresHoneypot.Md5Response("dbadmin", "Summer2024!", Convert.FromHexString(parts[1])), parts[2]);
        Assert.NotEqual(PostgresHoneypot.Md5Response("dbadmin", "Winter2024!", Convert.FromHexString(parts[1])), parts[2]);

        var bounty = DataFamilyKit.CredentialOf(auth);
        Assert.Equal("dbadmin", bounty["username"]);
        Assert.Equal(auth.Field("hash"), bounty["hash"]);
        Assert.Equal("11100", bounty["hashcat_mode"]);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Psql_scram_login_is_recorded_as_an_exchange_that_verifies_only_the_real_password()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new PostgresHoneypotFactory(), Persona(("auth", "scram-sha-256")));

        var result = await Psql(decky, "replicator", "r3pl!cate", "postgres", "-c", "select 1");
        Assert.Contains("password authentication failed for user \"replicator\"", result.Stderr, StringComparison.Ordinal);

        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.Equal("scram-sha-256", auth.Field("method"));
        Assert.Equal("4096", auth.Field("iterations"));
        var exchange = ScramExchange.TryParse(auth.Field("hash")!);
        Assert.NotNull(exchange);
        Assert.True(exchange.Verify("r3pl!cate"));
        Assert.False(exchange.Verify("replicate"));
        Assert.Equal("scram-sha-256", DataFamilyKit.CredentialOf(auth)["hash_type"]);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Psql_cleartext_login_hands_over_the_password_as_a_credential_bounty()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new PostgresHoneypotFactory(), Persona(("auth", "password")));

        var result = await Psql(decky, "postgres", "postgres123", "postgres", "-c", "select 1");
        Assert.Contains("password authentication failed for user \"postgres\"", result.Stderr, StringComparison.Ordinal);

        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.Equal("password", auth.Field("method"));
        Assert.Equal("postgres123", auth.Field("password"));
        var bounty = DataFamilyKit.CredentialOf(auth);
        Assert.Equal("postgres", bounty["username"]);
        Assert.Equal("postgres123", bounty["password"]);
        Assert.False(bounty.ContainsKey("hash"));
    }

    [Theory]
    [Trait("Category", "Integration")]
    [InlineData("md5")]
    [InlineData("scram-sha-256")]
    [InlineData("password")]
    public async Task A_persona_user_gets_in_with_each_method_and_sees_the_persona_version_and_bait_databases(string method)
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new PostgresHoneypotFactory(), Persona(("auth", method), ("users", "app:Tr0ub4dor"), ("version", "14.11 (Ubuntu 14.11-0ubuntu0.22.04.1)"), ("databases", "crm,payroll")));

        var version = await Psql(decky, "app", "Tr0ub4dor", "crm", "-tA", "-c", "select version()");
        Assert.True(version.ExitCode == 0, version.Stderr);
        Assert.StartsWith("PostgreSQL 14.11 (Ubuntu 14.11-0ubuntu0.22.04.1) on x86_64", version.Stdout, StringComparison.Ordinal);
        var list = await Psql(decky, "app", "Tr0ub4dor", "crm", "-l");
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Contains("payroll", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("template0", list.Stdout, StringComparison.Ordinal);
        var denied = await Psql(decky, "app", "Tr0ub4dor", "crm", "-c", "select * from customers");
        Assert.Contains("relation \"customers\" does not exist", denied.Stderr, StringComparison.Ordinal);

        Assert.Contains(decky.Sink.OfType("auth"), e => e.Field("status") == "success" && e.Field("method") == method);
        var query = await decky.Sink.WaitForAsync("query", e => e.Field("query") == "select * from customers");
        Assert.Equal("app", query.Field("username"));
        Assert.Equal("crm", query.Field("database"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Garbage_and_truncated_packets_fault_no_session_and_psql_still_gets_its_answer()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new PostgresHoneypotFactory(), Persona(("auth", "scram-sha-256")));
        var endPoint = hosted.EndPointOf("postgres", 5432);

        byte[] Startup(params string[] pairs)
        {
            var body = Encoding.UTF8.GetBytes(string.Join('\0', pairs) + "\0\0");
            var packet = new byte[8 + body.Length];
            BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
            BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), PostgresMessages.ProtocolVersion3);
            body.CopyTo(packet, 8);
            return packet;
        }
        var valid = Startup("user", "x", "database", "y");
        await Robustness.SendGarbageAsync(endPoint,
        [
            [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f, 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f, 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f, 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f],
            [0x7f, 0xff, 0xff, 0xff],
            [0, 0, 0, 4],
            Startup("user"),
            valid[..^3],
            [.. valid, (byte)'p', 0, 0, 0, 12, .. "SCRAM-SHA"u8.ToArray()],
            [.. valid, (byte)'p', 0x7f, 0xff, 0xff, 0xff],
            [.. valid, (byte)'p', 0, 0, 0, 30, .. "SCRAM-SHA-256\0"u8.ToArray(), 0x7f, 0, 0, 0, .. "n,,n=,r=abc"u8.ToArray()],
            [.. valid, (byte)'p', 0, 0, 0, 30, .. "SCRAM-SHA-256\0"u8.ToArray(), 0, 0, 0, 11, .. "garbage!!!!"u8.ToArray()],
            [.. valid, (byte)'Q', 0, 0, 0, 9, .. "oops"u8.ToArray(), 0],
        ]);

        var result = await Psql(decky, "after", "garbage", "postgres", "-c", "select 1");
        Assert.Contains("password authentication failed for user \"after\"", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(decky.Sink.OfType("protocol_error"), e => e.Field("error") == "invalid startup packet length");
        DataFamilyKit.AssertNoFaults(decky);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Nmap_identifies_the_decky_as_postgresql_15()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new PostgresHoneypotFactory());
        var output = await DataFamilyKit.NmapVersionScanAsync(decky, 5432);
        DataFamilyKit.AssertNmapLine(output, @"5432/tcp\s+open\s+postgresql\s+PostgreSQL DB 15");
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Scram_parsers_refuse_malformed_messages_without_throwing()
    {
        Assert.Null(Scram.ParseClientFirst(""));
        Assert.Null(Scram.ParseClientFirst("x,,n=a,r=b"));
        Assert.Null(Scram.ParseClientFirst("n,,n=a"));
        Assert.Null(Scram.ParseClientFirst("n,,m=ext,n=a,r=b"));
        Assert.Null(Scram.ParseClientFirst(new string('n', Scram.MaxMessageLength + 1)));
        Assert.Equal("a,b=c", Scram.ParseClientFirst("n,,n=a=2Cb=3Dc,r=nonce")!.Username);
        Assert.Null(Scram.ParseClientFinal("c=biws,r=abc"));
        Assert.Null(Scram.ParseClientFinal("c=biws,r=abc,p=***"));
        Assert.Null(ScramExchange.TryParse("$scram-sha-256$x$a$b$c"));
        Assert.Null(ScramExchange.TryParse("$scram-sha-256$10$!!$b$c"));
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Startup_parameters_are_bounded_and_must_be_terminated()
    {
        Assert.Null(PostgresMessages.ParseStartupParameters("user\0bob"u8));
        Assert.Null(PostgresMessages.ParseStartupParameters(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("k\0v\0", 65)) + "\0")));
        var ok = PostgresMessages.ParseStartupParameters("user\0bob\0database\0db\0\0"u8);
        Assert.Equal(2, ok!.Count);
        Assert.Null(PostgresMessages.ParseSaslInitialResponse("SCRAM-SHA-256\0\u007f\0\0\0abc"u8));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_protocol_other_than_3_gets_the_fatal_error_postgresql_15_writes()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new PostgresHoneypotFactory());
        using var client = new TcpClient();
        await client.ConnectAsync(hosted.EndPointOf("postgres", 5432));
        var stream = client.GetStream();
        await stream.WriteAsync((byte[])[0, 0, 0, 8, 0, 2, 0, 0]);
        var reply = new byte[512];
        var total = 0;
        int read;
        while ((read = await stream.ReadAsync(reply.AsMemory(total))) > 0)
        {
            total += read;
        }
        var text = Encoding.ASCII.GetString(reply, 0, total);
        Assert.StartsWith("E", text, StringComparison.Ordinal);
        Assert.Contains("SFATAL\0VFATAL\0C0A000\0Munsupported frontend protocol 2.0: server supports 3.0 to 3.0\0Fpostmaster.c\0L2194\0RProcessStartupPacket\0\0", text, StringComparison.Ordinal);
    }
}
