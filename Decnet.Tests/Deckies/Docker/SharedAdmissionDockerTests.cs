using System.Net;
using System.Net.Sockets;
using System.Text;
using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Docker;
using Decnet.Core.Honeypots.Hosting;
using Docker.DotNet.Models;

namespace Decnet.Tests.Deckies.Docker;

/// <summary>
/// Session admission shared by every service container of every decky on a Docker host: a flood from one
/// address is held to its share of a decky across containers, and to its share of the host across deckies.
/// </summary>
[Trait("Category", "Integration")]
[Collection(DockerEngineCollection.Name)]
public sealed class SharedAdmissionDockerTests(DockerEngineFixture engine)
{
    private const string FirstIp = "10.213.7.30";
    private const string SecondIp = "10.213.7.31";
    private const int PerSourcePerDecky = 10;
    private const int PerSourcePerHost = 15;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Three_hundred_connections_from_one_address_over_two_containers_get_one_decky_share_and_the_host_share_holds_across_deckies()
    {
        engine.RequireEngine();
        var data = Directory.CreateTempSubdirectory("dnt-adm-");
        try
        {
            using var runtime = engine.CreateRuntime(o =>
            {
                o.HostDataDirectory = data.FullName;
                o.HoneypotLimits = new HoneypotLimitsOptions
                {
                    Admission = new SessionAdmissionOptions
                    {
                        MaxSessionsPerSourcePerDecky = PerSourcePerDecky,
                        MaxSessionsPerSourcePerHost = PerSourcePerHost,
                        MaxSessionsPerDecky = 200,
                        MaxSessionsPerHost = 400,
                    },
                };
            });
            var first = new DeckyConfig { Name = "dnt-adm1", Ip = FirstIp, Hostname = "files-01", Services = ["ftp", "redis"], NmapOs = OsProfiles.LinuxSlug };
            var second = new DeckyConfig { Name = "dnt-adm2", Ip = SecondIp, Hostname = "cache-01", Services = ["redis"], NmapOs = OsProfiles.LinuxSlug };
            await runtime.DeployAsync(new DecnetConfig
            {
                Interface = DockerEngineFixture.Bridge,
                Subnet = DockerEngineFixture.Subnet,
                Gateway = DockerEngineFixture.Gateway,
                Deckies = [first, second],
            }, Token);
            var admission = Assert.IsType<SessionAdmission>(runtime.SharedAdmission);

            // Every service answers before the flood (containers need a moment to listen).
            foreach (var (ip, port) in new[] { (FirstIp, 21), (FirstIp, 6379), (SecondIp, 6379) })
            {
                await ServedEventuallyAsync(ip, port);
            }
            await WaitUntilAsync(() => admission.Active == 0, "the readiness probes kept their slots");

            var flood = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => ConnectAsync(FirstIp, i % 2 == 0 ? 21 : 6379)));
            var onSecond = Array.Empty<(Socket Socket, bool Served)>();
            try
            {
                // One share of the decky across its ftp and redis containers, not one per container.
                Assert.Equal(PerSourcePerDecky, flood.Count(c => c.Served));
                Assert.Equal(PerSourcePerDecky, admission.Active);

                // Another address (the second decky's own, from inside its base container) is still served.
                var secondBase = await ContainerAsync(second.Name, DockerLabels.BaseRole);
                var bystander = await ExecAsync(secondBase.ID, "timeout", "10", "bash", "-c",
                    $"exec 3<>/dev/tcp/{FirstIp}/6379; printf 'PING\\r\\n' >&3; head -c 7 <&3");
                Assert.Equal("+PONG", bystander.Trim());

                // The same address on the second decky: only what is left of its host-wide share.
                onSecond = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => ConnectAsync(SecondIp, 6379)));
                Assert.Equal(PerSourcePerHost - PerSourcePerDecky, onSecond.Count(c => c.Served));
            }
            finally
            {
                foreach (var (socket, _) in flood.Concat(onSecond))
                {
                    socket.Dispose();
                }
            }

            // Slots come back when the flood's sessions end: the same address is served again.
            await WaitUntilAsync(() => admission.Active == 0, "the flood's sessions kept their slots");
            var again = await ConnectAsync(FirstIp, 21);
            again.Socket.Dispose();
            Assert.True(again.Served);
            var containerLogs = await LogsAsync((await ContainerAsync(first.Name, DockerLabels.ServiceRole, "ftp")).ID);
            Assert.DoesNotContain("unreachable", containerLogs, StringComparison.Ordinal);
        }
        finally
        {
            using (var cleanup = engine.CreateRuntime())
            {
                await cleanup.TeardownAsync(null, CancellationToken.None);
            }
            data.Delete(recursive: true);
        }
    }

    /// <summary>Served when FTP's "220" banner or Redis's "+PONG" arrives; a refused connection is reset instead.</summary>
    private static async Task<(Socket Socket, bool Served)> ConnectAsync(string ip, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            await socket.ConnectAsync(IPAddress.Parse(ip), port, timeout.Token);
            if (port == 6379)
            {
                await socket.SendAsync("PING\r\n"u8.ToArray(), SocketFlags.None, timeout.Token);
            }
            var expected = port == 6379 ? "+PONG"u8.ToArray() : "220"u8.ToArray();
            var buffer = new byte[expected.Length];
            var got = 0;
            while (got < buffer.Length)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    return (socket, false);
                }
                got += read;
            }
            return (socket, buffer.AsSpan().SequenceEqual(expected));
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return (socket, false);
        }
    }

    private static async Task ServedEventuallyAsync(string ip, int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var (socket, served) = await ConnectAsync(ip, port);
            socket.Dispose();
            if (served)
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{ip}:{port} never answered");
            await Task.Delay(300, Token);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Token);
        }
        Assert.True(condition(), what);
    }

    private async Task<ContainerListResponse> ContainerAsync(string decky, string role, string? service = null)
    {
        var labels = new List<string> { $"{DockerLabels.Managed}=true", $"{DockerLabels.Decky}={decky}", $"{DockerLabels.Role}={role}" };
        if (service is not null)
        {
            labels.Add($"{DockerLabels.Service}={service}");
        }
        var found = await engine.Client.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = DockerLabels.Filter([.. labels]) }, Token);
        return Assert.Single(found);
    }

    private async Task<string> ExecAsync(string containerId, params string[] command)
    {
        var exec = await engine.Client.Exec.CreateContainerExecAsync(containerId, new ContainerExecCreateParameters
        {
            Cmd = command,
            AttachStdout = true,
            AttachStderr = true,
        }, Token);
        using var stream = await engine.Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), Token);
        var (stdout, stderr) = await stream.ReadOutputToEndAsync(Token);
        return stdout.Length > 0 ? stdout : stderr;
    }

    private async Task<string> LogsAsync(string containerId)
    {
        using var stream = await engine.Client.Containers.GetContainerLogsAsync(containerId, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true }, Token);
        var (stdout, stderr) = await stream.ReadOutputToEndAsync(Token);
        return stdout + stderr;
    }
}
