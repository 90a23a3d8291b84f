using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Dispatch;

/// <summary>Deploys through the real fleet service to workers over real mutual TLS.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SwarmDispatchTests : IAsyncLifetime
{
    private SwarmBed _bed = null!;

    public async ValueTask InitializeAsync() => _bed = await SwarmBed.StartAsync();

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    private DeckyFleet Fleet => _bed.Get<DeckyFleet>();

    [Fact]
    public async Task A_master_with_two_workers_shards_four_deckies_two_per_worker_with_snapshots()
    {
        var a = await _bed.StartAgentAsync("worker-a");
        var b = await _bed.StartAgentAsync("worker-b");
        var hostA = await _bed.AddHostAsync(a.Host("worker-a"));
        var hostB = await _bed.AddHostAsync(b.Host("worker-b", SwarmHostStatus.Enrolled));
        var ini = SwarmBed.Ini("d1", "d2", "d3", "d4");

        var result = await Fleet.DeployAsync("chief", ini, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal("swarm", result.Mode);
        Assert.Contains("across 2 host(s)", result.Message, StringComparison.Ordinal);
        Assert.Equal(2, a.Deploys.Single().Config.Deckies.Count);
        Assert.Equal(2, b.Deploys.Single().Config.Deckies.Count);
        Assert.Equal(DeploymentMode.Swarm, a.Deploys.Single().Config.Mode);
        Assert.Equal(["d1", "d2", "d3", "d4"], a.Running.Concat(b.Running).Order(StringComparer.Ordinal));

        var shards = await _bed.ShardsAsync();
        Assert.Equal(4, shards.Count);
        Assert.Equal(2, shards.Count(s => s.HostId == hostA.Id));
        Assert.Equal(2, shards.Count(s => s.HostId == hostB.Id));
        Assert.All(shards, s => Assert.Equal(DeckyShardState.Running, s.State));
        var d3 = shards.Single(s => s.DeckyName == "d3");
        var snapshot = DeckyConfigJson.DeserializeDecky(d3.DeckyConfig!);
        Assert.Equal(d3.DeckyIp, snapshot.Ip);
        Assert.Equal(["http", "redis"], snapshot.Services.Order(StringComparer.Ordinal));
        Assert.False(string.IsNullOrEmpty(snapshot.Hostname));
        Assert.Equal(d3.HostId, snapshot.HostUuid);
        // The enrolled worker answered: it is active now. Nothing was deployed locally: the fleet lists
        // the four deckies on their workers.
        Assert.All(await _bed.HostsAsync(), h => Assert.Equal(SwarmHostStatus.Active, h.Status));
        Assert.Null(await _bed.Get<DeploymentStore>().LoadAsync(CancellationToken.None));
        var fleet = await Fleet.ListAsync(CancellationToken.None);
        Assert.Equal(["d1", "d2", "d3", "d4"], fleet.Select(d => d.Config.Name).Order(StringComparer.Ordinal));
        Assert.All(fleet, d => Assert.Equal((DeckyShardState.Running, d.Config.HostUuid), (d.Placement!.State, (Guid?)d.Placement.HostId)));
        Assert.Equal(2, fleet.Count(d => d.Placement!.HostName == "worker-a"));
    }

    [Fact]
    public async Task A_worker_on_wifi_always_gets_ipvlan_in_its_share()
    {
        var agent = await _bed.StartAgentAsync("worker-wifi");
        await _bed.AddHostAsync(agent.Host("worker-wifi", useIpvlan: true));

        Assert.True((await Fleet.DeployAsync("chief", SwarmBed.Ini("d1"), CancellationToken.None)).Succeeded);

        Assert.True(agent.Deploys.Single().Config.Ipvlan);
    }

    [Fact]
    public async Task A_redeploy_moves_orphans_off_a_dead_worker_and_keeps_deckies_where_they_were()
    {
        var a = await _bed.StartAgentAsync("worker-a");
        var b = await _bed.StartAgentAsync("worker-b");
        var hostA = await _bed.AddHostAsync(a.Host("worker-a"));
        var hostB = await _bed.AddHostAsync(b.Host("worker-b"));
        var ini = SwarmBed.Ini("d1", "d2", "d3", "d4");
        Assert.True((await Fleet.DeployAsync("chief", ini, CancellationToken.None)).Succeeded);
        var before = (await _bed.ShardsAsync()).ToDictionary(s => s.DeckyName, s => s.HostId);
        await MarkAsync(hostB.Id, SwarmHostStatus.Unreachable);

        Assert.True((await Fleet.DeployAsync("chief", ini, CancellationToken.None)).Succeeded);

        var after = await _bed.ShardsAsync();
        Assert.All(after, s => Assert.Equal(hostA.Id, s.HostId));
        Assert.Equal(4, a.Deploys.Last().Config.Deckies.Count);
        Assert.Single(b.Deploys);
        Assert.Equal(2, before.Values.Count(h => h == hostA.Id));
    }

    [Fact]
    public async Task A_failed_deploy_is_settled_per_decky_by_the_workers_status()
    {
        var agent = await _bed.StartAgentAsync("worker-a");
        await _bed.AddHostAsync(agent.Host("worker-a"));
        agent.FailDeployWith = "service http of d2 failed to start: " + new string('x', 2000);
        agent.StartedDespiteFailure.Add("d1");

        var result = await Fleet.DeployAsync("chief", SwarmBed.Ini("d1", "d2"), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Contains("d2 failed to start", result.Message, StringComparison.Ordinal);
        var shards = (await _bed.ShardsAsync()).ToDictionary(s => s.DeckyName);
        Assert.Equal(DeckyShardState.Running, shards["d1"].State);
        Assert.Null(shards["d1"].LastError);
        Assert.Equal(DeckyShardState.Failed, shards["d2"].State);
        Assert.Contains("agent answered 500: service http of d2 failed to start", shards["d2"].LastError, StringComparison.Ordinal);
        Assert.Equal(SwarmStore.MaxErrorLength, shards["d2"].LastError!.Length);
        Assert.NotNull(shards["d2"].DeckyConfig);
    }

    [Fact]
    public async Task When_the_status_probe_fails_too_the_whole_share_is_failed()
    {
        var agent = await _bed.StartAgentAsync("worker-a");
        await _bed.AddHostAsync(agent.Host("worker-a"));
        agent.FailDeployWith = "docker daemon is not running";
        agent.StartedDespiteFailure.Add("d1");
        agent.FailStatus = true;

        var result = await Fleet.DeployAsync("chief", SwarmBed.Ini("d1", "d2"), CancellationToken.None);

        Assert.Equal(FleetOperationStatus.Failed, result.Status);
        var shards = await _bed.ShardsAsync();
        Assert.Equal(2, shards.Count);
        Assert.All(shards, s =>
        {
            Assert.Equal(DeckyShardState.Failed, s.State);
            Assert.Contains("docker daemon is not running", s.LastError, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_worker_down_and_one_up_is_a_partial_success()
    {
        var up = await _bed.StartAgentAsync("worker-up");
        await _bed.AddHostAsync(up.Host("worker-up"));
        var down = await _bed.AddHostAsync(TlsAgentServer.DeadHost("worker-down"));

        var result = await Fleet.DeployAsync("chief", SwarmBed.Ini("d1", "d2"), CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Contains("Failed on worker-down", result.Message, StringComparison.Ordinal);
        var shards = await _bed.ShardsAsync();
        Assert.Equal(DeckyShardState.Running, shards.Single(s => s.HostId != down.Id).State);
        var failed = shards.Single(s => s.HostId == down.Id);
        Assert.Equal(DeckyShardState.Failed, failed.State);
        Assert.Contains("could not connect", failed.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_worker_presenting_another_certificate_than_the_enrolled_one_gets_nothing()
    {
        var impostor = await _bed.StartAgentAsync("impostor");
        var enrolled = await _bed.StartAgentAsync("worker-a");
        // The row pins worker-a's certificate but the address answers with the impostor's.
        await _bed.AddHostAsync(enrolled.Host("worker-a"));
        await SetPortAsync((await _bed.HostsAsync()).Single().Id, impostor.Port);

        var result = await Fleet.DeployAsync("chief", SwarmBed.Ini("d1"), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Empty(impostor.Deploys);
        var shard = Assert.Single(await _bed.ShardsAsync());
        Assert.Equal(DeckyShardState.Failed, shard.State);
        Assert.Contains("TLS", shard.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_live_worker_the_deploy_stays_local()
    {
        var agent = await _bed.StartAgentAsync("worker-a");
        await _bed.AddHostAsync(agent.Host("worker-a", SwarmHostStatus.Unreachable));
        var mode = await _bed.Get<SwarmDeploymentMode>().GetAsync(CancellationToken.None);
        Assert.False(mode.Sharded);
        Assert.Contains("will deploy locally", mode.Banner("embedded"), StringComparison.Ordinal);

        var result = await Fleet.DeployAsync("chief", SwarmBed.Ini("d1"), CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal("unihost", result.Mode);
        Assert.Empty(agent.Deploys);
        Assert.Empty(await _bed.ShardsAsync());
        Assert.Single(await Fleet.ListAsync(CancellationToken.None));
        await Fleet.TeardownAsync("chief", null, CancellationToken.None);
    }

    private async Task MarkAsync(Guid hostId, string status)
    {
        await using var db = await _bed.Get<Microsoft.EntityFrameworkCore.IDbContextFactory<Core.Storage.DecnetDbContext>>().CreateDbContextAsync();
        var host = await db.SwarmHosts.FindAsync(hostId);
        host!.Status = status;
        await db.SaveChangesAsync();
    }

    private async Task SetPortAsync(Guid hostId, int port)
    {
        await using var db = await _bed.Get<Microsoft.EntityFrameworkCore.IDbContextFactory<Core.Storage.DecnetDbContext>>().CreateDbContextAsync();
        var host = await db.SwarmHosts.FindAsync(hostId);
        host!.AgentPort = port;
        await db.SaveChangesAsync();
    }
}
