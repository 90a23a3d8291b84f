using System.Diagnostics;
using System.Text;
using Decnet.Core.Deckies.Docker;
using Docker.DotNet;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Deckies.Docker;

/// <summary>
/// A private Docker engine (own data root and socket, no iptables, no docker0) with the decky images built
/// offline, and a test bridge <c>dntbr0</c> on 10.213.7.0/24 as the macvlan parent. Everything it creates
/// is removed on dispose, also after a failed test. Where the engine cannot be had (not root, no apt), tests
/// skip with the reason, except under CI=true, where they fail with it.
/// </summary>
public sealed class DockerEngineFixture : IAsyncLifetime
{
    public const string Bridge = "dntbr0";
    public const string Subnet = "10.213.7.0/24";
    public const string Gateway = "10.213.7.1";

    private static readonly string _repoRoot = FindRepoRoot();
    private readonly string _engineDirectory = $"/tmp/dnt-engine-{Guid.NewGuid().ToString("N")[..8]}";
    private readonly StringBuilder _setupLog = new();
    private bool _bridgeCreated;
    private bool _engineStarted;

    public string? Unavailable { get; private set; }

    public string Endpoint { get; private set; } = string.Empty;

    public DockerClient Client { get; private set; } = null!;

    public TimeSpan ImageBuildTime { get; private set; }

    public async ValueTask InitializeAsync()
    {
        try
        {
            if (Environment.UserName != "root" && !string.Equals(await ReadAsync("id", "-u"), "0", StringComparison.Ordinal))
            {
                Unavailable = "the Docker runtime tests need root (dockerd, macvlan links, sysctls)";
                return;
            }

            await CleanupBridgeAsync();
            var start = await RunAsync(Path.Combine(_repoRoot, "deploy/docker/start-test-engine.sh"), [_engineDirectory]);
            _engineStarted = true;
            if (start.ExitCode != 0)
            {
                Unavailable = "the test Docker engine did not start: " + start.Error.Trim();
                return;
            }
            Endpoint = start.Output.Trim().Split('\n')[^1];

            var clock = Stopwatch.StartNew();
            var build = await RunAsync(
                Path.Combine(_repoRoot, "deploy/docker/build-images.sh"), [],
                new Dictionary<string, string> { ["DOCKER_HOST"] = Endpoint });
            ImageBuildTime = clock.Elapsed;
            if (build.ExitCode != 0)
            {
                Unavailable = "the decky images could not be built: " + build.Error.Trim();
                return;
            }

            _bridgeCreated = true;
            await IpAsync("link", "add", Bridge, "type", "bridge");
            await IpAsync("addr", "add", $"{Gateway}/24", "dev", Bridge);
            await IpAsync("link", "set", Bridge, "up");
            Client = DockerEngine.CreateClient(new DockerRuntimeOptions { Endpoint = Endpoint });
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            Unavailable = $"the Docker test environment could not be prepared: {ex.Message}\n{_setupLog}";
        }
    }

    /// <summary>Skips the test with the reason, or fails it under CI, where nothing that can be installed may be skipped.</summary>
    public void RequireEngine()
    {
        if (Unavailable is null)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail("Docker runtime integration tests cannot run: " + Unavailable);
        }
        Assert.Skip("SKIPPED LOUDLY: Docker runtime integration tests need a Docker engine: " + Unavailable);
    }

    public DockerDeckyRuntime CreateRuntime(Action<DockerRuntimeOptions>? configure = null)
    {
        var options = new DockerRuntimeOptions { Endpoint = Endpoint, RetryDelay = TimeSpan.FromMilliseconds(200) };
        configure?.Invoke(options);
        return new DockerDeckyRuntime(options, NullLoggerFactory.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
        {
            // Leaves nothing on the host even when a test failed half-way: containers, network, shims.
            try
            {
                using var runtime = CreateRuntime();
                await runtime.TeardownAsync(null, CancellationToken.None);
            }
            catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException or InvalidOperationException)
            {
                _setupLog.AppendLine("teardown: " + ex.Message);
            }
            Client.Dispose();
        }

        if (_bridgeCreated)
        {
            await CleanupBridgeAsync();
        }

        if (_engineStarted)
        {
            await RunAsync(Path.Combine(_repoRoot, "deploy/docker/stop-test-engine.sh"), [_engineDirectory, "--purge"]);
        }
    }

    private static async Task CleanupBridgeAsync()
    {
        foreach (var link in new[] { DeckyNetworkPlan.MacvlanShimName, DeckyNetworkPlan.IpvlanShimName, Bridge })
        {
            if ((await RunAsync("ip", ["link", "show", "dev", link])).ExitCode == 0)
            {
                await RunAsync("ip", ["link", "del", "dev", link]);
            }
        }
    }

    private async Task IpAsync(params string[] arguments)
    {
        var result = await RunAsync("ip", arguments);
        _setupLog.AppendLine($"ip {string.Join(' ', arguments)} → {result.ExitCode} {result.Error.Trim()}");
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed: {result.Error.Trim()}");
        }
    }

    private static async Task<string> ReadAsync(string file, params string[] arguments) => (await RunAsync(file, arguments)).Output.Trim();

    internal static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string file, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    private static string FindRepoRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Decnet.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("Decnet.sln not found above " + AppContext.BaseDirectory);
    }
}
