using System.Globalization;
using System.Text;
using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Deckies.Fleet;

/// <summary>
/// Every archetype of the catalog, and the shipped office-LAN example, deployed through the fleet into the
/// embedded runtime (the product's default): each decky comes up with every one of its services running and
/// every TCP endpoint it reports accepts a connection.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class EveryArchetypeDeploysTests : IAsyncLifetime
{
    private readonly string _net = Clients.LabSubnetPrefix();
    private CoreTestBed _bed = null!;

    public async ValueTask InitializeAsync() => _bed = await CoreTestBed.StartAsync(StorageProvider.Sqlite);

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    private DeckyFleet Fleet => _bed.Services.GetRequiredService<DeckyFleet>();

    [Fact]
    public async Task Every_archetype_deploys_with_all_of_its_services_running()
    {
        var ini = new StringBuilder($"""
            [general]
            net = {_net}.0/24
            gw = {_net}.1
            interface = lo

            """);
        for (var i = 0; i < Archetypes.All.Count; i++)
        {
            ini.Append(CultureInfo.InvariantCulture, $"[{Archetypes.All[i].Slug}]\nip = {_net}.{10 + i}\narchetype = {Archetypes.All[i].Slug}\n\n");
        }

        // One decky per archetype is more than the default limit of 10 deckies per deployment.
        await _bed.Services.GetRequiredService<Decnet.Core.Settings.SystemSettingsService>().SetDeploymentLimitAsync("tester", Archetypes.All.Count, CancellationToken.None);
        var result = await Fleet.DeployAsync("tester", ini.ToString(), CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        var deckies = result.Runtime!.Deckies.ToDictionary(d => d.Name, StringComparer.Ordinal);
        Assert.Equal(Archetypes.Slugs.Order(StringComparer.Ordinal), deckies.Keys.Order(StringComparer.Ordinal));
        foreach (var archetype in Archetypes.All)
        {
            var decky = deckies[archetype.Slug];
            Assert.Equal(archetype.Services.Order(StringComparer.Ordinal), decky.Services.Select(s => s.Service).Order(StringComparer.Ordinal));
            await AssertAllRunningAsync(decky);
        }
    }

    [Fact]
    public async Task The_office_lan_example_deploys_every_decky_and_names_the_custom_service_it_cannot_host()
    {
        // lan.ini as shipped, moved from the office segment (eth0, 192.168.10.0/24) onto this test's own
        // loopback subnet; the pinned addresses keep their host part.
        var shipped = await File.ReadAllTextAsync(ExampleIniTests.ExamplePath("lan.ini"), TestContext.Current.CancellationToken);
        var retargeted = shipped
            .Replace("net = 192.168.10.0/24", $"net = {_net}.0/24", StringComparison.Ordinal)
            .Replace("gw = 192.168.10.1", $"gw = {_net}.1", StringComparison.Ordinal)
            .Replace("interface = eth0", "interface = lo", StringComparison.Ordinal)
            .Replace("ip = 192.168.10.", $"ip = {_net}.", StringComparison.Ordinal);
        Assert.DoesNotContain("192.168.10.", retargeted, StringComparison.Ordinal);

        var result = await Fleet.DeployAsync("tester", retargeted, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        var deckies = result.Runtime!.Deckies.ToDictionary(d => d.Name, StringComparer.Ordinal);
        Assert.Equal(
            ["api-01", "dc-01", "desk-01", "desk-02", "desk-03", "files-01", "intranet", "plc-01", "printer-01", "printer-02"],
            deckies.Keys.Order(StringComparer.Ordinal));
        Assert.Equal($"{_net}.20", deckies["files-01"].Config!.Ip);
        Assert.Equal($"{_net}.5", deckies["dc-01"].Config!.Ip);
        foreach (var decky in deckies.Values.Where(d => d.Name != "api-01"))
        {
            await AssertAllRunningAsync(decky);
        }

        // The operator's own image runs only in the Docker runtime: the embedded one says so for that service
        // and still serves the decky's built-in ones.
        var api = deckies["api-01"];
        Assert.Equal(DeckyRunState.Degraded, api.State);
        Assert.Equal(ServiceRunState.Running, api.Services.Single(s => s.Service == "ssh").State);
        var custom = api.Services.Single(s => s.Service == "honeyapi");
        Assert.Equal(ServiceRunState.Failed, custom.State);
        Assert.Contains("custom service (image myorg/fake-api:1.2)", custom.Error, StringComparison.Ordinal);
        Assert.Contains("Docker runtime", custom.Error, StringComparison.Ordinal);
    }

    private static async Task AssertAllRunningAsync(DeckyStatus decky)
    {
        foreach (var service in decky.Services)
        {
            Assert.True(service.State == ServiceRunState.Running, $"{decky.Name}/{service.Service}: {service.State} {service.Error}");
            Assert.NotEmpty(service.Endpoints ?? []);
            foreach (var endpoint in service.Endpoints!.Where(e => e.EndsWith("/tcp", StringComparison.Ordinal)))
            {
                var (address, port) = Split(endpoint);
                Assert.True(await Clients.IsListeningAsync(address, port), $"{decky.Name}/{service.Service}: nothing accepts on {endpoint}");
            }
        }
        Assert.Equal(DeckyRunState.Running, decky.State);
    }

    private static (string Address, int Port) Split(string endpoint)
    {
        var hostPort = endpoint[..endpoint.LastIndexOf('/')];
        var colon = hostPort.LastIndexOf(':');
        return (hostPort[..colon], int.Parse(hostPort[(colon + 1)..], CultureInfo.InvariantCulture));
    }
}
