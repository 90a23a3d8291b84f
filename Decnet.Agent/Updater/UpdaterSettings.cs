using System.Net;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Updates;

namespace Decnet.Agent.Updater;

/// <summary>How the updater brings the agent (and itself) back after a release change.</summary>
public enum RestartMode
{
    /// <summary><c>systemctl restart decnet-agent</c> / <c>decnet-updater</c>.</summary>
    Systemd,

    /// <summary>No systemd: the updater runs the agent from <c>current/</c> as its own child process (tests, containers).</summary>
    Process,
}

/// <summary>
/// Everything <c>decnet-agent updater</c> needs: the enrolled worker settings from decnet.ini plus the
/// updater's own folders and knobs, each overridable on the command line so a test runs in a sandbox.
/// </summary>
public sealed record UpdaterSettings
{
    public required AgentHostSettings Host { get; init; }

    public required string ConfigPath { get; init; }

    public IPAddress ListenAddress { get; init; } = IPAddress.Any;

    public int Port { get; init; } = UpdaterProtocol.DefaultPort;

    /// <summary>Holds releases/{active,prev,active.new}, current and agent.pid.</summary>
    public required string InstallDirectory { get; init; }

    /// <summary>Holds ca.crt, updater.crt and updater.key.</summary>
    public required string UpdaterDirectory { get; init; }

    /// <summary>Holds the agent's worker.crt (the server certificate the health probe pins).</summary>
    public required string AgentDirectory { get; init; }

    public RestartMode Restart { get; init; } = RestartMode.Systemd;

    /// <summary>Health probes of the restarted agent before the release counts as failed.</summary>
    public int ProbeAttempts { get; init; } = 10;

    public TimeSpan ProbeDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The arguments this updater was started with, for re-executing itself without systemd.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    public string ReleasesDirectory => Path.Combine(InstallDirectory, "releases");

    public string CurrentLink => Path.Combine(InstallDirectory, "current");

    public string AgentPidPath => Path.Combine(InstallDirectory, "agent.pid");

    public string UpdaterPidPath => Path.Combine(InstallDirectory, "updater.pid");

    public Uri AgentHealthUri => new($"https://127.0.0.1:{Host.AgentPort}/health");
}
