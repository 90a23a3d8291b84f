using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Deckies.Fleet;

/// <summary>
/// What the embedded runtime does with services it cannot host: random picks never draw them, and a custom
/// service (which needs the Docker runtime) fails alone with a reason while the decky's other services serve.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class EmbeddedServicePickTests : IAsyncLifetime
{
    private readonly string _net = Clients.LabSubnetPrefix();
    private CoreTestBed _bed = null!;

    public async ValueTask InitializeAsync() => _bed = await CoreTestBed.StartAsync();

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    private DeckyFleet Fleet => _bed.Services.GetRequiredService<DeckyFleet>();

    private HoneypotServiceRegistry Registry => _bed.Services.GetRequiredService<HoneypotServiceRegistry>();

    [Fact]
    public async Task Deckies_without_services_get_random_picks_that_all_run_and_mutations_stay_in_that_pool()
    {
        var ini = $"""
            [general]
            net = {_net}.0/24
            gw = {_net}.1
            interface = lo

            [lab]
            amount = 10
            """;

        var deployed = await Fleet.DeployAsync("tester", ini, CancellationToken.None);

        Assert.True(deployed.Succeeded, deployed.Message);
        var deckies = deployed.Runtime!.Deckies;
        Assert.Equal(10, deckies.Count);
        Assert.All(deckies, d => Assert.True(d.State == DeckyRunState.Running,
            $"{d.Name}: {string.Join("; ", d.Services.Select(s => $"{s.Service} {s.State} {s.Error}"))}"));
        var picked = deckies.SelectMany(d => d.Services).Select(s => s.Service).ToHashSet(StringComparer.Ordinal);
        Assert.All(picked, s => Assert.True(Registry.TryGet(s, out _), s));

        var decky = deckies[0].Config!;
        Assert.All(Fleet.MutationPool(decky), s => Assert.True(Registry.TryGet(s, out _), s));
        var mutated = await Fleet.MutateAsync("tester", decky.Name, CancellationToken.None);
        Assert.True(mutated.Succeeded, mutated.Message);
        var after = (await Fleet.ListAsync(CancellationToken.None)).Single(d => d.Config.Name == decky.Name);
        Assert.Equal(DeckyRunState.Running, after.Status!.State);
    }

    [Fact]
    public async Task A_custom_service_fails_alone_with_a_reason_and_the_deckys_mqtt_broker_still_serves()
    {
        var ini = $"""
            [general]
            net = {_net}.0/24
            gw = {_net}.1
            interface = lo

            [custom-plcapi]
            binary = acme/plc-api:3.1
            exec = /opt/plc-api --listen 8502
            ports = 8502

            [plant]
            ip = {_net}.20
            services = mqtt, plcapi
            """;

        var deployed = await Fleet.DeployAsync("tester", ini, CancellationToken.None);

        Assert.True(deployed.Succeeded, deployed.Message);
        var plant = Assert.Single(deployed.Runtime!.Deckies);
        Assert.Equal(DeckyRunState.Degraded, plant.State);
        var custom = plant.Services.Single(s => s.Service == "plcapi");
        Assert.Equal(ServiceRunState.Failed, custom.State);
        Assert.Equal("'plcapi' is a custom service (image acme/plc-api:3.1): it runs only in the Docker runtime, and this host uses the embedded one", custom.Error);
        Assert.Equal(ServiceRunState.Running, plant.Services.Single(s => s.Service == "mqtt").State);

        var (exit, output) = await Clients.RunAsync("mosquitto_sub", ["-h", $"{_net}.20", "-p", "1883", "-t", "$SYS/broker/version", "-C", "1", "-W", "10"]);
        Assert.True(exit == 0, output);
        Assert.StartsWith("mosquitto version", output, StringComparison.Ordinal);
        // The stored deployment keeps the definition, so a later Docker runtime (or a worker) can run it.
        var stored = (await Fleet.ListAsync(CancellationToken.None)).Single().Config;
        Assert.Equal("acme/plc-api:3.1", stored.CustomService("plcapi")!.Image);
    }
}
