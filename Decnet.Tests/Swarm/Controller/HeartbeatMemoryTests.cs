using System.Net;
using System.Net.Http.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Storage;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Protocol;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Swarm.Controller;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Swarm.Controller;

/// <summary>
/// A heartbeat that reports what the previous one did is answered from the master's memory and its time
/// written later in a batch; every write that changes a host or its shards makes the next heartbeat see
/// it. Real mutual TLS heartbeats against the real master; time is a FakeTimeProvider so the batch
/// writer only runs when a test moves the clock.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class HeartbeatMemoryTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private SwarmMaster _master = null!;
    private EnrolledWorker _alpha = null!;
    private EnrolledWorker _bravo = null!;

    public async ValueTask InitializeAsync()
    {
        _master = await SwarmMaster.StartAsync(_time, new Dictionary<string, string?> { ["Decnet:Swarm:HeartbeatSeconds"] = "30", ["Decnet:Swarm:LastSeenFlushSeconds"] = "5" });
        _alpha = await _master.EnrollAsync("alpha");
        _bravo = await _master.EnrollAsync("bravo");
        await _master.PlaceAsync((_alpha.Host.Id, "alpha-web", "10.9.0.10"), (_bravo.Host.Id, "bravo-web", "10.9.0.20"));
    }

    public async ValueTask DisposeAsync() => await _master.DisposeAsync();

    [Fact]
    public async Task An_unchanged_heartbeat_is_written_by_the_batch_but_every_read_sees_it_at_once()
    {
        using var client = _master.WorkerClient(_alpha.Worker);
        var first = _time.GetUtcNow().UtcDateTime;
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));
        _time.Advance(TimeSpan.FromSeconds(3));
        var second = _time.GetUtcNow().UtcDateTime;
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));

        // The row still holds the first heartbeat: the second changed nothing but its time.
        var (stored, storedShard) = await StoredAsync(_alpha.Host.Id, "alpha-web");
        Assert.Equal(first, stored.LastHeartbeat);
        Assert.Equal(first, storedShard.LastSeen);
        // Pages and APIs read the second one.
        var host = await _master.Overview.HostAsync(_alpha.Host.Id, CancellationToken.None, withShards: true);
        Assert.Equal(second, host!.LastHeartbeat);
        Assert.Equal(second, host.Shards.Single().LastSeen);
        Assert.Equal(second, (await _master.Overview.HostsAsync(CancellationToken.None)).Single(h => h.Id == _alpha.Host.Id).LastHeartbeat);
        Assert.Equal(second, (await _master.Overview.DeckiesAsync(_alpha.Host.Id, null, CancellationToken.None)).Single().LastSeen);

        Assert.Equal(1, await _master.Store.FlushLastSeenAsync(CancellationToken.None));
        (stored, storedShard) = await StoredAsync(_alpha.Host.Id, "alpha-web");
        Assert.Equal(second, stored.LastHeartbeat);
        Assert.Equal(second, storedShard.LastSeen);
        Assert.Equal(0, await _master.Store.FlushLastSeenAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_batch_writer_writes_pending_times_when_its_interval_passes()
    {
        using var client = _master.WorkerClient(_alpha.Worker);
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = _time.GetUtcNow().UtcDateTime;
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));

        // Moving past the flush interval fires the hosted writer; it runs on its own, so poll the row.
        _time.Advance(TimeSpan.FromSeconds(5));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await StoredAsync(_alpha.Host.Id, "alpha-web")).Host.LastHeartbeat != second && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal(second, (await StoredAsync(_alpha.Host.Id, "alpha-web")).Host.LastHeartbeat);
    }

    [Fact]
    public async Task A_changed_shard_state_is_written_by_that_heartbeat()
    {
        using var client = _master.WorkerClient(_alpha.Worker);
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));

        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", false));

        var (_, shard) = await StoredAsync(_alpha.Host.Id, "alpha-web");
        Assert.Equal(DeckyShardState.Degraded, shard.State);
        Assert.Contains("http: failed - bind failed", shard.LastError);

        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));
        (_, shard) = await StoredAsync(_alpha.Host.Id, "alpha-web");
        Assert.Equal((DeckyShardState.Running, (string?)null), (shard.State, shard.LastError));
    }

    [Fact]
    public async Task A_deploy_that_moves_a_shard_is_seen_by_the_next_heartbeat_which_never_moves_it_back()
    {
        using var client = _master.WorkerClient(_alpha.Worker);
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));

        await _master.PlaceAsync((_bravo.Host.Id, "alpha-web", "10.9.0.10"), (_bravo.Host.Id, "bravo-web", "10.9.0.20"));

        using (var stale = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id, ("alpha-web", "10.9.0.10", true))))
        {
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Equal(["alpha-web"], (await stale.Content.ReadFromJsonAsync<HeartbeatAnswer>(DeckyConfigJson.Options))!.Teardown);
        }
        // Answered from memory the second time: still a stray, still bravo's.
        using (var again = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id, ("alpha-web", "10.9.0.10", true))))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(["alpha-web"], (await again.Content.ReadFromJsonAsync<HeartbeatAnswer>(DeckyConfigJson.Options))!.Teardown);
        }
        var (_, shard) = await StoredAsync(_bravo.Host.Id, "alpha-web");
        Assert.Equal(DeckyShardState.Pending, shard.State);

        // Once alpha stops running it, it is reconciled (written, not answered from memory).
        await BeatAsync(client, _alpha);
        Assert.Empty((await _master.Overview.HostsAsync(CancellationToken.None)).Single(h => h.Id == _alpha.Host.Id).StrayDeckies);
    }

    [Fact]
    public async Task A_decommissioned_hosts_next_heartbeat_is_refused_after_heartbeats_from_memory()
    {
        using var client = _master.WorkerClient(_alpha.Worker);
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));

        Assert.True(await _master.Store.RemoveHostAsync(_alpha.Host.Id, "decommissioned", CancellationToken.None));

        // The TLS gate refuses the tombstoned certificate at the handshake, on a fresh connection; a kept-alive
        // connection reaches the route, which refuses it too. Either way the heartbeat is not accepted.
        try
        {
            using var refused = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id, ("alpha-web", "10.9.0.10", true)));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        catch (HttpRequestException)
        {
        }
        Assert.Null(await _master.Overview.HostAsync(_alpha.Host.Id, CancellationToken.None));
        // Its last time from memory is still written by the batch: the row stays gone.
        await _master.Store.FlushLastSeenAsync(CancellationToken.None);
        Assert.Equal(0, await StoredHostCountAsync(_alpha.Host.Id));
    }

    [Fact]
    public async Task A_host_marked_unreachable_elsewhere_is_made_active_by_its_next_heartbeat()
    {
        using var client = _master.WorkerClient(_alpha.Worker);
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));

        Assert.True(await _master.Store.MarkUnreachableAsync(_alpha.Host.Id, CancellationToken.None));
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));

        Assert.Equal(SwarmHostStatus.Active, (await StoredAsync(_alpha.Host.Id, "alpha-web")).Host.Status);
    }

    [Fact]
    public async Task Heartbeats_answered_from_memory_keep_a_host_active_and_silence_still_makes_it_unreachable()
    {
        using var client = _master.WorkerClient(_alpha.Worker);
        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));
        // The hosted sweeper also runs as the clock moves; passes of its own here only add to it.
        var sweeper = _master.Services.GetRequiredService<OfflineHostsWorker>();
        // Beats every 30 s from memory for well past three intervals after the written one.
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(30));
            await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));
            await sweeper.SweepAsync(CancellationToken.None);
            Assert.Equal(SwarmHostStatus.Active, (await StoredAsync(_alpha.Host.Id, "alpha-web")).Host.Status);
        }

        _time.Advance(TimeSpan.FromSeconds(91));
        await sweeper.SweepAsync(CancellationToken.None);
        Assert.Equal(SwarmHostStatus.Unreachable, (await StoredAsync(_alpha.Host.Id, "alpha-web")).Host.Status);

        await BeatAsync(client, _alpha, ("alpha-web", "10.9.0.10", true));
        Assert.Equal(SwarmHostStatus.Active, (await StoredAsync(_alpha.Host.Id, "alpha-web")).Host.Status);
    }

    private static async Task BeatAsync(HttpClient client, EnrolledWorker worker, params (string Name, string Ip, bool Healthy)[] deckies)
    {
        using var response = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(worker.Host.Id, deckies));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>The rows as stored, bypassing the read model and its overlay of unwritten times.</summary>
    private async Task<(SwarmHost Host, DeckyShard Shard)> StoredAsync(Guid hostId, string decky)
    {
        await using var db = await _master.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        var host = await db.SwarmHosts.AsNoTracking().SingleAsync(h => h.Id == hostId);
        var shard = await db.DeckyShards.AsNoTracking().SingleAsync(s => s.DeckyName == decky);
        return (host, shard);
    }

    private async Task<int> StoredHostCountAsync(Guid hostId)
    {
        await using var db = await _master.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        return await db.SwarmHosts.CountAsync(h => h.Id == hostId);
    }
}
