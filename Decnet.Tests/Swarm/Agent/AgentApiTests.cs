using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Deckies;
using Decnet.Core.Events;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Protocol;
using Decnet.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace Decnet.Tests.Swarm.Agent;

/// <summary>The worker agent as the master sees it: a real agent process behind mutual TLS.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AgentApiTests
{
    [Fact]
    public async Task Serve_lists_every_settings_error_with_its_line_and_key_and_exits_2()
    {
        await using var sandbox = new AgentSandbox();
        var ini = sandbox.Ini(AgentSandbox.FreePort(), runtime: "podman")
            .Replace($"host-uuid = {sandbox.HostUuid:D}\n", "", StringComparison.Ordinal)
            .Replace($"agent-port = {sandbox.AgentPort}", "agent-port = 99999", StringComparison.Ordinal);
        await File.WriteAllTextAsync(sandbox.ConfigPath, ini);

        // The config path comes from DECNET_CONFIG when --config is not given.
        var (exit, output) = await sandbox.RunToExitAsync(["serve"], new Dictionary<string, string> { ["DECNET_CONFIG"] = sandbox.ConfigPath });

        Assert.Equal(2, exit);
        var portLine = ini.Split('\n').ToList().FindIndex(l => l.StartsWith("agent-port", StringComparison.Ordinal)) + 1;
        Assert.Contains($"line {portLine} [agent] agent-port: must be a port number 1-65535, not '99999'", output, StringComparison.Ordinal);
        Assert.Contains("[agent] host-uuid: is required", output, StringComparison.Ordinal);
        Assert.Contains("[agent] runtime: must be auto, embedded or docker, not 'podman'", output, StringComparison.Ordinal);
        Assert.False(await Clients.IsListeningAsync("127.0.0.1", sandbox.AgentPort));
    }

    [Fact]
    public async Task Serve_without_the_worker_identity_says_which_file_is_missing_and_exits_2()
    {
        await using var sandbox = new AgentSandbox();
        await File.WriteAllTextAsync(sandbox.ConfigPath, sandbox.Ini(AgentSandbox.FreePort()));
        File.Delete(Path.Combine(sandbox.AgentDirectory, "worker.key"));

        var (exit, output) = await sandbox.RunToExitAsync(["serve", "--config", sandbox.ConfigPath]);

        Assert.Equal(2, exit);
        Assert.Contains($"{Path.Combine(sandbox.AgentDirectory, "worker.key")} does not exist", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_a_certificate_issued_for_another_worker_name_and_exits_2()
    {
        await using var sandbox = new AgentSandbox("worker-a");
        // The certificate is worker-a's, the settings say worker-b (files of two workers mixed up).
        var ini = sandbox.Ini(AgentSandbox.FreePort()).Replace("name = worker-a", "name = worker-b", StringComparison.Ordinal);
        await File.WriteAllTextAsync(sandbox.ConfigPath, ini);

        var (exit, output) = await sandbox.RunToExitAsync(["serve", "--config", sandbox.ConfigPath]);

        Assert.Equal(2, exit);
        Assert.Contains("is the certificate of 'worker-a', but", output, StringComparison.Ordinal);
        Assert.Contains("[agent] name is 'worker-b'", output, StringComparison.Ordinal);
        Assert.False(await Clients.IsListeningAsync("127.0.0.1", sandbox.AgentPort));
    }

    [Fact]
    public async Task Only_the_pinned_master_identity_is_answered_every_other_certificate_fails_the_handshake()
    {
        await using var sandbox = new AgentSandbox();
        await sandbox.StartAsync();
        using var otherCaFolder = new TempDirectory();
        using var otherCa = SwarmCertificateAuthority.LoadOrCreate(otherCaFolder.Path);
        using var otherWorker = sandbox.Ca.IssueWorker("worker-b", ["127.0.0.1"]).ToCertificate();
        // Same CA, same CN as the master, but not the pinned fingerprint (a re-issued or retired master identity).
        using var unpinnedMaster = sandbox.Ca.IssueWorker(SwarmCertificateAuthority.MasterCommonName).ToCertificate();
        using var foreignMaster = otherCa.GetOrCreateMasterIdentity().ToCertificate();
        using var selfSigned = SelfSigned(SwarmCertificateAuthority.MasterCommonName);

        using var master = sandbox.MasterClient();
        using var health = await master.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok", (await health.Content.ReadFromJsonAsync<Dictionary<string, string>>())!["status"]);

        Assert.Equal("refused", await OutcomeAsync(sandbox, otherWorker));
        Assert.Equal("refused", await OutcomeAsync(sandbox, unpinnedMaster));
        Assert.Equal("refused", await OutcomeAsync(sandbox, foreignMaster));
        Assert.Equal("refused", await OutcomeAsync(sandbox, selfSigned));
        Assert.Equal("refused", await OutcomeAsync(sandbox, null));

        // The master still gets in after the refusals (nothing was poisoned).
        using var again = await master.GetAsync("status");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Deploy_attack_status_spool_mutate_and_teardown_on_embedded_deckies()
    {
        Assert.True(ClientInstalled("curl") && ClientInstalled("sshpass"), "curl, ssh and sshpass are needed");
        await using var sandbox = new AgentSandbox();
        await sandbox.StartAsync();
        using var master = sandbox.MasterClient();
        var net = Clients.LabSubnetPrefix();
        var web = new DeckyConfig { Name = "web-01", Ip = $"{net}.10", Services = ["http"], Hostname = "WEB-01" };
        var db = new DeckyConfig { Name = "db-01", Ip = $"{net}.11", Services = ["ssh"], Hostname = "DB-01" };
        var share = new DecnetConfig { Interface = "lo", Subnet = $"{net}.0/24", Gateway = $"{net}.1", Deckies = [web, db] };

        using var deployed = await AgentSandbox.PostAsync(master, "deploy", new AgentDeployRequest(share));

        Assert.Equal(HttpStatusCode.OK, deployed.StatusCode);
        var result = await AgentSandbox.ReadAsync<AgentActionResult>(deployed);
        Assert.Equal("deployed", result.Status);
        Assert.Equal("embedded", result.Runtime!.RuntimeKind);
        Assert.Equal(["db-01:running", "web-01:running"], result.Runtime.Deckies.Select(d => $"{d.Name}:{d.State}"));

        // Real attackers: a web request and a password guess over SSH.
        var status = await StatusAsync(master);
        var httpPort = Port(status, "web-01", "http");
        var sshPort = Port(status, "db-01", "ssh");
        var (curlExit, _) = await Clients.RunAsync("curl", ["-s", "-o", "/dev/null", "--max-time", "10", $"http://{net}.10:{httpPort}/wp-login.php?probe=agent"]);
        Assert.Equal(0, curlExit);
        var (sshExit, _) = await Clients.RunAsync("sshpass", ["-p", "hunter2", "ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=10", "-p", sshPort.ToString(CultureInfo.InvariantCulture), $"oracle@{net}.11", "id"]);
        Assert.NotEqual(0, sshExit);

        // Every event lands in the spool as an RFC 5424 line naming its decky.
        await sandbox.WaitUntilAsync(() => sandbox.SpoolLines().Any(l => l.Contains("/wp-login.php", StringComparison.Ordinal))
            && sandbox.SpoolLines().Any(l => l.Contains("auth_attempt", StringComparison.Ordinal) && l.Contains("oracle", StringComparison.Ordinal)), "the spooled events");
        var results = sandbox.SpoolLines().Select(Rfc5424Parser.Parse).ToList();
        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        var parsed = results.Select(r => r.Event!).ToList();
        Assert.Contains(parsed, p => p.Decky == "web-01" && p.Service == "http" && p.EventType == "request");
        Assert.Contains(parsed, p => p.Decky == "db-01" && p.Service == "ssh" && p.EventType == "auth_attempt" && p.AttackerIp == "127.0.0.1");

        // Status carries the runtime map per decky and service.
        var db01 = status.Deckies.Single(d => d.Name == "db-01");
        Assert.Equal(("running", "ssh", "running"), (db01.State, db01.Services.Single().Name, db01.Services.Single().State));
        Assert.Equal($"{net}.11", db01.Config!.Ip);
        Assert.True(status.Deployed);

        // Mutation with an explicit service set: what listens changes.
        using var mutated = await AgentSandbox.PostAsync(master, "mutate", new AgentMutateRequest("web-01", ["redis"]));
        Assert.Equal(HttpStatusCode.OK, mutated.StatusCode);
        Assert.Equal("mutated", (await AgentSandbox.ReadAsync<AgentActionResult>(mutated)).Status);
        status = await StatusAsync(master);
        Assert.Equal(["redis"], status.Deckies.Single(d => d.Name == "web-01").Services.Select(s => s.Name));
        Assert.False(await Clients.IsListeningAsync($"{net}.10", httpPort));
        Assert.True(await Clients.IsListeningAsync($"{net}.10", Port(status, "web-01", "redis")));
        Assert.NotNull(status.Deckies.Single(d => d.Name == "web-01").Config!.LastMutated);

        // Mutation without services: a different set from the catalog.
        using var random = await AgentSandbox.PostAsync(master, "mutate", new AgentMutateRequest("db-01", null));
        Assert.Equal(HttpStatusCode.OK, random.StatusCode);
        status = await StatusAsync(master);
        var rotated = status.Deckies.Single(d => d.Name == "db-01");
        Assert.NotEqual(["ssh"], rotated.Services.Select(s => s.Name));
        Assert.InRange(rotated.Services.Count, 1, 3);
        Assert.Equal($"{net}.11", rotated.Config!.Ip);

        // Teardown of one decky leaves the other running.
        using var torn = await AgentSandbox.PostAsync(master, "teardown", new AgentTeardownRequest("db-01"));
        Assert.Equal(HttpStatusCode.OK, torn.StatusCode);
        Assert.Equal("torn_down", (await AgentSandbox.ReadAsync<AgentActionResult>(torn)).Status);
        status = await StatusAsync(master);
        Assert.Equal(["web-01"], status.Deckies.Select(d => d.Name));
        foreach (var endpoint in rotated.Services.SelectMany(s => s.Endpoints ?? []).Where(e => e.EndsWith("/tcp", StringComparison.Ordinal)))
        {
            Assert.False(await Clients.IsListeningAsync($"{net}.11", int.Parse(endpoint.Split(':')[1].Split('/')[0], CultureInfo.InvariantCulture)), endpoint);
        }

        // Errors are ProblemDetails with a detail.
        using var unknown = await AgentSandbox.PostAsync(master, "teardown", new AgentTeardownRequest("db-01"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("db-01", (await unknown.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, StringComparison.Ordinal);
        using var unknownMutation = await AgentSandbox.PostAsync(master, "mutate", new AgentMutateRequest("nope", ["ssh"]));
        Assert.Equal(HttpStatusCode.NotFound, unknownMutation.StatusCode);
        var badName = share with { Deckies = [web with { Name = "../etc" }] };
        using var invalid = await AgentSandbox.PostAsync(master, "deploy", new AgentDeployRequest(badName));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        Assert.Contains("not a valid decky name", (await invalid.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, StringComparison.Ordinal);
        using var empty = await master.PostAsync("deploy", new StringContent("""{"config":{"interface":"lo","subnet":"x","gateway":"y","deckies":[]}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        // Expect: 100-continue, so the client waits for the verdict instead of racing the server's close with 2 MiB of body.
        using var hugeRequest = new HttpRequestMessage(HttpMethod.Post, "deploy") { Content = new StringContent(new string(' ', 2 * 1024 * 1024) + "{}", System.Text.Encoding.UTF8, "application/json") };
        hugeRequest.Headers.ExpectContinue = true;
        using var huge = await master.SendAsync(hugeRequest);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Equal(["web-01"], (await StatusAsync(master)).Deckies.Select(d => d.Name));

        // Whole-host teardown.
        using var all = await AgentSandbox.PostAsync(master, "teardown", new AgentTeardownRequest(null));
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        status = await StatusAsync(master);
        Assert.False(status.Deployed);
        Assert.Empty(status.Deckies);
    }

    [Fact]
    public async Task A_worker_enrolled_with_ipvlan_forces_ipvlan_on_every_deployment()
    {
        await using var sandbox = new AgentSandbox();
        await sandbox.StartAsync(sandbox.Ini(AgentSandbox.FreePort()).Replace("ipvlan = false", "ipvlan = true", StringComparison.Ordinal));
        using var master = sandbox.MasterClient();
        var net = Clients.LabSubnetPrefix();
        var share = new DecnetConfig
        {
            Interface = "lo", Subnet = $"{net}.0/24", Gateway = $"{net}.1", Ipvlan = false,
            Deckies = [new DeckyConfig { Name = "wifi-01", Ip = $"{net}.20", Services = ["redis"], Hostname = "WIFI-01" }],
        };

        using var deployed = await AgentSandbox.PostAsync(master, "deploy", new AgentDeployRequest(share));

        Assert.Equal(HttpStatusCode.OK, deployed.StatusCode);
        await sandbox.WaitUntilAsync(() => sandbox.Output.Contains("(ipvlan)", StringComparison.Ordinal), "the ipvlan deployment log line");
    }

    [Fact]
    public async Task A_restarted_agent_brings_back_the_deckies_it_ran()
    {
        await using var sandbox = new AgentSandbox();
        await sandbox.StartAsync();
        var net = Clients.LabSubnetPrefix();
        var share = new DecnetConfig
        {
            Interface = "lo", Subnet = $"{net}.0/24", Gateway = $"{net}.1",
            Deckies =
            [
                new DeckyConfig { Name = "keep-01", Ip = $"{net}.30", Services = ["redis"], Hostname = "KEEP-01" },
                new DeckyConfig { Name = "gone-01", Ip = $"{net}.31", Services = ["redis"], Hostname = "GONE-01" },
            ],
        };
        using (var master = sandbox.MasterClient())
        {
            using var deployed = await AgentSandbox.PostAsync(master, "deploy", new AgentDeployRequest(share));
            Assert.Equal(HttpStatusCode.OK, deployed.StatusCode);
            using var mutated = await AgentSandbox.PostAsync(master, "mutate", new AgentMutateRequest("keep-01", ["http"]));
            Assert.Equal(HttpStatusCode.OK, mutated.StatusCode);
            using var torn = await AgentSandbox.PostAsync(master, "teardown", new AgentTeardownRequest("gone-01"));
            Assert.Equal(HttpStatusCode.OK, torn.StatusCode);
        }

        await sandbox.KillAsync();
        Assert.False(await Clients.IsListeningAsync($"{net}.30", 80));
        await sandbox.StartAsync(File.ReadAllText(sandbox.ConfigPath));

        using var restarted = sandbox.MasterClient();
        AgentStatus status = await StatusAsync(restarted);
        for (var i = 0; i < 100 && status.Deckies.Count == 0; i++)
        {
            await Task.Delay(100);
            status = await StatusAsync(restarted);
        }
        var decky = Assert.Single(status.Deckies);
        Assert.Equal(("keep-01", "running", "http"), (decky.Name, decky.State, decky.Services.Single().Name));
        Assert.True(await Clients.IsListeningAsync($"{net}.30", Port(status, "keep-01", "http")));
    }

    private static async Task<AgentStatus> StatusAsync(HttpClient master)
    {
        using var response = await master.GetAsync("status");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await AgentSandbox.ReadAsync<AgentStatus>(response);
    }

    private static int Port(AgentStatus status, string decky, string service)
    {
        var endpoint = status.Deckies.Single(d => d.Name == decky).Services.Single(s => s.Name == service).Endpoints!.First();
        return int.Parse(endpoint.Split(':')[1].Split('/')[0], CultureInfo.InvariantCulture);
    }

    private static async Task<string> OutcomeAsync(AgentSandbox sandbox, X509Certificate2? certificate)
    {
        using var client = sandbox.ClientWith(certificate);
        try
        {
            using var response = await client.GetAsync("status");
            return ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException)
        {
            return "refused";
        }
    }

    private static X509Certificate2 SelfSigned(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(SwarmTrust.ClientAuthOid), new Oid(SwarmTrust.ServerAuthOid)], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    private static bool ClientInstalled(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, name)));
}
