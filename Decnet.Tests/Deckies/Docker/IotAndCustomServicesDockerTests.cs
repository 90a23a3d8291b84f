using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Decnet.Core.Events.Collection;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Core.Deckies.Docker;
using Decnet.Core.Ingest.Collection;

namespace Decnet.Tests.Deckies.Docker;

/// <summary>
/// The VoIP, IoT, cloud and ICS services and an operator's own service in the Docker runtime: deployed through
/// the API with the real engine, attacked with the real clients through the host shim, and their events read
/// back from the logs API (the container logs followed by the collector).
/// </summary>
[Trait("Category", TestCategories.Integration)]
[Collection(DockerEngineCollection.Name)]
public sealed class IotAndCustomServicesDockerTests(DockerEngineFixture engine)
{
    private const string PlantIp = "10.213.7.50";
    private const string CustomImage = "dnt/fake-api:1";

    // The operator's program: a line-based TCP service that logs each request in plain text on stdout.
    private const string FakeApi = """
        use strict; use IO::Socket::INET;
        $| = 1;
        my $port = shift;
        my $server = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => $port, Listen => 16, ReuseAddr => 1) or die "bind: $!";
        print "fake-api 1.2 listening on 0.0.0.0:$port\n";
        while (my $client = $server->accept) {
            my $line = <$client> // '';
            $line =~ s/[\r\n]+$//;
            print "request from " . $client->peerhost . ": $line\n";
            print $client "FAKEAPI 1.2 OK\n";
            close $client;
        }
        """;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_family_and_a_custom_service_serve_real_clients_in_containers_and_their_events_reach_the_logs()
    {
        engine.RequireEngine();
        await BuildCustomImageAsync();
        using var factory = new DecnetWebFactory(new Dictionary<string, string?>
        {
            ["Decnet:Runtime:Kind"] = "docker",
            ["Decnet:Runtime:Docker:Endpoint"] = engine.Endpoint,
            ["Decnet:Runtime:Docker:RetryDelay"] = "00:00:00.200",
            ["Decnet:Ingest:Docker:ReconnectDelay"] = "00:00:00.500",
        });
        var (_, token) = await factory.CreateActiveUserAsync("iot-admin", UserRole.Admin);
        using var api = factory.CreateClient(token);
        var ini = $"""
            [general]
            net = {DockerEngineFixture.Subnet}
            gw = {DockerEngineFixture.Gateway}
            interface = {DockerEngineFixture.Bridge}

            [custom-fakeapi]
            binary = {CustomImage}
            exec = perl /srv/fake-api.pl 9000
            ports = 9000

            [custom-ghost]
            binary = dnt/never-loaded:0
            ports = 9100

            [dnt-plant]
            ip = {PlantIp}
            archetype = industrial-control
            services = mqtt, sip, tftp, conpot, docker_api, k8s, fakeapi, ghost
            """;
        var deploy = await api.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = ini }, Token);
        Assert.True(deploy.IsSuccessStatusCode, await deploy.Content.ReadAsStringAsync(Token));

        var deployed = await deploy.Content.ReadFromJsonAsync<JsonElement>(Token);
        var services = deployed.GetProperty("deckies").EnumerateArray().Single().GetProperty("services").EnumerateArray()
            .ToDictionary(s => s.GetProperty("service").GetString()!, s => s);
        foreach (var name in new[] { "mqtt", "sip", "tftp", "conpot", "docker_api", "k8s", "fakeapi" })
        {
            Assert.True(services[name].GetProperty("state").GetString() == "running", $"{name}: {services[name]}");
        }
        Assert.Equal("failed", services["ghost"].GetProperty("state").GetString());
        Assert.Contains("custom image 'dnt/never-loaded:0' is not on this engine", services["ghost"].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal($"{PlantIp}:9000/tcp", Assert.Single(services["fakeapi"].GetProperty("endpoints").EnumerateArray()).GetString());

        // The operator's service answers on the decky's address, and what it printed is an event of the decky.
        Assert.Equal("FAKEAPI 1.2 OK", await RetryAsync(() => AskFakeApiAsync("GET /admin?token=hunter2")));
        var output = await WaitForRowAsync(api, "decky:dnt-plant service:fakeapi", r => r.GetProperty("raw_line").GetString()!.Contains("GET /admin?token=hunter2", StringComparison.Ordinal));
        Assert.Equal(CustomServiceOutput.EventType, output.GetProperty("event_type").GetString());
        // The attacker is this host, seen through the macvlan shim; never the decky's own address from the banner line.
        Assert.StartsWith("10.213.7.", output.GetProperty("attacker_ip").GetString(), StringComparison.Ordinal);
        Assert.NotEqual(PlantIp, output.GetProperty("attacker_ip").GetString());

        var sub = await RetryAsync(() => Clients.RunAsync("mosquitto_sub", ["-h", PlantIp, "-u", "operator", "-P", "Pl4nt!", "-t", "plant/#", "-C", "1", "-W", "10"]), r => r.ExitCode == 0);
        Assert.NotEmpty(sub.Output.Trim());
        await WaitForRowAsync(api, "decky:dnt-plant service:mqtt event:auth", r => r.GetProperty("fields").GetProperty("password").GetString() == "Pl4nt!");

        var sip = await Clients.RunAsync("sipsak", ["-vvv", "--transport", "udp", "-U", "-C", "empty", "-x", "60", "-s", $"sip:100@{PlantIp}", "-a", "voip-guess", "-u", "100"]);
        // Only verbose sipsak prints the challenge before the final refusal of the guessed password.
        Assert.Contains("SIP/2.0 401 Unauthorized", sip.Output, StringComparison.Ordinal);
        Assert.Contains("SIP/2.0 403 Forbidden", sip.Output, StringComparison.Ordinal);
        var digest = await WaitForRowAsync(api, "decky:dnt-plant service:sip event:auth_attempt", r => r.GetProperty("fields").GetProperty("username").GetString() == "100");
        Assert.StartsWith("$sip$*", digest.GetProperty("fields").GetProperty("hash").GetString(), StringComparison.Ordinal);

        var download = Path.Combine(Path.GetTempPath(), "dnt-tftp-" + Guid.NewGuid().ToString("N"));
        try
        {
            var tftp = await Clients.RunAsync("tftp", [PlantIp, "-m", "octet", "-c", "get", "running-config", download]);
            Assert.True(File.Exists(download) && new FileInfo(download).Length > 0, tftp.Output);
        }
        finally
        {
            File.Delete(download);
        }
        await WaitForRowAsync(api, "decky:dnt-plant service:tftp", r => r.GetProperty("raw_line").GetString()!.Contains("running-config", StringComparison.Ordinal));

        var modbus = await Clients.RunAsync("mbpoll", ["-1", "-0", "-o", "5", "-t", "4", "-r", "0", "-c", "2", PlantIp]);
        Assert.True(modbus.ExitCode == 0, modbus.Output);
        await WaitForRowAsync(api, "decky:dnt-plant service:conpot", r => r.GetProperty("raw_line").GetString()!.Contains("modbus", StringComparison.Ordinal));

        var dockerConfig = Directory.CreateTempSubdirectory("dnt-docker-cli-");
        try
        {
            var version = await Clients.RunAsync("/usr/bin/docker", ["--config", dockerConfig.FullName, "-H", $"tcp://{PlantIp}:2375", "version", "--format", "{{.Server.Version}}"]);
            Assert.Equal("24.0.7", version.Output.Trim());
        }
        finally
        {
            dockerConfig.Delete(recursive: true);
        }
        await WaitForRowAsync(api, "decky:dnt-plant service:docker_api event:request", r => r.GetProperty("raw_line").GetString()!.Contains("/version", StringComparison.Ordinal));

        var secrets = await Clients.RunAsync("curl", ["-s", "-H", "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.stolen.token", $"http://{PlantIp}:8080/api/v1/namespaces/kube-system/secrets"]);
        Assert.Contains("\"kind\":\"SecretList\"", secrets.Output, StringComparison.Ordinal);
        await WaitForRowAsync(api, "decky:dnt-plant service:k8s", r => r.GetProperty("raw_line").GetString()!.Contains("stolen.token", StringComparison.Ordinal));
    }

    private async Task BuildCustomImageAsync()
    {
        var context = Directory.CreateTempSubdirectory("dnt-custom-image-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(context.FullName, "fake-api.pl"), FakeApi, Token);
            await File.WriteAllTextAsync(Path.Combine(context.FullName, "Dockerfile"), "FROM decnet/base:bookworm\nCOPY fake-api.pl /srv/fake-api.pl\n", Token);
            var build = await DockerEngineFixture.RunAsync("/usr/bin/docker", ["build", "-q", "-t", CustomImage, context.FullName],
                new Dictionary<string, string> { ["DOCKER_HOST"] = engine.Endpoint, ["DOCKER_BUILDKIT"] = "0" });
            Assert.True(build.ExitCode == 0, build.Error);
        }
        finally
        {
            context.Delete(recursive: true);
        }
    }

    private static async Task<string> AskFakeApiAsync(string request)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await client.ConnectAsync(PlantIp, 9000, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request + "\n"), timeout.Token);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadLineAsync(timeout.Token) ?? string.Empty;
    }

    /// <summary>Containers need a moment after "running" before their program listens.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> attempt, Func<T, bool>? done = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var result = await attempt();
                if (done?.Invoke(result) ?? true)
                {
                    return result;
                }
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"still failing after 45 s: {result}");
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException && clock.Elapsed < TimeSpan.FromSeconds(45))
            {
            }
            await Task.Delay(500, Token);
        }
    }

    private static async Task<JsonElement> WaitForRowAsync(HttpClient api, string search, Func<JsonElement, bool> match)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var page = await api.GetFromJsonAsync<JsonElement>($"/api/v1/logs?limit=200&search={Uri.EscapeDataString(search)}", Token);
            if (page.GetProperty("data").EnumerateArray().Where(match).Select(r => (JsonElement?)r).FirstOrDefault() is { } found)
            {
                return found;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"no row for '{search}' within 60 s");
            await Task.Delay(250, Token);
        }
    }
}
