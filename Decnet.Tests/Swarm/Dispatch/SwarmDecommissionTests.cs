using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Dispatch;

[Trait("Category", TestCategories.Integration)]
public sealed class SwarmDecommissionTests : IAsyncLifetime
{
    private SwarmBed _bed = null!;

    public async ValueTask InitializeAsync() => _bed = await SwarmBed.StartAsync();

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task A_live_worker_is_asked_to_self_destruct_then_forgotten_and_its_fingerprints_tombstoned()
    {
        var agent = await _bed.StartAgentAsync("worker-a");
        var other = await _bed.StartAgentAsync("worker-b");
        var host = await _bed.AddHostAsync(agent.Host("worker-a"));
        await _bed.AddHostAsync(other.Host("worker-b"));
        Assert.True((await _bed.Get<DeckyFleet>().DeployAsync("chief", SwarmBed.Ini("d1", "d2"), CancellationToken.None)).Succeeded);

        var result = await _bed.Get<SwarmDecommissioner>().DecommissionAsync("chief", host.Id, CancellationToken.None);

        Assert.True(result.Found);
        Assert.True(result.SelfDestructScheduled);
        Assert.Equal(1, agent.SelfDestructs);
        Assert.Equal(["worker-b"], (await _bed.HostsAsync()).Select(h => h.Name));
        Assert.All(await _bed.ShardsAsync(), s => Assert.NotEqual(host.Id, s.HostId));
        var revoked = await _bed.RevokedAsync();
        Assert.Contains(revoked, r => r.Fingerprint == host.ClientCertFingerprint && r.HostName == "worker-a");
        Assert.Contains(revoked, r => r.Fingerprint == host.UpdaterCertFingerprint);
        Assert.Equal(2, revoked.Count);
    }

    [Fact]
    public async Task A_dead_worker_does_not_block_its_decommission()
    {
        var host = await _bed.AddHostAsync(TlsAgentServer.DeadHost("worker-dead", SwarmHostStatus.Unreachable));
        await _bed.AddShardAsync(new DeckyShard { DeckyName = "ghost", HostId = host.Id, State = DeckyShardState.Running, DeckyIp = "10.0.0.5" });

        var result = await _bed.Get<SwarmDecommissioner>().DecommissionAsync("chief", host.Id, CancellationToken.None);

        Assert.True(result.Found);
        Assert.False(result.SelfDestructScheduled);
        Assert.Contains("could not be reached", result.Message, StringComparison.Ordinal);
        Assert.Empty(await _bed.HostsAsync());
        Assert.Empty(await _bed.ShardsAsync());
        Assert.Equal(
            new[] { host.ClientCertFingerprint, host.UpdaterCertFingerprint! }.Order(StringComparer.Ordinal),
            (await _bed.RevokedAsync()).Select(r => r.Fingerprint).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_unknown_host_is_not_found()
    {
        var result = await _bed.Get<SwarmDecommissioner>().DecommissionAsync("chief", Guid.NewGuid(), CancellationToken.None);
        Assert.False(result.Found);
        Assert.Empty(await _bed.RevokedAsync());
    }
}
