using System.ComponentModel;
using System.Diagnostics;
using Decnet.Agent.Api;
using Decnet.Agent.Serve;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Decnet.Agent.SelfDestruct;

/// <summary>
/// Wipes this worker when the master decommissions it. The reaper (a shell script, see
/// <see cref="ReaperPlan"/>) is started first, in a new session and outside the agent's cgroup, so it
/// survives whatever happens to the agent; it waits for the agent to end. Meanwhile the agent tears its
/// deckies down, disables and stops every decnet-* unit (when systemd runs) and exits.
/// </summary>
public sealed class SelfDestructor(
    AgentServeSettings settings,
    WorkerDeckies deckies,
    IHostApplicationLifetime lifetime,
    ILogger<SelfDestructor> logger)
{
    private readonly Lock _lock = new();
    private bool _launched;
    private int _started;

    public static bool SystemdRuns => Directory.Exists("/run/systemd/system");

    /// <summary>Starts the reaper once (later calls are no-ops); the error text when it cannot start.</summary>
    public (bool Launched, string? Error) LaunchReaper()
    {
        lock (_lock)
        {
            if (_launched)
            {
                return (true, null);
            }
            if (!OperatingSystem.IsLinux())
            {
                return (false, "Self-destruct is only supported on Linux workers.");
            }
            var plan = ReaperPlan.For(settings);
            foreach (var skipped in plan.Skipped)
            {
                logger.LogWarning("Self-destruct will not remove {Folder}: it is a system folder or holds the log directory", skipped);
            }
            try
            {
                var folder = Directory.CreateTempSubdirectory("decnet-reaper-").FullName;
                File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                var script = Path.Combine(folder, "reaper.sh");
                using (var stream = new FileStream(script, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                }))
                using (var writer = new StreamWriter(stream))
                {
                    writer.Write(plan.ToScript(Environment.ProcessId, folder));
                }
                Detach(script);
                _launched = true;
                logger.LogWarning("Self-destruct: reaper {Script} started; it removes {Trees}, decnet* units in {Units} and commands in {Bin}, keeping {Logs}",
                    script, string.Join(", ", plan.Trees), plan.UnitsDirectory, plan.BinDirectory, plan.LogDirectory);
                return (true, null);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Win32Exception or InvalidOperationException)
            {
                logger.LogError(ex, "Self-destruct: the reaper could not be started");
                return (false, $"The reaper could not be started: {ex.Message}");
            }
        }
    }

    /// <summary>Tears down, stops the units and ends the agent, in the background (once).</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            return;
        }
        _ = Task.Run(WipeAsync);
    }

    private async Task WipeAsync()
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await deckies.TeardownAsync(null, deadline.Token);
            logger.LogWarning("Self-destruct: every decky was torn down");
        }
        catch (Exception ex)
        {
            // Nothing stops the wipe: the reaper removes the install whether or not the deckies went down cleanly.
            logger.LogError(ex, "Self-destruct: the teardown failed");
        }
        try
        {
            await StopUnitsAsync();
        }
        catch (Exception ex) when (ex is IOException or Win32Exception or InvalidOperationException or OperationCanceledException)
        {
            logger.LogError(ex, "Self-destruct: stopping the decnet units failed");
        }
        logger.LogWarning("Self-destruct: the agent exits now");
        lifetime.StopApplication();
    }

    /// <summary>Disables and stops every decnet-* unit, this agent's own last (its stop ends this process).</summary>
    private async Task StopUnitsAsync()
    {
        var systemctl = FindOnPath("systemctl");
        if (systemctl is null || !SystemdRuns)
        {
            logger.LogInformation("Self-destruct: systemd is not running here; no units to stop");
            return;
        }
        var (_, listing) = await RunAsync(systemctl, ["list-units", "--all", "--plain", "--no-legend", "--no-pager", "decnet-*"]);
        var (_, files) = await RunAsync(systemctl, ["list-unit-files", "--plain", "--no-legend", "--no-pager", "decnet-*"]);
        var own = OwnUnit();
        var units = listing.Split('\n').Concat(files.Split('\n'))
            .Select(line => line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault())
            .Where(unit => unit is not null && unit.StartsWith("decnet", StringComparison.Ordinal))
            .Select(unit => unit!)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(unit => unit == own ? 1 : 0)
            .ToList();
        foreach (var unit in units)
        {
            var (exit, output) = await RunAsync(systemctl, ["disable", "--now", "--no-block", unit]);
            logger.LogWarning("Self-destruct: systemctl disable --now {Unit}: exit {Exit} {Output}", unit, exit, output.Trim());
        }
    }

    private static string? OwnUnit()
    {
        try
        {
            return File.ReadAllLines("/proc/self/cgroup")
                .Select(line => line.Split('/').LastOrDefault())
                .FirstOrDefault(name => name is not null && name.EndsWith(".service", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// A new session (setsid --fork) with stdio on /dev/null, and, where systemd runs, a transient scope so
    /// the reaper leaves the agent unit's cgroup and is not killed when the unit stops.
    /// </summary>
    private static void Detach(string script)
    {
        var setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("setsid is not installed (util-linux)");
        var systemdRun = FindOnPath("systemd-run");
        var command = systemdRun is not null && SystemdRuns
            ? $"exec {setsid} --fork {systemdRun} --scope --collect --quiet /bin/sh '{script}' </dev/null >/dev/null 2>&1"
            : $"exec {setsid} --fork /bin/sh '{script}' </dev/null >/dev/null 2>&1";
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using var launcher = Process.Start(start) ?? throw new InvalidOperationException("/bin/sh did not start");
        launcher.StandardInput.Close();
        if (!launcher.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            throw new InvalidOperationException("the reaper launcher did not return");
        }
        if (launcher.ExitCode != 0)
        {
            throw new InvalidOperationException($"the reaper launcher exited with {launcher.ExitCode}");
        }
    }

    /// <summary>The first executable <paramref name="name"/> on PATH (as the shell would run it), else the usual folders.</summary>
    private static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } value ? value : "/usr/bin:/bin";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin").Append("/bin")
            .Where(Path.IsPathRooted)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(IsExecutable);
    }

    private static bool IsExecutable(string file) =>
        !OperatingSystem.IsWindows() && File.Exists(file) && (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    private static async Task<(int Exit, string Output)> RunAsync(string file, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var errors = process.StandardError.ReadToEndAsync(deadline.Token);
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output + await errors);
    }
}
