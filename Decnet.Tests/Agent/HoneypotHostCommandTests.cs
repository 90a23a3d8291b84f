extern alias agent;

using System.Net;
using agent::Decnet.Agent.Honeypot;

namespace Decnet.Tests.Agent;

[Trait("Category", "Unit")]
public sealed class HoneypotHostCommandTests
{
    private static Func<string, string?> Environment(Dictionary<string, string> values) =>
        name => values.TryGetValue(name, out var value) ? value : null;

    [Fact]
    public void Settings_come_from_the_decnet_environment_with_a_wildcard_bind_by_default()
    {
        var (settings, errors) = HoneypotHostSettings.Read(Environment(new()
        {
            ["DECNET_DECKY"] = "db1",
            ["DECNET_HOSTNAME"] = "SQL-PROD-01",
            ["DECNET_DISTRO"] = "ubuntu22",
            ["DECNET_OS"] = "embedded",
            ["DECNET_ARCHETYPE"] = "printer",
            ["DECNET_SERVICES"] = "redis, http",
            ["DECNET_PERSONA_JSON"] = """{"redis":{"version":"7.0.15","port":6380}}""",
        }));

        Assert.Empty(errors);
        Assert.NotNull(settings);
        Assert.Equal(("db1", "SQL-PROD-01", "ubuntu22"), (settings.Decky, settings.Hostname, settings.Distro));
        Assert.Equal(("embedded", "printer"), (settings.OsFamily, settings.Archetype));
        Assert.Equal(["redis", "http"], settings.Services);
        Assert.Equal(IPAddress.Any, settings.BindAddress);
        Assert.Equal("7.0.15", settings.PersonaFor("REDIS")["VERSION"]);
        Assert.Equal("6380", settings.PersonaFor("redis")["port"]);
        Assert.Empty(settings.PersonaFor("http"));
    }

    [Fact]
    public void Every_problem_in_the_environment_is_reported_at_once()
    {
        var (settings, errors) = HoneypotHostSettings.Read(Environment(new()
        {
            ["DECNET_BIND_ADDRESS"] = "not-an-ip",
            ["DECNET_PERSONA_JSON"] = "{broken",
        }));

        Assert.Null(settings);
        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.Contains("DECNET_DECKY", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("DECNET_SERVICES", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("not-an-ip", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("not valid JSON", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_service_is_a_usage_error_that_names_the_available_ones()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exit = await HoneypotHostCommand.RunAsync([], Environment(new() { ["DECNET_DECKY"] = "d1", ["DECNET_SERVICES"] = "gopher" }), stdout, stderr);

        Assert.Equal(HoneypotHostCommand.ExitUsage, exit);
        Assert.Contains("unknown service(s) gopher", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("redis", stderr.ToString(), StringComparison.Ordinal);
        Assert.Empty(stdout.ToString());
    }

    [Fact]
    public async Task The_host_serves_on_the_bind_address_and_writes_rfc5424_events_to_stdout_until_stopped()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var stop = new CancellationTokenSource();
        using var state = new Infrastructure.TempDirectory();
        var run = HoneypotHostCommand.RunAsync([], Environment(new()
        {
            ["DECNET_DECKY"] = "dnt-agent",
            ["DECNET_SERVICES"] = "redis",
            ["DECNET_BIND_ADDRESS"] = "127.77.91.10",
            ["DECNET_STATE_DIR"] = Path.Combine(state.Path, "state"),
            ["DECNET_ARTIFACTS_DIR"] = Path.Combine(state.Path, "artifacts"),
        }), stdout, stderr, stop.Token);

        string reply = "";
        for (var attempt = 0; attempt < 50 && reply.Length == 0; attempt++)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync("127.77.91.10", 6379, TestContext.Current.CancellationToken);
                await client.GetStream().WriteAsync("PING\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
                var buffer = new byte[32];
                reply = System.Text.Encoding.ASCII.GetString(buffer, 0, await client.GetStream().ReadAsync(buffer, TestContext.Current.CancellationToken));
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }
        await stop.CancelAsync();

        Assert.Equal(HoneypotHostCommand.ExitOk, await run);
        Assert.Equal("+PONG\r\n", reply);
        Assert.Matches(@"(?m)^<\d+>1 \S+ dnt-agent redis - command \[relay@55555 ", stdout.ToString());
        Assert.Contains("127.77.91.10:6379 bound", stderr.ToString(), StringComparison.Ordinal);
    }
}
