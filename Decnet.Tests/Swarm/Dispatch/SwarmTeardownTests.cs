using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Notifications;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Dispatch;

[Trait("Category", TestCategories.Integration)]
public sealed class SwarmTeardownTests : IAsyncLifetime
{
    private SwarmBed _bed = null!;
    private TlsAgentServer _agent = null!;
    private SwarmHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        _bed = await SwarmBed.StartAsync();
        _agent = await _bed.StartAgentAsync("worker-a");
        _host = await _bed.AddHostAsync(_agent.Host("worker-a"));
        Assert.True((await _bed.Get<DeckyFleet>().DeployAsync("chief", SwarmBed.Ini("d1", "d2", "d3"), CancellationToken.None)).Succeeded);
    }

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    private ShardTeardownQueue Queue => _bed.Get<ShardTeardownQueue>();

    [Fact]
    public async Task A_decky_teardown_is_accepted_at_once_shows_tearing_down_then_the_shard_is_gone()
    {
        _agent.TeardownGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var published = new List<string>();
        using var _ = _bed.Get<NotificationHub>().Subscribe<SwarmChanged>(c => { lock (published) { published.Add(c.Reason); } return Task.CompletedTask; });

        var request = await Queue.EnqueueAsync("chief", _host.Id, "d2", CancellationToken.None);

        // Answered while the worker still holds its answer: the state is already visible.
        Assert.Equal(TeardownRequestStatus.Accepted, request.Status);
        Assert.Equal(["d2"], request.Deckies);
        var during = (await _bed.ShardsAsync()).ToDictionary(s => s.DeckyName);
        Assert.Equal(DeckyShardState.TearingDown, during["d2"].State);
        Assert.Equal(DeckyShardState.Running, during["d1"].State);
        Assert.Equal(1, Queue.InFlight);

        _agent.TeardownGate.SetResult();
        await Queue.DrainAsync();

        Assert.Equal(["d1", "d3"], (await _bed.ShardsAsync()).Select(s => s.DeckyName));
        Assert.Equal(["d2"], _agent.Teardowns);
        Assert.DoesNotContain("d2", _agent.Running);
        Assert.Equal(0, Queue.InFlight);
        lock (published)
        {
            Assert.Contains("tearing_down", published);
        }
        await WaitForAsync(() => { lock (published) { return published.Contains("torn_down"); } });
    }

    [Fact]
    public async Task Teardown_all_clears_the_worker_and_keeps_it_enrolled()
    {
        var request = await Queue.EnqueueAsync("chief", _host.Id, null, CancellationToken.None);
        Assert.Equal(3, request.Deckies.Count);

        await Queue.DrainAsync();

        Assert.Empty(await _bed.ShardsAsync());
        Assert.Equal([null], _agent.Teardowns);
        Assert.Empty(_agent.Running);
        Assert.Equal(SwarmHostStatus.Active, Assert.Single(await _bed.HostsAsync()).Status);
    }

    [Fact]
    public async Task A_failed_teardown_marks_the_shards_teardown_failed_with_the_error_and_raises_nothing()
    {
        _agent.FailTeardownWith = "compose down timed out";

        var request = await Queue.EnqueueAsync("chief", _host.Id, null, CancellationToken.None);
        await Queue.DrainAsync();

        Assert.Equal(TeardownRequestStatus.Accepted, request.Status);
        var shards = await _bed.ShardsAsync();
        Assert.Equal(3, shards.Count);
        Assert.All(shards, s =>
        {
            Assert.Equal(DeckyShardState.TeardownFailed, s.State);
            Assert.Contains("compose down timed out", s.LastError, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Several_teardowns_run_at_once()
    {
        _agent.TeardownGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await Queue.EnqueueAsync("chief", _host.Id, "d1", CancellationToken.None);
        await Queue.EnqueueAsync("chief", _host.Id, "d3", CancellationToken.None);

        await WaitForAsync(() => _agent.Teardowns.Count == 2);
        Assert.Equal(2, Queue.InFlight);
        Assert.Equal(2, (await _bed.ShardsAsync()).Count(s => s.State == DeckyShardState.TearingDown));
        _agent.TeardownGate.SetResult();
        await Queue.DrainAsync();
        Assert.Equal(["d2"], (await _bed.ShardsAsync()).Select(s => s.DeckyName));
    }

    [Fact]
    public async Task Unknown_hosts_and_deckies_are_refused_before_anything_changes()
    {
        Assert.Equal(TeardownRequestStatus.HostNotFound, (await Queue.EnqueueAsync("chief", Guid.NewGuid(), null, CancellationToken.None)).Status);
        Assert.Equal(TeardownRequestStatus.DeckyNotFound, (await Queue.EnqueueAsync("chief", _host.Id, "nope", CancellationToken.None)).Status);

        Assert.All(await _bed.ShardsAsync(), s => Assert.Equal(DeckyShardState.Running, s.State));
        Assert.Empty(_agent.Teardowns);
    }

    internal static async Task WaitForAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}
