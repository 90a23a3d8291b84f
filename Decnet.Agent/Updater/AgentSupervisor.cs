using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Decnet.Agent.Updater;

/// <summary>
/// Restarts the worker agent on the release <c>current</c> points at: through systemd on an enrolled
/// worker, else by running <c>current/Decnet.Agent.dll serve</c> as a child (its pid in agent.pid).
/// </summary>
public sealed class AgentSupervisor(UpdaterSettings settings, ILogger<AgentSupervisor> logger) : IDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);
    private readonly Lock _lock = new();
    private Process? _agent;

    /// <summary>
    /// True while the agent can still come up: always under systemd (it restarts failed units), and
    /// while the child is alive otherwise, so a release whose agent crashes fails its probe at once.
    /// </summary>
    public bool MayBecomeHealthy
    {
        get
        {
            lock (_lock)
            {
                return settings.Restart == RestartMode.Systemd || _agent is { HasExited: false };
            }
        }
    }

    /// <summary>Without systemd, starts the agent when none from agent.pid is running (updater start-up).</summary>
    public void EnsureRunning()
    {
        if (settings.Restart == RestartMode.Process && FindRecorded() is null)
        {
            StartChild();
        }
    }

    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        if (settings.Restart == RestartMode.Systemd)
        {
            await SystemctlAsync("restart", "decnet-agent", cancellationToken);
            return;
        }
        await StopAsync();
        StartChild();
    }

    /// <summary>Stops the child agent (tests and shutdown); systemd-managed agents are left alone.</summary>
    public async Task StopAsync()
    {
        var running = FindRecorded();
        lock (_lock)
        {
            _agent = null;
        }
        if (running is null)
        {
            return;
        }
        using (running)
        {
            try
            {
                running.Kill(entireProcessTree: true);
                using var grace = new CancellationTokenSource(StopGrace);
                await running.WaitForExitAsync(grace.Token);
            }
            catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
            {
                logger.LogWarning("The agent (pid {Pid}) did not stop cleanly: {Reason}", running.Id, ex.Message);
            }
        }
    }

    /// <summary>Runs <c>systemctl verb unit</c>; a non-zero exit is an error with systemctl's own words.</summary>
    public static async Task SystemctlAsync(string verb, string unit, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("systemctl") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(verb);
        start.ArgumentList.Add(unit);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("systemctl could not be started");
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(limit.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"systemctl {verb} {unit} exited with {process.ExitCode}: {(await error).Trim()}");
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _agent?.Dispose();
        }
    }

    private void StartChild()
    {
        var entry = Path.Combine(settings.CurrentLink, "Decnet.Agent.dll");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, WorkingDirectory = settings.InstallDirectory };
        start.ArgumentList.Add(entry);
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(settings.ConfigPath);
        start.Environment["DOTNET_NOLOGO"] = "1";
        try
        {
            var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started");
            File.WriteAllText(settings.AgentPidPath, process.Id.ToString(CultureInfo.InvariantCulture));
            lock (_lock)
            {
                _agent = process;
            }
            logger.LogInformation("Started the agent from {Entry} (pid {Pid})", entry, process.Id);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException)
        {
            logger.LogError("The agent could not be started from {Entry}: {Reason}", entry, ex.Message);
        }
    }

    /// <summary>The agent agent.pid names, when that process still runs.</summary>
    private Process? FindRecorded()
    {
        lock (_lock)
        {
            if (_agent is { HasExited: false } own)
            {
                return Process.GetProcessById(own.Id);
            }
        }
        try
        {
            var text = File.ReadAllText(settings.AgentPidPath).Trim();
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                return null;
            }
            var process = Process.GetProcessById(pid);
            // A recycled pid belongs to someone else: only a dotnet or Decnet.Agent process is ours to stop.
            if (process.HasExited || process.ProcessName is not ("dotnet" or "Decnet.Agent"))
            {
                process.Dispose();
                return null;
            }
            return process;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }
}
