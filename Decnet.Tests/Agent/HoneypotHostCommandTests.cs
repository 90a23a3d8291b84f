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

    [Fact]
    public void Bounds_come_from_the_environment_within_their_ranges_or_are_refused_by_name()
    {
        var (settings, errors) = HoneypotHostSettings.Read(Environment(new()
        {
            ["DECNET_DECKY"] = "d1",
            ["DECNET_SERVICES"] = "ftp",
            ["DECNET_ARTIFACTS_MAX_BYTES"] = "8192",
            ["DECNET_ARTIFACTS_FILES_PER_SESSION"] = "3",
            ["DECNET_SESSIONS_PER_SOURCE"] = "2",
            ["DECNET_SESSIONS_MAX"] = "5",
        }));
        Assert.Empty(errors);
        Assert.Equal((8192L, 3, 2, 5), (settings!.ArtifactBytes, settings.FilesPerSession, settings.SessionsPerSource, settings.Sessions));

        var (defaults, _) = HoneypotHostSettings.Read(Environment(new() { ["DECNET_DECKY"] = "d1", ["DECNET_SERVICES"] = "ftp" }));
        Assert.Equal((256L * 1024 * 1024, 64, 32, 1024), (defaults!.ArtifactBytes, defaults.FilesPerSession, defaults.SessionsPerSource, defaults.Sessions));

        var (refused, problems) = HoneypotHostSettings.Read(Environment(new()
        {
            ["DECNET_DECKY"] = "d1",
            ["DECNET_SERVICES"] = "ftp",
            ["DECNET_ARTIFACTS_MAX_BYTES"] = "-1",
            ["DECNET_ARTIFACTS_FILES_PER_SESSION"] = "lots",
            ["DECNET_SESSIONS_PER_SOURCE"] = "0",
            ["DECNET_SESSIONS_MAX"] = "99999999999",
        }));
        Assert.Null(refused);
        Assert.Equal(4, problems.Count);
        Assert.Contains(problems, e => e.StartsWith("DECNET_ARTIFACTS_MAX_BYTES '-1'", StringComparison.Ordinal));
        Assert.Contains(problems, e => e.StartsWith("DECNET_ARTIFACTS_FILES_PER_SESSION 'lots'", StringComparison.Ordinal));
        Assert.Contains(problems, e => e.StartsWith("DECNET_SESSIONS_PER_SOURCE '0'", StringComparison.Ordinal));
        Assert.Contains(problems, e => e.StartsWith("DECNET_SESSIONS_MAX '99999999999'", StringComparison.Ordinal));
    }

    [Fact]
    public void The_shared_admission_socket_is_optional_and_must_be_an_absolute_path()
    {
        var (none, _) = HoneypotHostSettings.Read(Environment(new() { ["DECNET_DECKY"] = "d1", ["DECNET_SERVICES"] = "ftp" }));
        Assert.Null(none!.AdmissionSocket);

        var (shared, errors) = HoneypotHostSettings.Read(Environment(new()
        {
            ["DECNET_DECKY"] = "d1",
            ["DECNET_SERVICES"] = "ftp",
            ["DECNET_ADMISSION_SOCKET"] = "/run/decnet/admission/admission.sock",
        }));
        Assert.Empty(errors);
        Assert.Equal("/run/decnet/admission/admission.sock", shared!.AdmissionSocket);

        var (refused, problems) = HoneypotHostSettings.Read(Environment(new()
        {
            ["DECNET_DECKY"] = "d1",
            ["DECNET_SERVICES"] = "ftp",
            ["DECNET_ADMISSION_SOCKET"] = "admission.sock",
        }));
        Assert.Null(refused);
        Assert.Equal("DECNET_ADMISSION_SOCKET 'admission.sock' must be an absolute path.", Assert.Single(problems));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_service_container_holds_its_share_of_the_deckys_sessions_and_artifact_quota()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var stop = new CancellationTokenSource();
        using var state = new Infrastructure.TempDirectory();
        var address = Honeypots.TestDecky.NextAddress();
        var run = HoneypotHostCommand.RunAsync([], Environment(new()
        {
            ["DECNET_DECKY"] = "dnt-share",
            ["DECNET_SERVICES"] = "ftp",
            ["DECNET_BIND_ADDRESS"] = address.ToString(),
            ["DECNET_STATE_DIR"] = Path.Combine(state.Path, "state"),
            ["DECNET_ARTIFACTS_DIR"] = Path.Combine(state.Path, "artifacts"),
            ["DECNET_ARTIFACTS_MAX_BYTES"] = "8192",
            ["DECNET_SESSIONS_PER_SOURCE"] = "2",
            ["DECNET_SESSIONS_MAX"] = "3",
        }), stdout, stderr, stop.Token);
        var clients = new List<System.Net.Sockets.TcpClient>();
        try
        {
            var attacker = Honeypots.TestDecky.NextAddress();
            for (var attempt = 0; attempt < 50 && await BannerAsync(attacker, address, clients) is null; attempt++)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
            Assert.NotNull(await BannerAsync(attacker, address, clients));
            Assert.Null(await BannerAsync(attacker, address, clients)); // a third from one address: reset
            Assert.StartsWith("220", await BannerAsync(Honeypots.TestDecky.NextAddress(), address, clients), StringComparison.Ordinal);
            Assert.Null(await BannerAsync(Honeypots.TestDecky.NextAddress(), address, clients)); // the container's cap
            foreach (var client in clients)
            {
                client.Dispose();
            }
            clients.Clear();

            var local = Path.Combine(state.Path, "kit.bin");
            await File.WriteAllBytesAsync(local, new byte[20_000], TestContext.Current.CancellationToken);
            var upload = -1;
            for (var attempt = 0; attempt < 50 && upload != 70; attempt++)
            {
                // The closed sessions above may still be leaving: retry until one is admitted.
                upload = (await Honeypots.RealClient.RunAsync("curl", ["-sS", "--max-time", "20", "--user", "root:toor", "-T", local, $"ftp://{address}/kit.bin"])).ExitCode;
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
            Assert.Equal(70, upload); // curl's code for the server's 552 "Exceeded storage allocation"
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
            await stop.CancelAsync();
        }

        Assert.Equal(HoneypotHostCommand.ExitOk, await run);
        Assert.Matches(@"(?m)^<\d+>1 \S+ dnt-share ftp - file_skipped \[relay@55555 [^\n]*reason=""decky_quota""", stdout.ToString());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(state.Path, "artifacts"), "*", SearchOption.AllDirectories));
    }

    /// <summary>Connects from <paramref name="source"/> and reads the greeting; null when the connection was refused or reset.</summary>
    private static async Task<string?> BannerAsync(IPAddress source, IPAddress server, List<System.Net.Sockets.TcpClient> clients)
    {
        var client = new System.Net.Sockets.TcpClient(new IPEndPoint(source, 0));
        try
        {
            await client.ConnectAsync(server, 21, TestContext.Current.CancellationToken);
            var buffer = new byte[256];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var read = await client.GetStream().ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                client.Dispose();
                return null;
            }
            clients.Add(client);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, read);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException)
        {
            client.Dispose();
            return null;
        }
    }
}
