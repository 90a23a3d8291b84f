using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm.Protocol;
using Decnet.Core.Swarm.Shipping;
using Decnet.Tests.Deckies.Docker;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Swarm.Shipping;

namespace Decnet.Tests.Swarm.Agent;

/// <summary>
/// A worker on the Docker runtime, against the real engine: the agent deploys a redis decky as a
/// container, redis-cli attacks it, the container's event line is followed into the worker's spool and
/// shipped by the agent's forwarder over mutual TLS to the master's listener, which stores it labelled
/// with the worker. A restarted agent resumes from its stored container positions and ships nothing twice.
/// </summary>
[Trait("Category", TestCategories.Integration)]
[Collection(DockerEngineCollection.Name)]
public sealed class AgentDockerShippingTests(DockerEngineFixture engine)
{
    private const string DeckyIp = "10.213.7.60";

    [Fact]
    public async Task Container_events_of_a_docker_worker_reach_the_master_once_across_an_agent_restart()
    {
        engine.RequireEngine();
        await using var sandbox = new AgentSandbox("worker-docker");
        await using var lab = await ShippingLab.StartAsync(caDirectory: sandbox.CaDirectory);
        await lab.AddHostAsync(sandbox.WorkerName, sandbox.Worker.Fingerprint);
        var ini = sandbox.Ini(AgentSandbox.FreePort(), runtime: "docker")
            .Replace("swarm-syslog-port = 6514", $"swarm-syslog-port = {lab.Endpoint.Port}", StringComparison.Ordinal);
        var environment = new Dictionary<string, string>
        {
            ["Decnet__Runtime__Docker__Endpoint"] = engine.Endpoint,
            ["Decnet__Runtime__Docker__RetryDelay"] = "00:00:00.200",
            ["Decnet__Ingest__Docker__ReconnectDelay"] = "00:00:00.500",
        };
        await sandbox.StartAsync(ini, environment);
        using var master = sandbox.MasterClient();
        var deployment = new DecnetConfig
        {
            Interface = DockerEngineFixture.Bridge,
            Subnet = DockerEngineFixture.Subnet,
            Gateway = DockerEngineFixture.Gateway,
            Deckies = [new DeckyConfig { Name = "dnt-worker-cache", Ip = DeckyIp, Hostname = "cache-07", Services = ["redis"], NmapOs = OsProfiles.LinuxSlug }],
        };
        try
        {
            using (var deployed = await AgentSandbox.PostAsync(master, "deploy", new AgentDeployRequest(deployment)))
            {
                Assert.True(deployed.StatusCode == HttpStatusCode.OK, await deployed.Content.ReadAsStringAsync() + sandbox.Output);
            }
            Assert.Contains("Decky runtime: docker", sandbox.Output, StringComparison.Ordinal);
            await RedisReadyAsync();
            await Clients.RunAsync("redis-cli", ["-h", DeckyIp, "AUTH", "before-restart"]);

            // Container stdout → spool → forwarder → master, labelled with the worker's certificate.
            await sandbox.WaitUntilAsync(() => sandbox.SpoolLines().Any(l => l.Contains("before-restart", StringComparison.Ordinal)), "the container's auth line in the spool", seconds: 60);
            await StoredAsync(lab, "before-restart", sandbox);
            var row = (await lab.RowsAsync()).Single(r => IsAuth(r, "before-restart"));
            Assert.Equal("worker-docker", ShippingLab.Field(row, ShippedLine.SourceWorkerField));
            Assert.Equal("dnt-worker-cache", row.Decky);

            // The agent dies and comes back: it adopts the running container (an attacker's open session
            // survives, nothing is redeployed) and resumes its log where it was, without replaying it.
            using var attacker = new TcpClient();
            await attacker.ConnectAsync(IPAddress.Parse(DeckyIp), 6379);
            var session = attacker.GetStream();
            Assert.Contains("+PONG", await RespAsync(session, "PING"), StringComparison.Ordinal);
            await sandbox.KillAsync();
            await sandbox.StartAsync(ini, environment);
            await sandbox.WaitUntilAsync(() => sandbox.Output.Contains("Adopted 1 decky(ies) still running", StringComparison.Ordinal), "the restarted agent adopts the running decky", seconds: 60);
            Assert.Single(Regex.Matches(sandbox.Output, "Deployed 1 decky"));
            Assert.StartsWith("-", await RespAsync(session, "AUTH", "after-restart"), StringComparison.Ordinal);
            await sandbox.WaitUntilAsync(() => sandbox.SpoolLines().Any(l => l.Contains("after-restart", StringComparison.Ordinal)), "the line after the restart in the spool", seconds: 60);
            await StoredAsync(lab, "after-restart", sandbox);
            // One AUTH, one auth event: in the spool and on the master, before and after the restart alike.
            Assert.Single(sandbox.SpoolLines(), l => l.Contains(" auth ", StringComparison.Ordinal) && l.Contains("before-restart", StringComparison.Ordinal));
            Assert.Single(await lab.RowsAsync(), r => IsAuth(r, "before-restart"));
            Assert.Single(await lab.RowsAsync(), r => IsAuth(r, "after-restart"));
        }
        finally
        {
            using var torn = await AgentSandbox.PostAsync(master, "teardown", new AgentTeardownRequest(null));
        }
    }

    private static async Task StoredAsync(ShippingLab lab, string password, AgentSandbox sandbox)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await lab.RowsAsync()).Any(r => IsAuth(r, password)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the master never stored the '{password}' event. Agent output:\n{sandbox.Output}");
            await Task.Delay(200);
        }
    }

    /// <summary>One RESP command on an open connection, and the first reply bytes.</summary>
    private static async Task<string> RespAsync(NetworkStream stream, params string[] words)
    {
        var command = new StringBuilder().Append(CultureInfo.InvariantCulture, $"*{words.Length}\r\n");
        foreach (var word in words)
        {
            command.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(word)}\r\n{word}\r\n");
        }
        await stream.WriteAsync(Encoding.UTF8.GetBytes(command.ToString()));
        var buffer = new byte[512];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var read = await stream.ReadAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static bool IsAuth(Decnet.Core.Events.LogEntry row, string password) =>
        row.EventType == "auth" && row.Fields.Contains(password, StringComparison.Ordinal);

    private static async Task RedisReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var (exit, output) = await Clients.RunAsync("redis-cli", ["-h", DeckyIp, "PING"]);
            if (exit == 0 && output.Contains("PONG", StringComparison.Ordinal))
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"redis on {DeckyIp} never answered: {output}");
            await Task.Delay(500);
        }
    }
}
