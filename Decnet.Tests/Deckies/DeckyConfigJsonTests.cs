using System.Text.Json;
using System.Text.Json.Nodes;
using Decnet.Core.Deckies;

namespace Decnet.Tests.Deckies;

public sealed class DeckyConfigJsonTests
{
    private static readonly DeckyConfig _decky = new()
    {
        Name = "web-01",
        Ip = "10.0.5.40",
        Services = ["http", "ssh"],
        Distro = "rocky9",
        BaseImage = "rockylinux:9-minimal",
        BuildBase = "debian:bookworm-slim",
        Hostname = "cedar42.localdomain",
        Archetype = "linux-server",
        ServiceConfig = new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["http"] = new Dictionary<string, string> { ["server_header"] = "nginx/1.18.0" },
        },
        NmapOs = "linux",
        MutateInterval = 120,
        LastMutated = new DateTime(2026, 3, 14, 9, 26, 53, DateTimeKind.Utc),
        HostUuid = Guid.Parse("6f1c2a4e-5b7d-4c1e-9a8f-0e3d2c1b4a59"),
    };

    [Fact]
    public void Decky_json_uses_snake_case_names()
    {
        var json = JsonNode.Parse(DeckyConfigJson.Serialize(_decky))!.AsObject();

        Assert.Equal(
            ["name", "ip", "services", "custom_services", "distro", "base_image", "build_base", "hostname", "archetype", "service_config",
             "nmap_os", "mutate_interval", "last_mutated", "host_uuid"],
            json.Select(p => p.Key));
        Assert.Equal("2026-03-14T09:26:53Z", json["last_mutated"]!.GetValue<string>());
        Assert.Equal("nginx/1.18.0", json["service_config"]!["http"]!["server_header"]!.GetValue<string>());
    }

    [Fact]
    public void Decky_round_trips_through_json()
    {
        var back = DeckyConfigJson.DeserializeDecky(DeckyConfigJson.Serialize(_decky));

        Assert.Equal(DeckyConfigJson.Serialize(_decky), DeckyConfigJson.Serialize(back));
        Assert.Equal(_decky.Services, back.Services);
        Assert.Equal(_decky.LastMutated, back.LastMutated);
        Assert.Equal(DateTimeKind.Utc, back.LastMutated!.Value.Kind);
        Assert.Equal(_decky.HostUuid, back.HostUuid);
        Assert.Equal("nginx/1.18.0", back.ServiceConfig["HTTP"]["Server_Header"]);
    }

    [Fact]
    public void Snapshots_without_newer_fields_load_with_defaults()
    {
        var decky = DeckyConfigJson.DeserializeDecky("""{"name":"old","ip":"10.0.0.9","services":["ssh"],"hostname":"SRV-ONYX-12"}""");

        Assert.Equal("debian", decky.Distro);
        Assert.Equal("debian:bookworm-slim", decky.BuildBase);
        Assert.Equal("linux", decky.NmapOs);
        Assert.Empty(decky.ServiceConfig);
        Assert.Null(decky.LastMutated);
        Assert.Null(decky.HostUuid);
        Assert.Null(decky.MutateInterval);
    }

    [Fact]
    public void Fields_this_version_does_not_know_are_ignored()
    {
        var decky = DeckyConfigJson.DeserializeDecky(
            """{"name":"new","ip":"10.0.0.9","services":["ssh"],"hostname":"h","last_login_attempt":0,"cloak":{"on":true}}""");

        Assert.Equal("new", decky.Name);
    }

    [Theory]
    [InlineData("""{"name":"x","ip":"10.0.0.9","services":[],"hostname":"h"}""", "at least one service")]
    [InlineData("""{"ip":"10.0.0.9","services":["ssh"],"hostname":"h"}""", "name")]
    [InlineData("""not json""", "")]
    [InlineData("""null""", "null")]
    public void Invalid_snapshots_raise_json_exceptions(string json, string reason)
    {
        var exception = Assert.Throws<JsonException>(() => DeckyConfigJson.DeserializeDecky(json));

        Assert.Contains(reason, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deployment_round_trips_with_mode_as_a_lowercase_string()
    {
        var deployment = new DecnetConfig
        {
            Mode = DeploymentMode.Swarm,
            Interface = "eth0",
            Subnet = "10.0.5.0/24",
            Gateway = "10.0.5.1",
            Deckies = [_decky],
            Ipvlan = true,
            MutateInterval = null,
        };

        var json = DeckyConfigJson.Serialize(deployment);
        var back = DeckyConfigJson.DeserializeDeployment(json);

        Assert.Contains("\"mode\":\"swarm\"", json, StringComparison.Ordinal);
        Assert.Equal(json, DeckyConfigJson.Serialize(back));
        Assert.Null(back.MutateInterval);
        Assert.True(back.Ipvlan);
        Assert.Equal("web-01", Assert.Single(back.Deckies).Name);
    }

    [Fact]
    public void Configs_compare_by_value_including_lists_and_personas()
    {
        var copy = DeckyConfigJson.DeserializeDecky(DeckyConfigJson.Serialize(_decky));
        var otherPersona = _decky with
        {
            ServiceConfig = new Dictionary<string, IReadOnlyDictionary<string, string>>
            {
                ["http"] = new Dictionary<string, string> { ["server_header"] = "Apache" },
            },
        };

        Assert.Equal(_decky, copy);
        Assert.Equal(_decky.GetHashCode(), copy.GetHashCode());
        Assert.NotEqual(_decky, _decky with { Services = ["ssh", "http"] });
        Assert.NotEqual(_decky, otherPersona);
        var deployment = new DecnetConfig { Interface = "lo", Subnet = "127.77.0.0/24", Gateway = "127.77.0.1", Deckies = [_decky] };
        Assert.Equal(deployment, deployment with { Deckies = [copy] });
    }

    [Fact]
    public void Decky_lists_round_trip()
    {
        var json = DeckyConfigJson.Serialize([_decky, _decky with { Name = "web-02", Ip = "10.0.5.41" }]);

        Assert.Equal(["web-01", "web-02"], DeckyConfigJson.DeserializeDeckies(json).Select(d => d.Name));
    }

    [Fact]
    public void Records_refuse_empty_service_or_decky_lists()
    {
        Assert.Throws<ArgumentException>(() => _decky with { Services = [] });
        Assert.Throws<ArgumentException>(() => new DecnetConfig { Interface = "lo", Subnet = "s", Gateway = "g", Deckies = [] });
    }

    [Fact]
    public void Timestamps_without_a_kind_are_taken_as_utc()
    {
        var decky = _decky with { LastMutated = new DateTime(2026, 1, 1, 12, 0, 0, DateTimeKind.Unspecified) };

        Assert.Equal(DateTimeKind.Utc, decky.LastMutated!.Value.Kind);
        Assert.Equal(12, decky.LastMutated.Value.Hour);
    }

    [Fact]
    public void Persona_maps_are_copied_so_later_changes_to_the_source_do_not_leak_in()
    {
        var source = new Dictionary<string, string> { ["password"] = "a" };
        var decky = _decky with { ServiceConfig = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["ssh"] = source } };

        source["password"] = "b";

        Assert.Equal("a", decky.PersonaFor("ssh")["password"]);
    }
}
