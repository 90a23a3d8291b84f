using System.Globalization;
using System.Text;
using Decnet.Agent.Serve;

namespace Decnet.Agent.SelfDestruct;

/// <summary>
/// What the reaper does: first it stops the processes the bootstrap started under decnet-supervise
/// where systemd does not run (pid files in <c>{state-dir}/run</c>: the forwarder and updater at once,
/// the agent's supervisor told not to restart it), then, once the agent is gone, it removes the install
/// tree, the settings folder (certificates, decnet.ini), the state folder (deployment, spool offset,
/// host keys), the decnet* unit files and decnet* commands. The log directory is always kept (it is
/// never inside a removed tree), and system folders are refused whatever the INI says, so a typo in
/// config-dir can never wipe /etc.
/// </summary>
public sealed record ReaperPlan(
    IReadOnlyList<string> Trees,
    string UnitsDirectory,
    string BinDirectory,
    string LogDirectory,
    string RunDirectory,
    IReadOnlyList<string> Skipped)
{
    /// <summary>Where decnet-supervise keeps its pid files, under the state folder.</summary>
    public const string RunFolder = "run";

    private static readonly HashSet<string> SystemFolders = new(StringComparer.Ordinal)
    {
        "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media", "/mnt", "/opt", "/proc",
        "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/local", "/usr/local/bin",
        "/usr/sbin", "/usr/share", "/var", "/var/lib", "/var/log", "/var/tmp", "/etc/systemd", "/etc/systemd/system",
    };

    public static ReaperPlan For(AgentServeSettings settings)
    {
        var log = Normal(settings.Host.LogDirectory);
        var trees = new List<string>();
        var skipped = new List<string>();
        foreach (var tree in new[] { settings.Host.InstallDirectory, settings.ConfigDirectory, settings.Host.StateDirectory }.Select(Normal).Distinct(StringComparer.Ordinal))
        {
            if (SystemFolders.Contains(tree) || IsWithin(log, tree))
            {
                skipped.Add(tree);
                continue;
            }
            trees.Add(tree);
        }
        return new ReaperPlan(trees, Normal(settings.UnitsDirectory), Normal(settings.BinDirectory), log,
            Normal(Path.Combine(settings.Host.StateDirectory, RunFolder)), skipped);
    }

    /// <summary>The POSIX shell script; <paramref name="agentPid"/> is waited for (bounded) before anything is removed.</summary>
    public string ToScript(int agentPid, string scriptDirectory)
    {
        var script = new StringBuilder();
        script.Append("#!/bin/sh\n");
        script.Append("# DECNET self-destruct reaper: runs detached from the agent and removes this worker's install.\n");
        script.Append(CultureInfo.InvariantCulture, $"mkdir -p {Quote(LogDirectory)}\n");
        script.Append(CultureInfo.InvariantCulture, $"exec </dev/null >>{Quote(Path.Combine(LogDirectory, "self-destruct.log"))} 2>&1\n");
        script.Append(CultureInfo.InvariantCulture, $"echo \"$(date -u +%Y-%m-%dT%H:%M:%SZ) reaper $$ started; waiting for agent {agentPid}\"\n");
        // Supervised processes (no systemd): the forwarder and updater stop now; the agent's supervisor
        // must not restart the agent, which tears its deckies down and exits on its own.
        script.Append(CultureInfo.InvariantCulture, $"for pidfile in {Quote(RunDirectory)}/*.pid; do\n");
        script.Append("  [ -e \"$pidfile\" ] || continue\n");
        script.Append("  name=$(basename \"$pidfile\" .pid)\n");
        script.Append(CultureInfo.InvariantCulture, $"  if [ \"$name\" = decnet-agent ]; then touch {Quote(RunDirectory)}/decnet-agent.stop; echo \"agent supervisor told not to restart\";\n");
        script.Append("  else kill -TERM \"$(cat \"$pidfile\")\" 2>/dev/null && echo \"stopped supervised $name\"; fi\n");
        script.Append("done\n");
        // The agent stops its units and exits on its own; a killed or hung agent delays this at most 60 s.
        script.Append(CultureInfo.InvariantCulture, $"i=0; while kill -0 {agentPid} 2>/dev/null && [ $i -lt 120 ]; do sleep 0.5; i=$((i+1)); done\n");
        script.Append("sleep 2\n");
        foreach (var tree in Trees)
        {
            script.Append(CultureInfo.InvariantCulture, $"rm -rf -- {Quote(tree)} && echo removed {Quote(tree)}\n");
        }
        script.Append(CultureInfo.InvariantCulture, $"rm -f -- {Quote(UnitsDirectory)}/decnet* {Quote(UnitsDirectory)}/*.wants/decnet*\n");
        script.Append(CultureInfo.InvariantCulture, $"rm -f -- {Quote(BinDirectory)}/decnet*\n");
        script.Append("if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemctl daemon-reload; systemctl reset-failed; fi\n");
        script.Append("echo \"$(date -u +%Y-%m-%dT%H:%M:%SZ) reaper done; logs kept\"\n");
        script.Append(CultureInfo.InvariantCulture, $"rm -rf -- {Quote(scriptDirectory)}\n");
        return script.ToString();
    }

    private static string Normal(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)) is { Length: > 0 } p ? p : "/";

    private static bool IsWithin(string path, string folder) =>
        string.Equals(path, folder, StringComparison.Ordinal) || path.StartsWith(folder + "/", StringComparison.Ordinal);

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
