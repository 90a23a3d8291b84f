using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Decnet.Tests.Infrastructure;

/// <summary>
/// The master as an operator starts it: a separate process, Production environment (nothing set),
/// configured through environment variables, either <c>dotnet run --project Decnet.Web</c> from the
/// repository root (the README's command, against the build the tests already made) or a
/// <c>dotnet publish</c> output started from its own folder.
/// </summary>
public sealed class MasterProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private MasterProcess(Process process, string host, int port)
    {
        _process = process;
        Host = host;
        Port = port;
        BaseUrl = $"http://{host}:{port}";
    }

    public string Host { get; }
    public int Port { get; }
    public string BaseUrl { get; }

    /// <summary>Everything the process printed so far (console log lines).</summary>
    public IReadOnlyList<string> Output => [.. _output];

    /// <summary>The repository checkout these tests were built from.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The build configuration of this test run (Debug from ./test.sh).</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>A loopback address of its own and a free port on it.</summary>
    public static (string Host, int Port) FreeAddress()
    {
        var host = $"127.{Random.Shared.Next(100, 250)}.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(2, 250)}";
        using var probe = new TcpListener(IPAddress.Parse(host), 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return (host, port);
    }

    /// <summary>
    /// Environment for a master on <paramref name="host"/>:<paramref name="port"/> with its data and logs
    /// under <paramref name="root"/>. The swarm listeners (0.0.0.0:8770 and :6514 by default) move to
    /// free ports on the same loopback address through their documented configuration keys, so
    /// parallel tests never fight over them.
    /// </summary>
    public static Dictionary<string, string> Environment(string host, int port, string root) => new()
    {
        ["DECNET_WEB_HOST"] = host,
        ["DECNET_WEB_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["DECNET_DATA_DIR"] = Path.Combine(root, "data"),
        ["DECNET_LOG_DIRECTORY"] = Path.Combine(root, "logs"),
        ["Decnet__Swarm__ControllerUrl"] = $"https://{host}:0",
        ["Decnet__Swarm__SyslogUrl"] = $"{host}:0",
    };

    /// <summary><c>dotnet run --project Decnet.Web</c> from the repository root, without rebuilding.</summary>
    public static Task<MasterProcess> DotnetRunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = RepositoryRoot };
        foreach (var argument in new[] { "run", "--project", "Decnet.Web", "--no-build", "-c", Configuration })
        {
            start.ArgumentList.Add(argument);
        }
        if (arguments.Length > 0)
        {
            start.ArgumentList.Add("--");
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
        }
        return StartAsync(start, environment);
    }

    /// <summary>Publishes Decnet.Web (from the existing build) into <paramref name="folder"/>.</summary>
    public static async Task PublishAsync(string folder)
    {
        var (exitCode, output) = await Clients.RunAsync("dotnet",
            ["publish", Path.Combine(RepositoryRoot, "Decnet.Web", "Decnet.Web.csproj"), "--no-build", "-c", Configuration, "-o", folder, "-nologo"],
            TimeSpan.FromMinutes(5));
        Assert.True(exitCode == 0, "dotnet publish failed:\n" + output);
    }

    /// <summary>A published build started from its own folder: <c>dotnet Decnet.Web.dll</c>.</summary>
    public static Task<MasterProcess> PublishedAsync(string folder, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder };
        start.ArgumentList.Add("Decnet.Web.dll");
        return StartAsync(start, environment);
    }

    private static async Task<MasterProcess> StartAsync(ProcessStartInfo start, IReadOnlyDictionary<string, string> environment)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        // Production as on an operator's machine: nothing inherited from the test host says otherwise.
        foreach (var inherited in start.Environment.Keys.Where(IsHostingOverride).ToList())
        {
            start.Environment.Remove(inherited);
        }
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var host = environment["DECNET_WEB_HOST"];
        var port = int.Parse(environment["DECNET_WEB_PORT"], System.Globalization.CultureInfo.InvariantCulture);
        var process = Process.Start(start) ?? throw new InvalidOperationException("the master did not start");
        var master = new MasterProcess(process, host, port);
        process.OutputDataReceived += (_, e) => master.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => master.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await master.WaitUntilAliveAsync();
        }
        catch
        {
            await master.DisposeAsync();
            throw;
        }
        return master;
    }

    private static bool IsHostingOverride(string name) =>
        name.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("DOTNET_ENVIRONMENT", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("DECNET_", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("Decnet__", StringComparison.OrdinalIgnoreCase);

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > 400)
        {
            _output.TryDequeue(out _);
        }
    }

    private async Task WaitUntilAliveAsync()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The master exited with {_process.ExitCode}:\n{string.Join('\n', Output)}");
            }
            try
            {
                using var response = await client.GetAsync(BaseUrl + "/alive");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"The master did not answer on {BaseUrl}/alive within {StartTimeout}:\n{string.Join('\n', Output)}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private static string FindRepositoryRoot()
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
