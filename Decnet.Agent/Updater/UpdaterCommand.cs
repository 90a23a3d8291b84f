using System.Diagnostics;
using System.Globalization;
using System.Net;
using Decnet.Agent.Serve;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm.Updates;

namespace Decnet.Agent.Updater;

/// <summary>
/// <c>decnet-agent updater [--config PATH] [--port 8766] [--host ADDR] [--install-dir DIR] [--updater-dir DIR]
/// [--agent-dir DIR] [--restart auto|systemd|process] [--probe-attempts N] [--probe-delay-ms MS]</c>.
/// Folders default to decnet.ini's, then to DECNET_UPDATER_* variables given on the command line's absence.
/// </summary>
public static class UpdaterCommand
{
    public const int ExitOk = 0;
    public const int ExitUsage = 2;

    /// <summary>Set by a restarting updater on its successor: wait for that pid to let go of the port.</summary>
    public const string WaitForPidVariable = "DECNET_UPDATER_WAIT_PID";

    public const string Usage =
        """
        usage: decnet-agent updater [--config PATH] [--port PORT] [--host ADDR] [--install-dir DIR]
                                    [--updater-dir DIR] [--agent-dir DIR] [--restart auto|systemd|process]
                                    [--probe-attempts N] [--probe-delay-ms MS]
          Receives releases from the master (mutual TLS, master identity only), installs them under
          INSTALL-DIR/releases, restarts the agent and rolls back when it does not answer /health.
          Defaults: decnet.ini's install-dir, updater-dir and agent-dir; port 8766 ($DECNET_UPDATER_PORT);
          restart through systemd when it runs, else the updater runs the agent itself.
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, Func<string, string?> environment, TextWriter stderr)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] known = ["--config", "--port", "--host", "--install-dir", "--updater-dir", "--agent-dir", "--restart", "--probe-attempts", "--probe-delay-ms"];
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] is "-h" or "--help")
            {
                await stderr.WriteLineAsync(Usage);
                return ExitOk;
            }
            if (known.Contains(args[i]) && i + 1 < args.Count)
            {
                options[args[i]] = args[++i];
                continue;
            }
            await stderr.WriteLineAsync($"decnet-agent updater: unexpected argument '{args[i]}'.\n{Usage}");
            return ExitUsage;
        }

        var configPath = options.GetValueOrDefault("--config")
            ?? (environment(AgentServeSettings.ConfigVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : AgentServeSettings.DefaultConfigPath);
        AgentServeSettings serve;
        try
        {
            serve = AgentServeSettings.Parse(await File.ReadAllTextAsync(configPath));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"decnet-agent updater: cannot read {configPath}: {ex.Message}");
            return ExitUsage;
        }
        catch (IniValidationException ex)
        {
            foreach (var error in ex.Errors)
            {
                await stderr.WriteLineAsync($"decnet-agent updater: {configPath}: {error}");
            }
            return ExitUsage;
        }

        var errors = new List<string>();
        string Folder(string flag, string variable, string fallback)
        {
            var value = options.GetValueOrDefault(flag) ?? (environment(variable) is { Length: > 0 } v ? v : fallback);
            if (!Path.IsPathFullyQualified(value))
            {
                errors.Add($"{flag} must be an absolute path, not '{value}'");
            }
            return value;
        }
        int Number(string flag, string? variable, int fallback, int min, int max)
        {
            var text = options.GetValueOrDefault(flag) ?? (variable is not null ? environment(variable) : null);
            if (text is null)
            {
                return fallback;
            }
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }
            errors.Add($"{flag} must be a number {min}-{max}, not '{text}'");
            return fallback;
        }

        var listen = IPAddress.Any;
        var hostText = options.GetValueOrDefault("--host") ?? environment("DECNET_UPDATER_HOST");
        if (hostText is not null && !IPAddress.TryParse(hostText, out listen!))
        {
            errors.Add($"--host must be an IP address to listen on, not '{hostText}'");
        }
        var restartText = options.GetValueOrDefault("--restart") ?? "auto";
        RestartMode? restart = restartText switch
        {
            "systemd" => RestartMode.Systemd,
            "process" => RestartMode.Process,
            "auto" => Directory.Exists("/run/systemd/system") ? RestartMode.Systemd : RestartMode.Process,
            _ => null,
        };
        if (restart is null)
        {
            errors.Add($"--restart must be auto, systemd or process, not '{restartText}'");
        }

        var settings = new UpdaterSettings
        {
            Host = serve.Host,
            ConfigPath = Path.GetFullPath(configPath),
            ListenAddress = listen ?? IPAddress.Any,
            Port = Number("--port", "DECNET_UPDATER_PORT", UpdaterProtocol.DefaultPort, 1, 65535),
            InstallDirectory = Folder("--install-dir", "DECNET_UPDATER_INSTALL_DIR", serve.Host.InstallDirectory),
            UpdaterDirectory = Folder("--updater-dir", "DECNET_UPDATER_BUNDLE_DIR", serve.Host.UpdaterDirectory),
            AgentDirectory = Folder("--agent-dir", "DECNET_UPDATER_AGENT_DIR", serve.Host.AgentDirectory),
            Restart = restart ?? RestartMode.Process,
            ProbeAttempts = Number("--probe-attempts", null, 10, 1, 600),
            ProbeDelay = TimeSpan.FromMilliseconds(Number("--probe-delay-ms", null, 1000, 0, 60_000)),
            Arguments = [.. args],
        };
        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                await stderr.WriteLineAsync($"decnet-agent updater: {error}");
            }
            return ExitUsage;
        }

        var (identity, identityError) = UpdaterIdentity.Load(settings.UpdaterDirectory, serve.Host.Name);
        if (identity is null)
        {
            await stderr.WriteLineAsync($"decnet-agent updater: {identityError}");
            return ExitUsage;
        }

        await WaitForPredecessorAsync(environment(WaitForPidVariable));
        RecordPid(settings.UpdaterPidPath);
        using (identity)
        {
            await using var app = UpdaterApplication.Build(settings, identity);
            await app.RunAsync();
        }
        return ExitOk;
    }

    /// <summary>updater.pid names the running updater (a restart without systemd hands over to a new process).</summary>
    private static void RecordPid(string path)
    {
        try
        {
            File.WriteAllText(path, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Informational only.
        }
    }

    private static async Task WaitForPredecessorAsync(string? pidText)
    {
        if (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }
        try
        {
            using var predecessor = Process.GetProcessById(pid);
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await predecessor.WaitForExitAsync(limit.Token);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or OperationCanceledException)
        {
            // Gone already, or stuck: binding will tell.
        }
    }
}
