using System.Text;
using Decnet.Core.Honeypots.Mysql;

namespace Decnet.Tests.Honeypots.Mysql;

public sealed class MysqlHoneypotTests
{
    private static Task<RealClient.Result> Mariadb(TestDecky decky, params string[] args) =>
        RealClient.RunAsync("mariadb", ["--protocol=TCP", "-h", decky.Address.ToString(), "-P", "3306", "--connect-timeout=10", .. args, "-e", "select 1"]);

    [Fact]
    [Trait("Category", "Integration")]
    public async Task The_default_client_path_logs_username_database_attributes_and_the_hashed_response()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MysqlHoneypotFactory());

        var result = await Mariadb(decky, "-u", "dbadmin", "-pW3akPass", "-D", "billing");
        Assert.NotEqual(0, result.ExitCode);

        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.Equal("dbadmin", auth.Field("username"));
        Assert.Equal("billing", auth.Field("database"));
        Assert.Equal("mysql_native_password", auth.Field("auth_plugin"));
        Assert.Equal(40, auth.Field("auth_response")!.Length);
        Assert.Equal(40, auth.Field("scramble")!.Length);
        Assert.Equal("YES", auth.Field("using_password"));
        Assert.Contains("\"_client_name\":\"libmariadb\"", auth.Field("client_attrs"), StringComparison.Ordinal);
        // libmariadb 10.11 answers the clear-text switch even without --enable-cleartext-plugin.
        Assert.Equal("W3akPass", (await decky.Sink.WaitForAsync("auth_attempt")).Field("password"));
        Assert.Contains("Access denied for user 'dbadmin'", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_client_that_refuses_the_cleartext_switch_is_still_logged_with_its_hash()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new MysqlHoneypotFactory());
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(hosted.EndPointOf("mysql", 3306));
        var stream = client.GetStream();
        var greeting = new byte[256];
        Assert.True(await stream.ReadAsync(greeting) > 40);

        // A HandshakeResponse41 from "svc" with a 20-byte native-password response, as Oracle's client sends it.
        const uint caps = 0x0000_0200 | 0x0000_8000 | 0x0008_0000;
        byte[] body = [.. BitConverter.GetBytes(caps), 0, 0, 0, 1, 0x21, .. new byte[23], .. "svc\0"u8.ToArray(), 20, .. Enumerable.Range(1, 20).Select(i => (byte)i), .. "mysql_native_password\0"u8.ToArray()];
        await stream.WriteAsync((byte[])[(byte)body.Length, 0, 0, 1, .. body]);
        var switchRequest = new byte[64];
        var read = await stream.ReadAsync(switchRequest).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("mysql_clear_password", Encoding.ASCII.GetString(switchRequest, 5, 20));
        Assert.True(read >= 25);
        client.Client.Shutdown(System.Net.Sockets.SocketShutdown.Both);

        var refused = await decky.Sink.WaitForAsync("auth_switch_refused");
        Assert.Equal("svc", refused.Field("username"));
        var auth = Assert.Single(decky.Sink.OfType("auth"));
        Assert.Equal("0102030405060708090a0b0c0d0e0f1011121314", auth.Field("auth_response"));
        Assert.Empty(decky.Sink.OfType("auth_attempt"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_client_allowing_cleartext_hands_over_the_password_and_gets_access_denied()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MysqlHoneypotFactory(), new Dictionary<string, string> { ["version"] = "8.0.36" });

        var result = await Mariadb(decky, "--enable-cleartext-plugin", "-u", "root", "-pHunter2!");
        Assert.Contains("ERROR 1045 (28000): Access denied for user 'root'@", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("(using password: YES)", result.StdErr, StringComparison.Ordinal);

        var attempt = await decky.Sink.WaitForAsync("auth_attempt");
        Assert.Equal("root", attempt.Field("username"));
        Assert.Equal("Hunter2!", attempt.Field("password"));
        Assert.NotNull(attempt.Field("src_ip"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Without_the_cleartext_switch_every_client_gets_1045_directly()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MysqlHoneypotFactory(), new Dictionary<string, string> { ["cleartext_switch"] = "false" });
        var result = await Mariadb(decky, "-u", "app", "-psecret");
        Assert.Contains("ERROR 1045 (28000): Access denied for user 'app'@", result.StdErr, StringComparison.Ordinal);
        var noPassword = await Mariadb(decky, "-u", "guest");
        Assert.Contains("(using password: NO)", noPassword.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Ssl_requests_truncated_packets_and_garbage_never_break_the_listener()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new MysqlHoneypotFactory());
        var sslRequest = new byte[36];
        sslRequest[0] = 32;
        sslRequest[3] = 1;
        BitConverter.GetBytes(0x0000_0A00u | 0x800u | 0x200u).CopyTo(sslRequest, 4);
        await Robustness.SendGarbageAsync(hosted.EndPointOf("mysql", 3306),
        [
            sslRequest,
            [0x05, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00],
            [0xff, 0xff, 0xff, 0x01],
            [0x30, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, .. new byte[28], .. Encoding.ASCII.GetBytes("user"), 0xfe, 0xff, 0xff],
            [0x2c, 0x00, 0x00, 0x01, 0x00, 0x02, 0x28, 0x00, .. new byte[28], .. Encoding.ASCII.GetBytes("u\0"), 0xfc, 0xff, 0xff, 0x00],
        ]);
        await decky.Sink.WaitForAsync("ssl_request");
        var result = await Mariadb(decky, "--enable-cleartext-plugin", "-u", "after", "-pgarbage");
        Assert.Contains("Access denied for user 'after'", result.StdErr, StringComparison.Ordinal);
        await decky.AssertNoSessionFaultsAsync();
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void The_handshake_advertises_the_version_native_password_and_no_ssl()
    {
        var scramble = Encoding.ASCII.GetBytes("abcdefghijklmnopqrst");
        var packet = MysqlPackets.Handshake("5.7.38-log", 42, scramble, MysqlCapabilities.Protocol41 | MysqlCapabilities.PluginAuth | MysqlCapabilities.SecureConnection);
        Assert.Equal(0x0a, packet[0]);
        Assert.Equal("5.7.38-log\0", Encoding.ASCII.GetString(packet, 1, 11));
        var text = Encoding.ASCII.GetString(packet);
        Assert.Contains("abcdefgh", text, StringComparison.Ordinal);
        Assert.Contains("ijklmnopqrst\0mysql_native_password\0", text, StringComparison.Ordinal);
        var lowerCaps = packet[12 + 4 + 8 + 1] | (packet[12 + 4 + 8 + 2] << 8);
        Assert.Equal(0, lowerCaps & (int)MysqlCapabilities.Ssl);
    }
}
