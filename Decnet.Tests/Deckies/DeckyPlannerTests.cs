using System.Net;
using Decnet.Core.Deckies;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Deckies;

public sealed class DeckyPlannerTests
{
    private static readonly DateTimeOffset _now = new(2026, 3, 14, 9, 26, 53, TimeSpan.Zero);

    private static DeckyPlanner Planner(int seed = 7) => new(new FakeTimeProvider(_now), new Random(seed));

    private static DecnetConfig Plan(string ini, DeckyPlanOptions? options = null, int seed = 7) =>
        Planner(seed).Plan(DeploymentIniLoader.Load(ini), options);

    [Fact]
    public void Allocates_free_hosts_in_order_skipping_gateway_host_and_pinned_addresses()
    {
        var config = Plan("""
            [general]
            net = 10.0.0.0/24
            gw = 10.0.0.1
            interface = eth0
            [a]
            [b]
            ip = 10.0.0.3
            [c]
            [d]
            """, new DeckyPlanOptions { HostIp = IPAddress.Parse("10.0.0.2") });

        Assert.Equal(["10.0.0.4", "10.0.0.3", "10.0.0.5", "10.0.0.6"], config.Deckies.Select(d => d.Ip));
        Assert.Equal("10.0.0.0/24", config.Subnet);
        Assert.Equal("10.0.0.1", config.Gateway);
        Assert.Equal("eth0", config.Interface);
    }

    [Fact]
    public void Running_out_of_addresses_names_the_subnet_and_the_count()
    {
        var spec = DeploymentIniLoader.Load("[general]\nnet = 10.0.0.0/30\ngw = 10.0.0.1\ninterface = eth0\n[d]\namount = 5\n");

        var exception = Assert.Throws<IniValidationException>(() => Planner().Plan(spec));

        var error = Assert.Single(exception.Errors);
        Assert.Equal((1, "general", "net"), (error.Line, error.Section, error.Key));
        Assert.StartsWith("Not enough free IPs in 10.0.0.0/30 for 5 deckies", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Uses_every_host_of_the_subnet_exactly_when_it_fits()
    {
        // /28: 14 hosts, one of them the gateway.
        var config = Plan("[general]\nnet = 10.1.0.0/28\ninterface = br0\n[d]\namount = 13\n");

        Assert.Equal(13, config.Deckies.Select(d => d.Ip).Distinct().Count());
        Assert.DoesNotContain("10.1.0.1", config.Deckies.Select(d => d.Ip));
        Assert.Equal("10.1.0.14", config.Deckies[^1].Ip);
    }

    [Fact]
    public void Without_general_the_planner_needs_a_fallback_network()
    {
        var spec = DeploymentIniLoader.Load("[d]\nservices = ssh\n");

        var exception = Assert.Throws<IniValidationException>(() => Planner().Plan(spec));

        Assert.Equal("net", Assert.Single(exception.Errors).Key);
    }

    [Fact]
    public void Loopback_lab_places_deckies_on_127_77_0_0_with_lo()
    {
        var config = Planner().PlanLoopbackLab(DeploymentIniLoader.Load("[a]\nservices = ssh\n[b]\nservices = http\n"));

        Assert.Equal("127.77.0.0/24", config.Subnet);
        Assert.Equal("127.77.0.1", config.Gateway);
        Assert.Equal("lo", config.Interface);
        Assert.Equal(["127.77.0.2", "127.77.0.3"], config.Deckies.Select(d => d.Ip));
    }

    [Fact]
    public void Pinned_addresses_are_checked_against_a_fallback_network()
    {
        var spec = DeploymentIniLoader.Load("[a]\n\nip = 10.9.9.9\n");

        var exception = Assert.Throws<IniValidationException>(() => Planner().PlanLoopbackLab(spec));

        var error = Assert.Single(exception.Errors);
        Assert.Equal((3, "a", "ip"), (error.Line, error.Section, error.Key));
        Assert.Contains("127.77.0.0/24", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pinned_address_equal_to_the_host_address_is_rejected()
    {
        var spec = DeploymentIniLoader.Load("[general]\nnet = 10.0.0.0/24\ninterface = eth0\n[a]\nip = 10.0.0.2\n");

        var exception = Assert.Throws<IniValidationException>(
            () => Planner().Plan(spec, new DeckyPlanOptions { HostIp = IPAddress.Parse("10.0.0.2") }));

        Assert.Contains("host's own address", Assert.Single(exception.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Interface_comes_from_the_host_when_the_ini_omits_it()
    {
        var spec = DeploymentIniLoader.Load("[general]\nnet = 10.0.0.0/24\n[a]\n");

        Assert.Equal("enp3s0", Planner().Plan(spec, new DeckyPlanOptions { HostInterface = "enp3s0" }).Interface);
        Assert.Throws<IniValidationException>(() => Planner().Plan(spec));
    }

    [Fact]
    public void Services_come_from_the_ini_then_the_archetype_then_random()
    {
        var config = Plan("""
            [explicit]
            archetype = mail-server
            services = ssh
            [preset]
            archetype = database-server
            [random]
            """, DeckyPlanOptions.LoopbackLab);

        Assert.Equal(["ssh"], config.Deckies[0].Services);
        Assert.Equal(["mysql", "postgres", "redis"], config.Deckies[1].Services);
        var random = config.Deckies[2].Services;
        Assert.InRange(random.Count, 1, 3);
        Assert.Equal(random.Count, random.Distinct().Count());
        Assert.All(random, s => Assert.Contains(s, ServiceCatalog.PerDeckyServiceNames));
    }

    [Fact]
    public void Random_service_picks_cover_one_to_three_services_and_never_the_sniffer()
    {
        var counts = new HashSet<int>();
        for (var seed = 0; seed < 200; seed++)
        {
            var services = Plan("[r]\n", DeckyPlanOptions.LoopbackLab, seed).Deckies[0].Services;
            counts.Add(services.Count);
            Assert.DoesNotContain("sniffer", services);
        }

        Assert.Equal([1, 2, 3], counts.Order());
    }

    [Fact]
    public void Distros_cycle_through_the_archetype_preference_by_index()
    {
        var config = Plan("[ls]\narchetype = linux-server\namount = 5\n", DeckyPlanOptions.LoopbackLab);

        Assert.Equal(["debian", "ubuntu22", "rocky9", "fedora", "debian"], config.Deckies.Select(d => d.Distro));
        Assert.Equal("rockylinux:9-minimal", config.Deckies[2].BaseImage);
        Assert.Equal("debian:bookworm-slim", config.Deckies[2].BuildBase);
        Assert.EndsWith(".localdomain", config.Deckies[2].Hostname, StringComparison.Ordinal);
        Assert.StartsWith("SRV-", config.Deckies[0].Hostname, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_archetype_distros_cycle_through_all_nine()
    {
        var config = Plan("[d]\nservices = ssh\namount = 10\n", DeckyPlanOptions.LoopbackLab);

        Assert.Equal([.. Distros.Slugs, "debian"], config.Deckies.Select(d => d.Distro));
    }

    [Fact]
    public void Hostnames_are_unique_across_the_fleet_and_repeatable_for_a_seed()
    {
        var first = Plan("[d]\nservices = ssh\narchetype = iot-device\namount = 60\n", DeckyPlanOptions.LoopbackLab, seed: 3);
        var second = Plan("[d]\nservices = ssh\narchetype = iot-device\namount = 60\n", DeckyPlanOptions.LoopbackLab, seed: 3);

        Assert.Equal(60, first.Deckies.Select(d => d.Hostname).Distinct().Count());
        Assert.Equal(first.Deckies.Select(d => d.Hostname), second.Deckies.Select(d => d.Hostname));
    }

    [Fact]
    public void Nmap_os_comes_from_the_ini_then_the_archetype_then_linux()
    {
        var config = Plan("[a]\narchetype = printer\nnmap_os = cisco\n[b]\narchetype = printer\n[c]\nservices = ssh\n", DeckyPlanOptions.LoopbackLab);

        Assert.Equal(["cisco", "embedded", "linux"], config.Deckies.Select(d => d.NmapOs));
        Assert.Equal(["printer", "printer", null], config.Deckies.Select(d => d.Archetype));
    }

    [Fact]
    public void Mutate_interval_comes_from_the_override_then_the_decky_then_the_ini()
    {
        const string Ini = "[general]\nmutate_interval = 90\n[a]\nmutate_interval = 5\n[b]\n";

        var plain = Plan(Ini, DeckyPlanOptions.LoopbackLab);
        var overridden = Plan(Ini, DeckyPlanOptions.LoopbackLab with { MutateIntervalOverride = 2 });

        Assert.Equal([5, 90], plain.Deckies.Select(d => d.MutateInterval));
        Assert.Equal(90, plain.MutateInterval);
        Assert.Equal([2, 2], overridden.Deckies.Select(d => d.MutateInterval));
    }

    [Fact]
    public void Deployment_interval_defaults_to_30_minutes_and_deckies_inherit_it()
    {
        var config = Plan("[a]\nservices = ssh\n", DeckyPlanOptions.LoopbackLab);

        Assert.Equal(30, config.MutateInterval);
        Assert.Null(config.Deckies[0].MutateInterval);
    }

    [Fact]
    public void Last_mutated_is_now_in_utc_and_personas_carry_over()
    {
        var config = Plan("[a]\nservices = http\n[a.http]\nfake_app = phpmyadmin\n", DeckyPlanOptions.LoopbackLab);

        var decky = config.Deckies[0];
        Assert.Equal(_now.UtcDateTime, decky.LastMutated);
        Assert.Equal(DateTimeKind.Utc, decky.LastMutated!.Value.Kind);
        Assert.Equal("phpmyadmin", decky.PersonaFor("HTTP")["fake_app"]);
        Assert.Empty(decky.PersonaFor("ssh"));
        Assert.Null(decky.HostUuid);
    }

    [Fact]
    public void Mode_and_ipvlan_flow_into_the_deployment()
    {
        var config = Plan(
            "[general]\nnet = 10.0.0.0/24\ninterface = wlan0\nipvlan = true\n[a]\n",
            new DeckyPlanOptions { Mode = DeploymentMode.Swarm });

        Assert.Equal(DeploymentMode.Swarm, config.Mode);
        Assert.True(config.Ipvlan);
    }

    [Theory]
    [InlineData(10, 10)]
    [InlineData(1, 500)]
    public void Counts_within_the_limit_pass(int count, int limit) =>
        Assert.Null(Record.Exception(() => DeckyPlanner.EnsureWithinLimit(count, limit)));

    [Fact]
    public void Too_many_deckies_give_a_typed_error_with_count_and_limit()
    {
        var config = Plan("[d]\nservices = ssh\namount = 12\n", DeckyPlanOptions.LoopbackLab);

        var exception = Assert.Throws<DeploymentLimitExceededException>(
            () => DeckyPlanner.EnsureWithinLimit(config.Deckies.Count, 10));

        Assert.Equal(12, exception.Count);
        Assert.Equal(10, exception.Limit);
        Assert.Contains("12 deckies", exception.Message, StringComparison.Ordinal);
        Assert.Contains("limit is 10", exception.Message, StringComparison.Ordinal);
    }
}
