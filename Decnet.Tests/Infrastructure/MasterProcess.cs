using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Decnet.Tests.Infrastructure;

/// <summary>
/// <c>dotnet Decnet.Web.dll</c> as an operator runs it: a separate process configured through its
/// <c>DECNET_*</c> environment and command line, in Production, with its console captured.
/// </summary>
public sealed class MasterProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private MasterProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    /// <summary>The process id (its /proc entry: memory, open files).</summary>
    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    public static MasterProcess Start(IReadOnlyDictionary<string, string> environment, IEnumerable<string>? arguments = null)
    {
        var dll = Assembly();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments ?? [])
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("DECNET_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        return new MasterProcess(Process.Start(start) ?? throw new InvalidOperationException("Decnet.Web did not start"));
    }

    /// <summary>A port that was free a moment ago on <paramref name="address"/>.</summary>
    public static int FreePort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

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

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > 200)
        {
            _output.TryDequeue(out _);
        }
    }

    private static string Assembly()
    {
        // Decnet.Web's own build output, same configuration as these tests.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        for (var directory = testOutput; directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "Decnet.Web", "bin", configuration, framework, "Decnet.Web.dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("Decnet.Web.dll not found next to " + AppContext.BaseDirectory);
    }
}
