using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Controller;

/// <summary>The master CLI's operations on the controller: deckies, deploy validation, teardown, check, decommission.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SwarmControllerOperationsTests : IAsyncLifetime
{
    private SwarmMaster _master = null!;

    public async ValueTask InitializeAsync() => _master = await SwarmMaster.StartAsync();

    public async ValueTask DisposeAsync() => await _master.DisposeAsync();

    [Fact]
    public async Task The_cli_lists_checks_and_decommissions_while_workers_are_refused()
    {
        using var cli = _master.WorkerClient(_master.Credentials.MasterIdentity);
        using var enrolled = await cli.PostAsJsonAsync("/swarm/enroll", new { name = "edge-9", address = "127.0.0.1", agent_port = ClosedPort() });
        var body = JsonDocument.Parse(await enrolled.Content.ReadAsStringAsync()).RootElement;
        var hostId = body.GetProperty("host_uuid").GetGuid();
        var worker = await _master.EnrollAsync("edge-10");
        using var workerClient = _master.WorkerClient(worker.Worker);
        var identity = new Decnet.Core.Swarm.Pki.IssuedIdentity("edge-9", body.GetProperty("worker_cert_pem").GetString()!, body.GetProperty("worker_key_pem").GetString()!, body.GetProperty("fingerprint").GetString()!);
        using var edge9 = _master.WorkerClient(identity);
        await _master.PlaceAsync((hostId, "web-1", "127.0.0.9"));
        using (var beat = await SwarmMaster.SendHeartbeatAsync(edge9, SwarmMaster.Heartbeat(hostId, ("web-1", "127.0.0.9", true))))
        {
            Assert.Equal(HttpStatusCode.NoContent, beat.StatusCode);
        }

        var deckies = JsonDocument.Parse(await cli.GetStringAsync("/swarm/deckies?state=running")).RootElement;
        Assert.Equal("web-1", Assert.Single(deckies.EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await cli.GetAsync("/swarm/deckies?state=exploded")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await workerClient.GetAsync("/swarm/deckies")).StatusCode);

        var decky = new DeckyConfig { Name = "web-2", Ip = "127.0.0.10", Services = ["http"], Hostname = "web-2" };
        var unihost = new DecnetConfig { Interface = "lo", Subnet = "127.0.0.0/24", Gateway = "127.0.0.1", Deckies = [decky] };
        using var notSwarm = await cli.PostAsJsonAsync("/swarm/deploy", new { config = unihost }, DeckyConfigJson.Options);
        Assert.Equal(HttpStatusCode.BadRequest, notSwarm.StatusCode);
        var unknownHost = unihost with { Mode = DeploymentMode.Swarm, Deckies = [decky with { HostUuid = Guid.NewGuid() }] };
        using var orphan = await cli.PostAsJsonAsync("/swarm/deploy", new { config = unknownHost }, DeckyConfigJson.Options);
        Assert.Equal(HttpStatusCode.NotFound, orphan.StatusCode);
        using var noHost = await cli.PostAsJsonAsync("/swarm/teardown", new { host_uuid = Guid.NewGuid(), decky_id = (string?)null });
        Assert.Equal(HttpStatusCode.NotFound, noHost.StatusCode);

        // Nothing answers on the worker's agent port: the check says so and marks it unreachable.
        using var check = await cli.PostAsync("/swarm/check", null);
        Assert.Equal(HttpStatusCode.OK, check.StatusCode);
        var result = JsonDocument.Parse(await check.Content.ReadAsStringAsync()).RootElement.GetProperty("results").EnumerateArray()
            .Single(r => r.GetProperty("host_uuid").GetGuid() == hostId);
        Assert.False(result.GetProperty("reachable").GetBoolean());
        Assert.Equal(SwarmHostStatus.Unreachable, (await _master.Overview.HostAsync(hostId, CancellationToken.None))!.Status);

        // Decommission: a dead worker does not block it, and its certificate never heartbeats again.
        using var gone = await cli.DeleteAsync($"/swarm/hosts/{hostId}");
        Assert.Equal(HttpStatusCode.NoContent, gone.StatusCode);
        Assert.Null(await _master.Overview.HostAsync(hostId, CancellationToken.None));
        using var refused = await SwarmMaster.SendHeartbeatAsync(edge9, SwarmMaster.Heartbeat(hostId));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await cli.DeleteAsync($"/swarm/hosts/{hostId}")).StatusCode);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
