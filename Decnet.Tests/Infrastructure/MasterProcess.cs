using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Decnet.Tests.Infrastructure;

/// <summary>
/// The master as an operator starts it: a separate process in Production, configured through its
/// <c>DECNET_*</c> environment and command line, with its console captured. Three ways in:
/// <c>dotnet Decnet.Web.dll</c> from the build output (<see cref="Start"/>), the README's
/// <c>dotnet run --project Decnet.Web</c> from the repository root (<see cref="DotnetRunAsync"/>), and a
/// <c>dotnet publish</c> output started from its own folder (<see cref="PublishedAsync"/>).
/// </summary>
public sealed class MasterProcess : IDisposable, IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);
    private readonly Process _process;
    private readonly string? _baseUrl;
    private readonly ConcurrentQueue<string> _output = new();

    private MasterProcess(Process process, string? baseUrl)
    {
        _process = process;
        _baseUrl = baseUrl;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The dashboard address from DECNET_WEB_HOST and DECNET_WEB_PORT.</summary>
    public string BaseUrl => _baseUrl ?? throw new InvalidOperationException("DECNET_WEB_HOST and DECNET_WEB_PORT were not given.");

    /// <summary>Everything the process printed so far, one string.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Everything the process printed so far, line by line.</summary>
    public IReadOnlyList<string> Lines => [.. _output];

    public bool HasExited => _process.HasExited;

    /// <summary>The process id (its /proc entry: memory, open files).</summary>
    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    /// <summary>The repository checkout these tests were built from.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The build configuration of this test run (Debug from ./test.sh).</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary><c>dotnet Decnet.Web.dll</c> from the build output, returned as soon as it runs.</summary>
    public static MasterProcess Start(IReadOnlyDictionary<string, string> environment, IEnumerable<string>? arguments = null)
    {
        var dll = Assembly();
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)! };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments ?? [])
        {
            start.ArgumentList.Add(argument);
        }
        return Launch(start, environment);
    }

    /// <summary><c>dotnet run --project Decnet.Web</c> from the repository root, without rebuilding; returns once /alive answers.</summary>
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
        return StartAliveAsync(start, environment);
    }

    /// <summary>Publishes Decnet.Web (from the existing build) into <paramref name="folder"/>.</summary>
    public static async Task PublishAsync(string folder)
    {
        var (exitCode, output) = await Clients.RunAsync("dotnet",
            ["publish", Path.Combine(RepositoryRoot, "Decnet.Web", "Decnet.Web.csproj"), "--no-build", "-c", Configuration, "-o", folder, "-nologo"],
            TimeSpan.FromMinutes(5));
        Assert.True(exitCode == 0, "dotnet publish failed:\n" + output);
    }

    /// <summary>
    /// A published build, <c>dotnet Decnet.Web.dll</c>, started from its own folder unless
    /// <paramref name="workingDirectory"/> says otherwise; returns once /alive answers.
    /// </summary>
    public static Task<MasterProcess> PublishedAsync(string folder, IReadOnlyDictionary<string, string> environment, string? workingDirectory = null, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory ?? folder };
        start.ArgumentList.Add(Path.Combine(folder, "Decnet.Web.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return StartAliveAsync(start, environment);
    }

    /// <summary>A port that was free a moment ago on <paramref name="address"/>.</summary>
    public static int FreePort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A loopback address of its own and a free port on it.</summary>
    public static (string Host, int Port) FreeAddress()
    {
        var host = $"127.{Random.Shared.Next(100, 250)}.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(2, 250)}";
        return (host, FreePort(IPAddress.Parse(host)));
    }

    /// <summary>
    /// Environment for a master on <paramref name="host"/>:<paramref name="port"/> with its data and logs
    /// under <paramref name="root"/>. The swarm listeners (0.0.0.0:8770, :8771 and :6514 by default) move to
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
        ["Decnet__Swarm__EnrollmentUrl"] = $"https://{host}:0",
        ["Decnet__Swarm__SyslogUrl"] = $"{host}:0",
    };

    /// <summary>Waits for the process to exit by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Decnet.Web still runs after {timeout}; output:\n{Output}");
        }
        // The asynchronous readers may still hold the last lines.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until something accepts connections at the address, or fails with the process output.</summary>
    public async Task WaitForListeningAsync(IPAddress address, int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Decnet.Web exited with {_process.ExitCode}; output:\n{Output}");
            }
            if (await Clients.IsListeningAsync(address.ToString(), port))
            {
                return;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"Decnet.Web does not listen on {address}:{port} after {timeout}; output:\n{Output}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
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

    private static MasterProcess Launch(ProcessStartInfo start, IReadOnlyDictionary<string, string> environment)
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
        string? baseUrl = null;
        if (environment.TryGetValue("DECNET_WEB_HOST", out var host) && environment.TryGetValue("DECNET_WEB_PORT", out var port))
        {
            baseUrl = $"http://{host}:{port}";
        }
        return new MasterProcess(Process.Start(start) ?? throw new InvalidOperationException("Decnet.Web did not start"), baseUrl);
    }

    private static async Task<MasterProcess> StartAliveAsync(ProcessStartInfo start, IReadOnlyDictionary<string, string> environment)
    {
        var master = Launch(start, environment);
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
                throw new InvalidOperationException($"The master exited with {_process.ExitCode}:\n{Output}");
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
        throw new TimeoutException($"The master did not answer on {BaseUrl}/alive within {StartTimeout}:\n{Output}");
    }

    private static string Assembly()
    {
        // Decnet.Web's own build output, same configuration as these tests.
        var candidate = Path.Combine(RepositoryRoot, "Decnet.Web", "bin", Configuration,
            new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name, "Decnet.Web.dll");
        return File.Exists(candidate) ? candidate : throw new InvalidOperationException(candidate + " not found");
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
