extern alias agent;

using agent::Decnet.Agent.Api;
using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Docker;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Events;
using Decnet.Core.Events.Collection;
using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.Time.Testing;
using Decnet.Core.Ingest.Collection;

namespace Decnet.Tests.Deckies;

/// <summary>
/// Bring-your-own services from the INI to the container the Docker runtime starts, and what becomes of the
/// lines that container prints. The runtime against a real engine is in <c>CustomServiceDockerTests</c>.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CustomServiceModelTests
{
    private const string Ini = """
        [custom-honeyapi]
        binary = myorg/fake-api:1.2
        exec = /srv/api --port 9000
        ports = 9000, 9001/udp

        [api]
        services = honeyapi, ssh

        [plain]
        services = http
        """;

    private static DecnetConfig Plan(string ini = Ini, DeckyPlanOptions? options = null, int seed = 3) =>
        new DeckyPlanner(new FakeTimeProvider(DateTimeOffset.UnixEpoch), new Random(seed)).Plan(DeploymentIniLoader.Load(ini), options ?? DeckyPlanOptions.LoopbackLab);

    private static CustomService HoneyApi => new("honeyapi", "myorg/fake-api:1.2", ["/srv/api", "--port", "9000"], [new ServicePort(9000), new ServicePort(9001, ServiceTransport.Udp)]);

    [Fact]
    public void The_decky_that_lists_a_custom_service_carries_its_definition_and_the_others_do_not()
    {
        var plan = Plan();

        var api = plan.Deckies.Single(d => d.Name == "api");
        Assert.Equal(["honeyapi", "ssh"], api.Services);
        Assert.Equal([HoneyApi], api.CustomServices);
        Assert.Equal(HoneyApi, api.CustomService("HONEYAPI"));
        Assert.Null(api.CustomService("ssh"));
        Assert.Empty(plan.Deckies.Single(d => d.Name == "plain").CustomServices);
    }

    [Fact]
    public void The_definition_survives_the_snapshot_json_that_goes_to_the_database_labels_and_workers()
    {
        var api = Plan().Deckies.Single(d => d.Name == "api");

        var json = DeckyConfigJson.Serialize(api);

        Assert.Contains("""
            "custom_services":[{"name":"honeyapi","image":"myorg/fake-api:1.2","command":["/srv/api","--port","9000"],"ports":["9000/tcp","9001/udp"]}]
            """.Trim(), json, StringComparison.Ordinal);
        Assert.Equal(api, DeckyConfigJson.DeserializeDecky(json));
        // A snapshot written before custom services existed still reads, with none.
        var old = DeckyConfigJson.DeserializeDecky("""{"name":"x","ip":"10.0.0.5","services":["ssh"],"hostname":"h"}""");
        Assert.Empty(old.CustomServices);
        var bad = Assert.Throws<System.Text.Json.JsonException>(() => DeckyConfigJson.DeserializeDecky(
            """{"name":"x","ip":"10.0.0.5","services":["a"],"hostname":"h","custom_services":[{"name":"a","image":"i","command":[],"ports":["99999/tcp"]}]}"""));
        Assert.Contains("99999/tcp", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_container_runs_the_operators_image_and_command_in_the_deckys_namespace_bounded_and_labelled()
    {
        var api = Plan().Deckies.Single(d => d.Name == "api");
        var options = new DockerRuntimeOptions { CustomServiceMemoryBytes = 64 * 1024 * 1024, CustomServicePidsLimit = 32 };

        var spec = DeckyContainerSpecs.Custom(api, HoneyApi, "base-id", options);

        Assert.Equal("decnet-api-honeyapi", spec.Name);
        Assert.Equal("myorg/fake-api:1.2", spec.Image);
        Assert.Equal(["/srv/api", "--port", "9000"], spec.Cmd);
        Assert.NotNull(spec.HostConfig);
        Assert.Equal("container:base-id", spec.HostConfig.NetworkMode);
        Assert.Equal(64 * 1024 * 1024, spec.HostConfig.Memory);
        Assert.Equal(32, spec.HostConfig.PidsLimit);
        Assert.Equal(["no-new-privileges"], spec.HostConfig.SecurityOpt);
        Assert.Null(spec.HostConfig.Binds);
        Assert.Contains("NODE_NAME=api", spec.Env);
        Assert.Equal("true", spec.Labels[DockerLabels.Custom]);
        Assert.Equal(DockerLabels.ServiceRole, spec.Labels[DockerLabels.Role]);
        Assert.Equal("honeyapi", spec.Labels[DockerLabels.Service]);
        Assert.Equal(api.Ip, spec.Labels[DockerLabels.Ip]);
        // Without exec the image's own command runs.
        Assert.Null(DeckyContainerSpecs.Custom(api, HoneyApi with { Command = [] }, "base-id", options).Cmd);
    }

    [Fact]
    public void Random_picks_draw_only_services_the_runtime_can_host()
    {
        var hostable = new HashSet<string>(["ssh", "mqtt", "tftp"], StringComparer.Ordinal);
        var ini = "[lab]\namount = 40\n";

        for (var seed = 0; seed < 20; seed++)
        {
            var plan = Plan(ini, DeckyPlanOptions.LoopbackLab with { CanHost = hostable.Contains }, seed);
            Assert.All(plan.Deckies, d => Assert.Subset(hostable, d.Services.ToHashSet(StringComparer.Ordinal)));
        }
        // Without the filter the whole catalog is the pool: the filter above is what kept the others out.
        var unfiltered = Plan(ini).Deckies.SelectMany(d => d.Services).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(unfiltered.Except(hostable));
    }

    [Fact]
    public void A_runtime_that_hosts_nothing_makes_a_decky_without_services_an_error_naming_its_section()
    {
        var error = Assert.Throws<IniValidationException>(() => Plan("[web]\n[named]\nservices = ssh\n", DeckyPlanOptions.LoopbackLab with { CanHost = _ => false }));

        var located = Assert.Single(error.Errors);
        Assert.Equal((1, "web", "services"), (located.Line, located.Section, located.Key));
        Assert.Contains("list services", located.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mutation_rotates_the_built_in_services_and_keeps_the_operators_own()
    {
        var api = Plan().Deckies.Single(d => d.Name == "api");
        string[] pool = ["ssh", "http", "ftp", "redis", "mysql"];

        for (var seed = 0; seed < 30; seed++)
        {
            var pick = ServiceRotation.Pick(api, pool, new Random(seed));
            Assert.Equal("honeyapi", pick[^1]);
            Assert.InRange(pick.Count, 2, 4);
            Assert.All(pick.SkipLast(1), s => Assert.Contains(s, pool));
            Assert.NotEqual(["ssh", "honeyapi"], pick);
        }
    }

    [Fact]
    public void A_worker_refuses_custom_definitions_it_could_not_turn_into_containers()
    {
        Assert.Null(WorkerDeckies.ValidateCustomServices([HoneyApi]));
        Assert.Contains("not a valid custom service name", WorkerDeckies.ValidateCustomServices([HoneyApi with { Name = "../etc" }]), StringComparison.Ordinal);
        Assert.Contains("no usable image", WorkerDeckies.ValidateCustomServices([HoneyApi with { Image = "img --privileged" }]), StringComparison.Ordinal);
        Assert.Contains("no usable image", WorkerDeckies.ValidateCustomServices([HoneyApi with { Image = " " }]), StringComparison.Ordinal);
        Assert.Contains("more than 64", WorkerDeckies.ValidateCustomServices([HoneyApi with { Command = [.. Enumerable.Repeat("x", 65)] }]), StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_output_lines_become_output_events_of_the_decky_with_the_attacker_named_in_them()
    {
        var time = new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

        var line = CustomServiceOutput.ToEventLine("login failed for root from 203.0.113.9 port 40522 (server 10.0.5.40 v1.2.3.4.5)\n", "api", "honeyapi", "10.0.5.40", time);

        var parsed = Rfc5424Parser.Parse(line).Event!;
        Assert.Equal(("api", "honeyapi", CustomServiceOutput.EventType), (parsed.Decky, parsed.Service, parsed.EventType));
        Assert.Equal("203.0.113.9", parsed.AttackerIp);
        Assert.Equal(time.UtcDateTime, parsed.TimestampUtc);
        Assert.Equal("login failed for root from 203.0.113.9 port 40522 (server 10.0.5.40 v1.2.3.4.5)", parsed.Message);

        // The decky's own address, loopback, 0.0.0.0 and version numbers are nobody's attacker.
        Assert.Null(CustomServiceOutput.FindAttackerAddress("listening on 0.0.0.0:9000 and 10.0.5.40:9000, health 127.0.0.1, build 1.2.3.4.5, 256.1.1.1", "10.0.5.40"));
        // A line already in our format (a service written for DECNET) passes through untouched.
        const string native = "<134>1 2026-05-01T12:00:00.000000Z api honeyapi - auth [relay@55555 src_ip=\"198.51.100.7\" username=\"admin\"]";
        Assert.Equal(native, CustomServiceOutput.ToEventLine(native, "api", "honeyapi", null, time));
        // Attackers choose what such a program prints: the event stays one bounded line.
        var hostile = CustomServiceOutput.ToEventLine(new string('A', 100_000) + "\u001b[31m\n", "api", "honeyapi", null, time);
        Assert.True(Rfc5424Parser.Parse(hostile).Succeeded);
        Assert.True(hostile.Length < CustomServiceOutput.MaxMessageLength + 300, hostile.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
