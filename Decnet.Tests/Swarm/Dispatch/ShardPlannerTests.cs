using Decnet.Core.Deckies;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Dispatch;

[Trait("Category", TestCategories.Unit)]
public sealed class ShardPlannerTests
{
    private static readonly DateTime s_enrolled = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static SwarmHost Host(string name, string status = SwarmHostStatus.Active, string? address = "10.0.0.1", int order = 0) => new()
    {
        Name = name,
        Status = status,
        Address = address,
        ClientCertFingerprint = new string('a', 63) + name[^1],
        EnrolledAt = s_enrolled.AddMinutes(order),
    };

    private static DeckyConfig Decky(string name, Guid? host = null) =>
        new() { Name = name, Ip = "10.0.0.10", Hostname = name, Services = ["ssh"], HostUuid = host };

    [Fact]
    public void Four_deckies_over_two_hosts_go_two_each_round_robin()
    {
        var a = Host("worker-a", order: 0);
        var b = Host("worker-b", order: 1);

        var placed = ShardPlanner.Assign([Decky("d1"), Decky("d2"), Decky("d3"), Decky("d4")], [a, b]);

        Assert.Equal([a.Id, b.Id, a.Id, b.Id], placed.Select(d => d.HostUuid!.Value));
        Assert.Equal(["d1", "d2", "d3", "d4"], placed.Select(d => d.Name));
    }

    [Fact]
    public void Deckies_on_a_host_that_is_no_longer_live_are_reassigned_to_live_hosts()
    {
        var live = Host("worker-a");
        var unreachable = Host("worker-b", SwarmHostStatus.Unreachable);
        var decommissioned = Host("worker-c", SwarmHostStatus.Decommissioned);
        var forgotten = Guid.NewGuid();

        var placed = ShardPlanner.Assign(
            [Decky("d1", unreachable.Id), Decky("d2", decommissioned.Id), Decky("d3", forgotten)],
            [live, unreachable, decommissioned]);

        Assert.All(placed, d => Assert.Equal(live.Id, d.HostUuid));
    }

    [Fact]
    public void A_still_valid_assignment_is_kept_and_new_deckies_fill_the_other_hosts()
    {
        var a = Host("worker-a", order: 0);
        var b = Host("worker-b", order: 1);
        var previous = new Dictionary<string, Guid> { ["d1"] = a.Id, ["d2"] = a.Id };

        var placed = ShardPlanner.Assign([Decky("d1"), Decky("d2"), Decky("d3"), Decky("d4")], [a, b], previous);

        Assert.Equal([a.Id, a.Id, b.Id, b.Id], placed.Select(d => d.HostUuid!.Value));
    }

    [Fact]
    public void An_explicit_host_that_is_live_wins_over_the_previous_placement()
    {
        var a = Host("worker-a", order: 0);
        var b = Host("worker-b", order: 1);

        var placed = ShardPlanner.Assign([Decky("d1", b.Id)], [a, b], new Dictionary<string, Guid> { ["d1"] = a.Id });

        Assert.Equal(b.Id, placed.Single().HostUuid);
    }

    [Fact]
    public void Only_active_hosts_and_enrolled_hosts_with_an_address_are_live()
    {
        Assert.True(ShardPlanner.IsLive(Host("w1")));
        Assert.True(ShardPlanner.IsLive(Host("w2", SwarmHostStatus.Enrolled)));
        Assert.False(ShardPlanner.IsLive(Host("w3", SwarmHostStatus.Enrolled, address: null)));
        Assert.False(ShardPlanner.IsLive(Host("w4", SwarmHostStatus.Unreachable)));
        Assert.False(ShardPlanner.IsLive(Host("w5", SwarmHostStatus.Decommissioned)));
    }

    [Fact]
    public void Without_a_live_host_there_is_nothing_to_shard_across()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            ShardPlanner.Assign([Decky("d1")], [Host("w1", SwarmHostStatus.Unreachable), Host("w2", SwarmHostStatus.Enrolled, address: "")]));
        Assert.Contains("No swarm host is live", error.Message, StringComparison.Ordinal);
    }
}
