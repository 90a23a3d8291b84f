using System.Text;
using Decnet.Core.Honeypots.Redis;

namespace Decnet.Tests.Honeypots.Redis;

public sealed class RedisHoneypotTests
{
    private static Task<RealClient.Result> RedisCli(TestDecky decky, params string[] args) =>
        RealClient.RunAsync("redis-cli", ["-h", decky.Address.ToString(), "-p", "6379", .. args]);

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Redis_cli_sees_a_plausible_server_and_every_command_is_an_event()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new RedisHoneypotFactory(), new Dictionary<string, string> { ["version"] = "7.0.15", ["os_string"] = "Linux 6.1.0-18-amd64 x86_64" });

        Assert.Equal("PONG", (await RedisCli(decky, "PING")).StdOut.Trim());
        var info = (await RedisCli(decky, "INFO", "server")).StdOut;
        Assert.Contains("redis_version:7.0.15", info, StringComparison.Ordinal);
        Assert.Contains("os:Linux 6.1.0-18-amd64 x86_64", info, StringComparison.Ordinal);
        var keys = (await RedisCli(decky, "KEYS", "*")).StdOut;
        Assert.Contains("config:db", keys, StringComparison.Ordinal);
        Assert.Contains("Pr0dDbP4ss", (await RedisCli(decky, "GET", "config:db")).StdOut, StringComparison.Ordinal);
        var config = (await RedisCli(decky, "CONFIG", "GET", "dir")).StdOut;
        Assert.Equal("dir\n/var/lib/redis\n", config);
        Assert.Equal("OK", (await RedisCli(decky, "CONFIG", "SET", "dir", "/root/.ssh")).StdOut.Trim());
        Assert.Equal("OK", (await RedisCli(decky, "-n", "3", "SET", "x", "1")).StdOut.Trim());
        Assert.Contains("unknown command 'FOOBAR'", (await RedisCli(decky, "FOOBAR", "a")).StdOut, StringComparison.Ordinal);

        var configGet = await decky.Sink.WaitForAsync("command", e => e.Field("cmd") == "CONFIG" && e.Field("args") == "[\"GET\",\"dir\"]");
        Assert.NotNull(configGet.Field("src_ip"));
        await decky.Sink.WaitForAsync("command", e => e.Field("cmd") == "SELECT" && e.Field("args") == "[\"3\"]");
        var configSet = await decky.Sink.WaitForAsync("config_set");
        Assert.Equal("dir", configSet.Field("parameter"));
        Assert.Equal("/root/.ssh", configSet.Field("value"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Auth_passwords_and_acl_usernames_are_captured()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new RedisHoneypotFactory());

        var plain = await RedisCli(decky, "--no-auth-warning", "-a", "hunter2", "PING");
        Assert.Contains("AUTH", plain.StdOut + plain.StdErr, StringComparison.Ordinal);
        var acl = await RedisCli(decky, "--no-auth-warning", "--user", "ops", "--pass", "S3cret!", "PING");
        Assert.Contains("WRONGPASS", acl.StdOut + acl.StdErr, StringComparison.Ordinal);

        var first = await decky.Sink.WaitForAsync("auth", e => e.Field("password") == "hunter2");
        Assert.Equal("default", first.Field("username"));
        var second = await decky.Sink.WaitForAsync("auth", e => e.Field("password") == "S3cret!");
        Assert.Equal("ops", second.Field("username"));
        Assert.Equal("failed", second.Field("status"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task With_a_persona_password_commands_need_auth_and_the_right_password_is_accepted()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new RedisHoneypotFactory(), new Dictionary<string, string> { ["password"] = "letmein" });

        Assert.Contains("NOAUTH", (await RedisCli(decky, "KEYS", "*")).StdOut, StringComparison.Ordinal);
        Assert.Contains("api:stripe_key", (await RedisCli(decky, "--no-auth-warning", "-a", "letmein", "KEYS", "*")).StdOut, StringComparison.Ordinal);
        var ok = await decky.Sink.WaitForAsync("auth", e => e.Field("status") == "success");
        Assert.Equal("letmein", ok.Field("password"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Garbage_and_truncated_resp_never_break_the_listener()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new RedisHoneypotFactory());
        await Robustness.SendGarbageAsync(hosted.EndPointOf("redis", 6379),
        [
            "*3\r\n$3\r\nSET\r\n$1\r\n"u8.ToArray(),
            "*99999999\r\n"u8.ToArray(),
            "*2\r\n$999999999\r\n"u8.ToArray(),
            "*1\r\n+PING\r\n"u8.ToArray(),
            Encoding.ASCII.GetBytes(new string('A', 100_000)),
            "*-1\r\n*0\r\n\r\n"u8.ToArray(),
            // Blanks only: an inline command with no words (the fuzzer's find).
            " \t \r\n\t\r\nPING\r\n"u8.ToArray(),
        ]);
        Assert.Equal("PONG", (await RedisCli(decky, "PING")).StdOut.Trim());
        await decky.Sink.WaitForAsync("protocol_error");
        await decky.AssertNoSessionFaultsAsync();
    }

    [Theory]
    [Trait("Category", "Unit")]
    [InlineData("*", "anything", true)]
    [InlineData("config:*", "config:db", true)]
    [InlineData("config:*", "session:admin", false)]
    [InlineData("d?r", "dir", true)]
    [InlineData("*max*", "maxmemory-policy", true)]
    public void Glob_patterns_match_like_redis(string pattern, string text, bool expected) =>
        Assert.Equal(expected, RedisHoneypot.GlobMatch(pattern, text));

    [Fact]
    [Trait("Category", "Unit")]
    public void Inline_commands_split_on_whitespace_and_honour_quotes() =>
        Assert.Equal(["SET", "k", "two words"], RespReader.SplitInline("SET  k \"two words\""));
}
