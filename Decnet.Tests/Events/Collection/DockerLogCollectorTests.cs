using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Docker;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Events;
using Decnet.Core.Events.Collection;
using Decnet.Core.Ingest;
using Decnet.Core.Ingest.Collection;
using Decnet.Core.Storage;
using Decnet.Core.Users;
using Decnet.Tests.Deckies.Docker;
using Decnet.Tests.Infrastructure;
using Docker.DotNet.Models;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Events.Collection;

/// <summary>
/// Container logs into the ingest against the real engine: deckies deployed by the Docker runtime,
/// attacked by redis-cli and curl through the host shim, their stdout followed by the collector.
/// </summary>
[Trait("Category", TestCategories.Integration)]
[Collection(DockerEngineCollection.Name)]
public sealed class DockerLogCollectorTests(DockerEngineFixture engine)
{
    private const string CacheIp = "10.213.7.40";
    private const string WebIp = "10.213.7.41";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Attacks_on_docker_deckies_reach_the_logs_api_and_a_killed_or_restarted_service_keeps_reporting()
    {
        engine.RequireEngine();
        using var factory = new DecnetWebFactory(new Dictionary<string, string?>
        {
            ["Decnet:Runtime:Kind"] = "docker",
            ["Decnet:Runtime:Docker:Endpoint"] = engine.Endpoint,
            ["Decnet:Runtime:Docker:RetryDelay"] = "00:00:00.200",
            ["Decnet:Ingest:Docker:ReconnectDelay"] = "00:00:00.500",
        });
        var (_, token) = await factory.CreateActiveUserAsync("docker-admin", UserRole.Admin);
        using var api = factory.CreateClient(token);
        var ini = $"""
            [general]
            net = {DockerEngineFixture.Subnet}
            gw = {DockerEngineFixture.Gateway}
            interface = {DockerEngineFixture.Bridge}

            [dnt-cache]
            ip = {CacheIp}
            services = redis

            [dnt-www]
            ip = {WebIp}
            services = http
            """;
        var deploy = await api.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = ini }, Token);
        Assert.True(deploy.IsSuccessStatusCode, await deploy.Content.ReadAsStringAsync(Token));

        await RedisReadyAsync(CacheIp);
        await Clients.RunAsync("redis-cli", ["-h", CacheIp, "AUTH", "first-guess"]);
        var curl = await Clients.RunAsync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--retry", "10", "--retry-connrefused", "--retry-delay", "1", $"http://{WebIp}/wp-login.php"]);
        Assert.Equal(0, curl.ExitCode);

        var auth = await WaitForRowAsync(api, "decky:dnt-cache event:auth", r => r.GetProperty("fields").GetProperty("password").GetString() == "first-guess");
        Assert.Equal("redis", auth.GetProperty("service").GetString());
        // The attacker is this host, seen through the macvlan shim on the decky LAN.
        Assert.StartsWith("10.213.7.", auth.GetProperty("attacker_ip").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("<", auth.GetProperty("raw_line").GetString(), StringComparison.Ordinal);
        var request = await WaitForRowAsync(api, "decky:dnt-www service:http", r => r.GetProperty("raw_line").GetString()!.Contains("/wp-login.php", StringComparison.Ordinal));
        Assert.StartsWith("10.213.7.", request.GetProperty("attacker_ip").GetString(), StringComparison.Ordinal);

        // Killed and started again: the follower ends with the stream and the start event reattaches it.
        var redis = await ServiceContainerAsync("dnt-cache", "redis");
        await engine.Client.Containers.KillContainerAsync(redis, new ContainerKillParameters(), Token);
        await WaitUntilAsync(async () => (await engine.Client.Containers.InspectContainerAsync(redis, Token)).State?.Running != true);
        await engine.Client.Containers.StartContainerAsync(redis, new ContainerStartParameters(), Token);
        await RedisReadyAsync(CacheIp);
        await Clients.RunAsync("redis-cli", ["-h", CacheIp, "AUTH", "after-kill"]);
        await WaitForRowAsync(api, "decky:dnt-cache event:auth", r => r.GetProperty("fields").GetProperty("password").GetString() == "after-kill");

        // A restart (die and start back to back, possibly before the old stream has ended) too.
        await engine.Client.Containers.RestartContainerAsync(redis, new ContainerRestartParameters { WaitBeforeKillSeconds = 1 }, Token);
        await RedisReadyAsync(CacheIp);
        await Clients.RunAsync("redis-cli", ["-h", CacheIp, "AUTH", "after-restart"]);
        await WaitForRowAsync(api, "decky:dnt-cache event:auth", r => r.GetProperty("fields").GetProperty("password").GetString() == "after-restart");

        // Nothing lost or doubled across the kill and the restart: the stored rows are the container's lines.
        var emitted = await SettledEventLinesAsync(redis);
        var dbFactory = factory.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>();
        await WaitUntilAsync(async () => (await StoredLinesAsync(dbFactory, "dnt-cache")).Count >= emitted.Count);
        var stored = await StoredLinesAsync(dbFactory, "dnt-cache");
        Assert.Equal(emitted.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_collector_disposed_and_recreated_mid_stream_stores_every_line_exactly_once()
    {
        engine.RequireEngine();
        using var runtime = engine.CreateRuntime();
        var deployed = await runtime.DeployAsync(new DecnetConfig
        {
            Interface = DockerEngineFixture.Bridge,
            Subnet = DockerEngineFixture.Subnet,
            Gateway = DockerEngineFixture.Gateway,
            Deckies = [new DeckyConfig { Name = "dnt-stream", Ip = CacheIp, Hostname = "cache-01", Services = ["redis"], NmapOs = OsProfiles.LinuxSlug }],
        }, Token);
        Assert.Equal(DeckyRunState.Running, Assert.Single(deployed.Deckies).State);
        await RedisReadyAsync(CacheIp);
        var redis = await ServiceContainerAsync("dnt-stream", "redis");

        await using var bed = await CoreTestBed.StartAsync();
        var dbFactory = bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>();
        var ingester = bed.Services.GetRequiredService<EventIngester>();
        DockerLogCollector NewCollector() => new(
            new DockerRuntimeOptions { Endpoint = engine.Endpoint },
            new DockerLogCollectorOptions { ChannelCapacity = 100, ReconnectDelay = TimeSpan.FromMilliseconds(500) },
            new IngestLineSink(ingester, dbFactory), NullLogger<DockerLogCollector>.Instance);

        var first = NewCollector();
        first.Start();
        // A steady stream of commands on one connection: one "command" event each, for about 8 s.
        var attack = Clients.RunAsync("redis-cli", ["-h", CacheIp, "-r", "400", "-i", "0.02", "PING"], TimeSpan.FromSeconds(60));

        await WaitUntilAsync(async () => (await StoredLinesAsync(dbFactory, "dnt-stream")).Count >= 50);
        await first.DisposeAsync();
        var storedByFirst = (await StoredLinesAsync(dbFactory, "dnt-stream")).Count;
        var cursor = await CursorAsync(dbFactory, redis);
        Assert.NotNull(cursor);
        // The stream goes on while no collector runs; the next one must pick those lines up from the engine.
        await Task.Delay(1000, Token);
        var second = NewCollector();
        second.Start();
        try
        {
            var (exitCode, output) = await attack;
            Assert.True(exitCode == 0, output);
            var emitted = await SettledEventLinesAsync(redis);
            Assert.True(emitted.Count >= 400, $"only {emitted.Count} lines emitted");
            Assert.True(storedByFirst < emitted.Count, "the first collector was stopped mid-stream");

            await WaitUntilAsync(async () => (await StoredLinesAsync(dbFactory, "dnt-stream")).Count >= emitted.Count);
            await Task.Delay(1000, Token);
            var stored = await StoredLinesAsync(dbFactory, "dnt-stream");
            Assert.True(emitted.Count == stored.Count, $"{emitted.Count} emitted, {stored.Count} stored; only stored: {string.Join(" | ", stored.Except(emitted))}; only emitted: {string.Join(" | ", emitted.Except(stored))}");
            Assert.Equal(emitted.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
            // The second collector resumed from the stored position (since), it did not read the whole log again.
            Assert.True(second.Counters.Lines < emitted.Count, $"second collector read {second.Counters.Lines} of {emitted.Count} lines");
            Assert.True(second.Counters.Lines >= emitted.Count - storedByFirst, $"second collector read {second.Counters.Lines}, {emitted.Count - storedByFirst} were missing");
        }
        finally
        {
            await second.DisposeAsync();
        }
        Assert.True((await CursorAsync(dbFactory, redis))!.Position > cursor.Position);
    }

    private static async Task<PipelineCursor?> CursorAsync(IDbContextFactory<DecnetDbContext> dbFactory, string containerId)
    {
        await using var db = await dbFactory.CreateDbContextAsync(Token);
        return await db.PipelineCursors.AsNoTracking().SingleOrDefaultAsync(c => c.Name == DockerLogCollector.CursorPrefix + containerId, Token);
    }

    private static async Task<List<string>> StoredLinesAsync(IDbContextFactory<DecnetDbContext> dbFactory, string decky)
    {
        await using var db = await dbFactory.CreateDbContextAsync(Token);
        return await db.Logs.AsNoTracking().Where(l => l.Decky == decky).Select(l => l.RawLine).ToListAsync(Token);
    }

    /// <summary>
    /// The container's lines once they stop changing: a client that has exited may still have its
    /// disconnect event on the way to the container's log.
    /// </summary>
    private async Task<List<string>> SettledEventLinesAsync(string containerId)
    {
        var lines = await EventLinesAsync(containerId);
        while (true)
        {
            await Task.Delay(1500, Token);
            var again = await EventLinesAsync(containerId);
            if (again.Count == lines.Count)
            {
                return again;
            }
            lines = again;
        }
    }

    /// <summary>What the container wrote to stdout: the events it emitted, the truth the rows are compared with.</summary>
    private async Task<List<string>> EventLinesAsync(string containerId)
    {
        using var stream = await engine.Client.Containers.GetContainerLogsAsync(containerId, new ContainerLogsParameters { ShowStdout = true, ShowStderr = false }, Token);
        var (stdout, _) = await stream.ReadOutputToEndAsync(Token);
        return [.. stdout.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith('<'))];
    }

    private async Task<string> ServiceContainerAsync(string decky, string service)
    {
        var found = await engine.Client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = DockerLabels.Filter($"{DockerLabels.Managed}=true", $"{DockerLabels.Decky}={decky}", $"{DockerLabels.Service}={service}"),
        }, Token);
        return Assert.Single(found).ID;
    }

    private static async Task RedisReadyAsync(string ip) =>
        await WaitUntilAsync(async () => (await Clients.RunAsync("redis-cli", ["-h", ip, "PING"], TimeSpan.FromSeconds(10))).Output.Contains("PONG", StringComparison.Ordinal));

    private static async Task<JsonElement> WaitForRowAsync(HttpClient api, string search, Func<JsonElement, bool> match)
    {
        JsonElement? found = null;
        await WaitUntilAsync(async () =>
        {
            var page = await api.GetFromJsonAsync<JsonElement>($"/api/v1/logs?limit=200&search={Uri.EscapeDataString(search)}", Token);
            found = page.GetProperty("data").EnumerateArray().Where(match).Select(r => (JsonElement?)r).FirstOrDefault();
            return found is not null;
        });
        return found!.Value;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), "condition not met within 45 s");
            await Task.Delay(200, Token);
        }
    }
}
