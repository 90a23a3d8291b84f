using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Pki;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Controller;

/// <summary>
/// The controller's own endpoint: the CLI enrolls with the master's identity, routes exist only on
/// the controller port, and the dashboard is not reachable through it.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SwarmControllerEndpointTests : IAsyncLifetime
{
    private SwarmMaster _master = null!;

    public async ValueTask InitializeAsync() => _master = await SwarmMaster.StartAsync();

    public async ValueTask DisposeAsync() => await _master.DisposeAsync();

    private HttpClient MasterCli() => _master.WorkerClient(_master.Credentials.MasterIdentity);

    [Fact]
    public async Task The_cli_enrolls_a_worker_and_gets_a_bundle_that_authenticates_heartbeats()
    {
        using var cli = MasterCli();

        using var response = await cli.PostAsJsonAsync("/swarm/enroll", new { name = "dmz-7", address = "127.0.0.1", agent_port = 8765, sans = new[] { "dmz-7.lab" }, notes = "rack 3", issue_updater_bundle = true });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        var hostId = root.GetProperty("host_uuid").GetGuid();
        Assert.Equal("dmz-7", root.GetProperty("name").GetString());
        using var worker = X509Certificate2.CreateFromPem(root.GetProperty("worker_cert_pem").GetString(), root.GetProperty("worker_key_pem").GetString());
        Assert.Equal(root.GetProperty("fingerprint").GetString(), CertificateFingerprint.Of(worker));
        Assert.True(_master.Credentials.Trust.HasIssued(worker, PeerUsage.Client));
        Assert.Contains("dmz-7.lab", worker.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.Equal(_master.Credentials.Authority.CertificatePem.Trim(), root.GetProperty("ca_cert_pem").GetString()!.Trim());
        using var updater = X509Certificate2.CreateFromPem(root.GetProperty("updater").GetProperty("updater_cert_pem").GetString());
        Assert.Equal("updater@dmz-7", updater.GetNameInfo(X509NameType.SimpleName, false));

        var stored = await _master.Overview.HostAsync(hostId, CancellationToken.None);
        Assert.Equal(("127.0.0.1", SwarmHostStatus.Enrolled, "rack 3"), (stored!.Address, stored.Status, stored.Notes));

        // The returned bundle is what the worker then heartbeats with.
        var identity = new IssuedIdentity("dmz-7", root.GetProperty("worker_cert_pem").GetString()!, root.GetProperty("worker_key_pem").GetString()!, root.GetProperty("fingerprint").GetString()!);
        using var workerClient = _master.WorkerClient(identity);
        using var heartbeat = await SwarmMaster.SendHeartbeatAsync(workerClient, SwarmMaster.Heartbeat(hostId));
        Assert.Equal(HttpStatusCode.NoContent, heartbeat.StatusCode);
    }

    [Fact]
    public async Task A_name_taken_by_a_connected_worker_is_a_409()
    {
        using var cli = MasterCli();
        using var first = await cli.PostAsJsonAsync("/swarm/enroll", new { name = "twin", address = "127.0.0.1" });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        using var body = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        var root = body.RootElement;
        var identity = new IssuedIdentity("twin", root.GetProperty("worker_cert_pem").GetString()!, root.GetProperty("worker_key_pem").GetString()!, root.GetProperty("fingerprint").GetString()!);
        using (var workerClient = _master.WorkerClient(identity))
        using (var heartbeat = await SwarmMaster.SendHeartbeatAsync(workerClient, SwarmMaster.Heartbeat(root.GetProperty("host_uuid").GetGuid())))
        {
            Assert.Equal(HttpStatusCode.NoContent, heartbeat.StatusCode);
        }

        // A name whose worker never connected may be enrolled again (EnrollmentTokens tests); once it has, not.
        using var second = await cli.PostAsJsonAsync("/swarm/enroll", new { name = "twin", address = "10.0.0.6" });
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
    }

    [Fact]
    public async Task Enrollment_and_listings_refuse_a_worker_certificate()
    {
        var worker = await _master.EnrollAsync("nosy");
        using var client = _master.WorkerClient(worker.Worker);

        using var enroll = await client.PostAsJsonAsync("/swarm/enroll", new { name = "sneaky", address = "10.0.0.9" });
        using var hosts = await client.GetAsync("/swarm/hosts");

        Assert.Equal(HttpStatusCode.Forbidden, enroll.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, hosts.StatusCode);
        Assert.False(await _master.Overview.NameExistsAsync("sneaky", CancellationToken.None));
    }

    [Fact]
    public async Task The_cli_lists_hosts_reads_one_and_sees_swarm_health()
    {
        var worker = await _master.EnrollAsync("lister");
        using var cli = MasterCli();

        var hosts = await cli.GetFromJsonAsync<JsonElement>("/swarm/hosts?host_status=enrolled");
        var one = await cli.GetFromJsonAsync<JsonElement>($"/swarm/hosts/{worker.Host.Id}");
        var health = await cli.GetFromJsonAsync<JsonElement>("/swarm/health");
        var liveness = await cli.GetFromJsonAsync<JsonElement>("/health");
        using var missing = await cli.GetAsync($"/swarm/hosts/{Guid.NewGuid()}");

        Assert.Contains(hosts.EnumerateArray(), h => h.GetProperty("name").GetString() == "lister");
        Assert.Equal(worker.Worker.Fingerprint, one.GetProperty("client_cert_fingerprint").GetString());
        Assert.True(health.GetProperty("hosts").GetInt32() >= 1);
        Assert.Equal("swarm-controller", liveness.GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task The_dashboard_port_never_serves_controller_routes()
    {
        var worker = await _master.EnrollAsync("wrong-door");
        using var ui = new HttpClient { BaseAddress = _master.DashboardUri };

        using var heartbeat = await ui.PostAsync("/swarm/heartbeat", JsonContent.Create(SwarmMaster.Heartbeat(worker.Host.Id)));
        using var enroll = await ui.PostAsJsonAsync("/swarm/enroll", new { name = "via-ui", address = "10.0.0.1" });
        using var hosts = await ui.GetAsync("/swarm/hosts");
        using var health = await ui.GetAsync("/health");

        Assert.NotEqual(HttpStatusCode.NoContent, heartbeat.StatusCode);
        Assert.NotEqual(HttpStatusCode.Created, enroll.StatusCode);
        Assert.DoesNotContain("client_cert_fingerprint", await hosts.Content.ReadAsStringAsync());
        Assert.DoesNotContain("swarm-controller", await health.Content.ReadAsStringAsync());
        Assert.False(await _master.Overview.NameExistsAsync("via-ui", CancellationToken.None));
        Assert.Null((await _master.Overview.HostAsync(worker.Host.Id, CancellationToken.None))!.LastHeartbeat);
    }

    [Fact]
    public async Task The_controller_port_never_serves_the_dashboard_or_its_api()
    {
        using var cli = MasterCli();

        using var page = await cli.GetAsync("/account/login");
        using var api = await cli.GetAsync("/api/v1/health");
        using var alive = await cli.GetAsync("/alive");

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, alive.StatusCode);
    }
}
