using System.Net;
using Decnet.Core.Notifications;
using Decnet.Core.Swarm;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Swarm.Controller;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Swarm.Controller;

/// <summary>
/// A host that stops heartbeating becomes unreachable after three intervals (and pages hear of it),
/// then active again at its next good heartbeat. Time is a FakeTimeProvider; the heartbeats are real TLS.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class OfflineDetectionTests : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private SwarmMaster _master = null!;

    public async ValueTask InitializeAsync() =>
        _master = await SwarmMaster.StartAsync(_time, new Dictionary<string, string?> { ["Decnet:Swarm:HeartbeatSeconds"] = "30" });

    public async ValueTask DisposeAsync() => await _master.DisposeAsync();

    [Fact]
    public async Task Three_missed_intervals_make_a_host_unreachable_and_the_next_heartbeat_makes_it_active()
    {
        var worker = await _master.EnrollAsync("edge-1");
        using var client = _master.WorkerClient(worker.Worker);
        var sweeper = _master.Services.GetRequiredService<OfflineHostsWorker>();
        var unreachable = new TaskCompletionSource<SwarmChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = _master.Services.GetRequiredService<NotificationHub>().Subscribe<SwarmChanged>(change =>
        {
            if (change.Reason == SwarmChangeReasons.Unreachable)
            {
                unreachable.TrySetResult(change);
            }
            return Task.CompletedTask;
        });

        using (var first = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(worker.Host.Id)))
        {
            Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        }
        Assert.Equal(SwarmHostStatus.Active, await StatusAsync(worker.Host.Id));

        // Two silent intervals: still active.
        await AdvanceAndSweepAsync(sweeper, Interval * 2);
        Assert.Equal(SwarmHostStatus.Active, await StatusAsync(worker.Host.Id));

        // More than three intervals of silence: the next pass marks it unreachable and publishes it for open pages.
        await AdvanceAndSweepAsync(sweeper, Interval * 2);
        Assert.Equal(SwarmHostStatus.Unreachable, await StatusAsync(worker.Host.Id));
        Assert.Equal(worker.Host.Id, (await unreachable.Task.WaitAsync(TimeSpan.FromSeconds(10))).HostId);

        using (var back = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(worker.Host.Id)))
        {
            Assert.Equal(HttpStatusCode.NoContent, back.StatusCode);
        }
        Assert.Equal(SwarmHostStatus.Active, await StatusAsync(worker.Host.Id));
    }

    [Fact]
    public async Task A_host_that_never_heartbeated_stays_enrolled()
    {
        var worker = await _master.EnrollAsync("edge-2");
        var sweeper = _master.Services.GetRequiredService<OfflineHostsWorker>();

        await AdvanceAndSweepAsync(sweeper, Interval * 5);

        Assert.Equal(SwarmHostStatus.Enrolled, await StatusAsync(worker.Host.Id));
    }

    private async Task<string?> StatusAsync(Guid id) => (await _master.Overview.HostAsync(id, CancellationToken.None))?.Status;

    /// <summary>Moves time one interval at a time and waits for the hosted worker's pass after each tick.</summary>
    private async Task AdvanceAndSweepAsync(OfflineHostsWorker sweeper, TimeSpan span)
    {
        while (span > TimeSpan.Zero)
        {
            var before = sweeper.CompletedSweeps;
            _time.Advance(Interval);
            span -= Interval;
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (sweeper.CompletedSweeps == before && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            Assert.True(sweeper.CompletedSweeps > before, "the offline worker did not run after its interval");
        }
    }
}
