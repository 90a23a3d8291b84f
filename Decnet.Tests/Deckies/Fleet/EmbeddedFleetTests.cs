using Decnet.Core.Deckies.Embedded;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Deckies.Fleet;

/// <summary>The embedded runtime through the fleet service, attacked with real clients on loopback deckies.</summary>
[Trait("Category", TestCategories.Integration)]
public abstract class EmbeddedFleetTests(StorageProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : EmbeddedFleetTests(StorageProvider.Sqlite);

    public sealed class OnPostgres() : EmbeddedFleetTests(StorageProvider.Postgres);

    // Whole microseconds: PostgreSQL keeps times to the microsecond, SQLite's text to the 100 ns tick.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
    private readonly string _net = Clients.LabSubnetPrefix();
    private CoreTestBed _bed = null!;

    public async ValueTask InitializeAsync() => _bed = await CoreTestBed.StartAsync(provider, time: _time);

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    private DeckyFleet Fleet => _bed.Services.GetRequiredService<DeckyFleet>();

    private int Port(int port) => port + (port < 1024 ? _bed.Services.GetRequiredService<EmbeddedDeckyRuntime>().PortOffset : 0);

    private string ThreeDeckies => $"""
        [general]
        net = {_net}.0/24
        gw = {_net}.1
        interface = lo

        [web]
        ip = {_net}.10
        services = http

        [cache]
        ip = {_net}.11
        services = redis

        [files]
        ip = {_net}.12
        services = ftp, redis
        """;

    [Fact]
    public async Task Three_deckies_answer_real_clients_on_their_own_addresses_and_a_one_decky_redeploy_removes_the_others()
    {
        var deployed = await Fleet.DeployAsync("tester", ThreeDeckies, CancellationToken.None);
        Assert.True(deployed.Succeeded, deployed.Message);
        Assert.All(deployed.Runtime!.Deckies, d => Assert.Equal(DeckyRunState.Running, d.State));

        var (curlExit, page) = await Clients.RunAsync("curl", ["-s", "-i", $"http://{_net}.10:{Port(80)}/"]);
        Assert.Equal(0, curlExit);
        Assert.StartsWith("HTTP/1.1 ", page, StringComparison.Ordinal);
        var (_, pong) = await Clients.RunAsync("redis-cli", ["-h", $"{_net}.11", "-p", "6379", "PING"]);
        Assert.Equal("PONG", pong.Trim());
        var (_, pong2) = await Clients.RunAsync("redis-cli", ["-h", $"{_net}.12", "-p", "6379", "PING"]);
        Assert.Equal("PONG", pong2.Trim());
        Assert.True(await Clients.IsListeningAsync($"{_net}.12", Port(21)));

        var listed = await Fleet.ListAsync(CancellationToken.None);
        Assert.Equal(["cache", "files", "web"], listed.Select(d => d.Config.Name).Order().ToArray());

        // The seed's regression: a 1-decky INI must not redeploy the previous deckies.
        var single = $"""
            [general]
            net = {_net}.0/24
            gw = {_net}.1
            interface = lo

            [cache]
            ip = {_net}.11
            services = redis
            """;
        var redeployed = await Fleet.DeployAsync("tester", single, CancellationToken.None);
        Assert.True(redeployed.Succeeded, redeployed.Message);
        Assert.Equal(["cache"], (await Fleet.ListAsync(CancellationToken.None)).Select(d => d.Config.Name).ToArray());
        Assert.False(await Clients.IsListeningAsync($"{_net}.10", Port(80)));
        Assert.False(await Clients.IsListeningAsync($"{_net}.12", 6379));
        Assert.False(await Clients.IsListeningAsync($"{_net}.12", Port(21)));
        Assert.True(await Clients.IsListeningAsync($"{_net}.11", 6379));
    }

    [Fact]
    public async Task A_bad_ini_changes_nothing_and_names_the_line()
    {
        Assert.True((await Fleet.DeployAsync("tester", ThreeDeckies, CancellationToken.None)).Succeeded);
        var bad = ThreeDeckies + "\n[broken]\nservices = http\nmutate_interval = often\n";

        var result = await Fleet.DeployAsync("tester", bad, CancellationToken.None);

        Assert.Equal(FleetOperationStatus.Invalid, result.Status);
        var error = Assert.Single(result.Errors!);
        Assert.Equal("broken", error.Section);
        Assert.Equal("mutate_interval", error.Key);
        Assert.NotNull(error.Line);
        Assert.Equal(3, (await Fleet.ListAsync(CancellationToken.None)).Count);
        Assert.True(await Clients.IsListeningAsync($"{_net}.11", 6379));
    }

    [Fact]
    public async Task More_deckies_than_the_deployment_limit_are_refused_with_the_numbers()
    {
        await _bed.Services.GetRequiredService<Decnet.Core.Settings.SystemSettingsService>().SetDeploymentLimitAsync("tester", 2, CancellationToken.None);
        var result = await Fleet.DeployAsync("tester", ThreeDeckies, CancellationToken.None);
        Assert.Equal(FleetOperationStatus.LimitExceeded, result.Status);
        Assert.Contains("3 deckies", result.Message, StringComparison.Ordinal);
        Assert.Contains("limit is 2", result.Message, StringComparison.Ordinal);
        Assert.Empty(await Fleet.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_service_that_cannot_run_leaves_the_decky_degraded_and_the_others_running()
    {
        var ini = $"""
            [general]
            net = {_net}.0/24
            gw = {_net}.1

            [custom-vendorapi]
            binary = acme/vendor-api:3
            ports = 9000

            [mixed]
            ip = {_net}.20
            services = redis, vendorapi
            """;
        var result = await Fleet.DeployAsync("tester", ini, CancellationToken.None);
        Assert.True(result.Succeeded, result.Message);
        var decky = Assert.Single(result.Runtime!.Deckies);
        Assert.Equal(DeckyRunState.Degraded, decky.State);
        Assert.Equal(ServiceRunState.Running, decky.Services.Single(s => s.Service == "redis").State);
        // Every built-in service runs embedded now; an operator's own image is what this runtime cannot host.
        var custom = decky.Services.Single(s => s.Service == "vendorapi");
        Assert.Equal(ServiceRunState.Failed, custom.State);
        Assert.Contains("custom service (image acme/vendor-api:3): it runs only in the Docker runtime", custom.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_live_mutation_changes_what_listens_and_is_stored()
    {
        var ini = $"""
            [general]
            net = {_net}.0/24
            gw = {_net}.1

            [rotor]
            ip = {_net}.30
            services = redis
            """;
        Assert.True((await Fleet.DeployAsync("tester", ini, CancellationToken.None)).Succeeded);
        Assert.True(await Clients.IsListeningAsync($"{_net}.30", 6379));

        var result = await Fleet.MutateAsync("tester", "rotor", CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        var decky = Assert.Single(await Fleet.ListAsync(CancellationToken.None));
        Assert.NotEqual(["redis"], decky.Config.Services);
        Assert.Equal(_time.GetUtcNow().UtcDateTime, decky.Config.LastMutated);
        Assert.Equal(DeckyRunState.Running, decky.Status!.State);
        if (!decky.Config.Services.Contains("redis"))
        {
            Assert.False(await Clients.IsListeningAsync($"{_net}.30", 6379));
        }
        foreach (var endpoint in decky.Status.Services.SelectMany(s => s.Endpoints ?? []).Where(e => e.EndsWith("/tcp", StringComparison.Ordinal)))
        {
            var hostPort = endpoint[..^4];
            var colon = hostPort.LastIndexOf(':');
            Assert.True(await Clients.IsListeningAsync(hostPort[..colon], int.Parse(hostPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture)), endpoint);
        }
    }

    [Fact]
    public async Task Teardown_of_one_decky_leaves_the_rest()
    {
        Assert.True((await Fleet.DeployAsync("tester", ThreeDeckies, CancellationToken.None)).Succeeded);
        Assert.True((await Fleet.TeardownAsync("tester", "cache", CancellationToken.None)).Succeeded);
        Assert.False(await Clients.IsListeningAsync($"{_net}.11", 6379));
        Assert.True(await Clients.IsListeningAsync($"{_net}.12", 6379));
        Assert.Equal(2, (await Fleet.ListAsync(CancellationToken.None)).Count);
        Assert.Equal(FleetOperationStatus.NotFound, (await Fleet.TeardownAsync("tester", "cache", CancellationToken.None)).Status);
    }
}
