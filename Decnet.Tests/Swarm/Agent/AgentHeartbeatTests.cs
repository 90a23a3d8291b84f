using System.Net;
using System.Text.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm.Protocol;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Agent;

[Trait("Category", TestCategories.Integration)]
public sealed class AgentHeartbeatTests
{
    [Fact]
    public async Task Refused_heartbeats_are_logged_and_retried_and_the_loop_keeps_sending_the_status()
    {
        await using var sandbox = new AgentSandbox();
        await using var master = await HeartbeatRecorder.StartAsync(sandbox, 403, 404);
        await sandbox.StartAsync(sandbox.Ini(master.Port, heartbeatSeconds: 1));
        using var client = sandbox.MasterClient();
        var net = Clients.LabSubnetPrefix();
        var share = new DecnetConfig
        {
            Interface = "lo", Subnet = $"{net}.0/24", Gateway = $"{net}.1",
            Deckies = [new DeckyConfig { Name = "hb-01", Ip = $"{net}.40", Services = ["redis"], Hostname = "HB-01" }],
        };
        using var deployed = await AgentSandbox.PostAsync(client, "deploy", new AgentDeployRequest(share));
        Assert.Equal(HttpStatusCode.OK, deployed.StatusCode);

        // Two accepted beats carrying the decky, after the refusals: the loop went on.
        await sandbox.WaitUntilAsync(() => master.Received.Count(r => r.Status == 204 && r.Body.Contains("hb-01", StringComparison.Ordinal)) >= 2,
            "two accepted heartbeats with the deployed decky", seconds: 60);

        var received = master.Received.ToList();
        Assert.Equal([403, 404], received.Take(2).Select(r => r.Status));
        Assert.All(received, r => Assert.Equal(sandbox.Worker.Fingerprint, r.ClientFingerprint));
        Assert.Contains("Heartbeat refused by the master: 403", sandbox.Output, StringComparison.Ordinal);
        Assert.Contains("Heartbeat refused by the master: 404", sandbox.Output, StringComparison.Ordinal);

        var beat = JsonSerializer.Deserialize<HeartbeatRequest>(received.Last(r => r.Status == 204).Body, DeckyConfigJson.Options)!;
        Assert.Equal(sandbox.HostUuid, beat.HostUuid);
        Assert.False(string.IsNullOrWhiteSpace(beat.AgentVersion));
        Assert.Equal("embedded", beat.Status.RuntimeKind);
        Assert.True(beat.Status.Deployed);
        var decky = Assert.Single(beat.Status.Deckies);
        Assert.Equal(("hb-01", "running", $"{net}.40"), (decky.Name, decky.State, decky.Config!.Ip));
        Assert.Equal(("redis", "running"), (decky.Services.Single().Name, decky.Services.Single().State));
    }

    [Fact]
    public async Task An_unreachable_master_is_logged_and_the_agent_keeps_serving()
    {
        await using var sandbox = new AgentSandbox();
        await sandbox.StartAsync(sandbox.Ini(AgentSandbox.FreePort(), heartbeatSeconds: 1));

        await sandbox.WaitUntilAsync(() => sandbox.Output.Contains("Heartbeat to https://127.0.0.1:", StringComparison.Ordinal)
            && sandbox.Output.Contains("failed", StringComparison.Ordinal), "a logged heartbeat failure");

        using var client = sandbox.MasterClient();
        using var health = await client.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.False(sandbox.Process!.HasExited);
    }
}
