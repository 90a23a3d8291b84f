using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Events;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// What one service instance on one decky knows about its surroundings. The same context is built by
/// the embedded runtime (in-process) and by the agent's honeypot host mode (inside a service container).
/// </summary>
public sealed class ServiceContext
{
    /// <summary>The decky's name: HOSTNAME of every event.</summary>
    public required string DeckyName { get; init; }

    /// <summary>The hostname the decky presents to attackers (shell prompt, banners).</summary>
    public required string Hostname { get; init; }

    /// <summary>Distro slug of the decky (debian, ubuntu22, rocky9 ...), for personas.</summary>
    public string Distro { get; init; } = "debian";

    /// <summary>OS family the decky imitates (linux, windows, windows_server, bsd, embedded, cisco): what SNMP and banners describe.</summary>
    public string OsFamily { get; init; } = "linux";

    /// <summary>Archetype slug when the decky was built from one (printer, industrial-control ...), else null.</summary>
    public string? Archetype { get; init; }

    /// <summary>Persona keys of this service from the decky's <c>service_config</c>.</summary>
    public IReadOnlyDictionary<string, string> Persona { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Folder private to this decky's service: host keys, certificates, recordings.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>Root folder for captured artifacts; a service stores under <c>&lt;root&gt;/&lt;decky&gt;/&lt;service&gt;/</c>.</summary>
    public required string ArtifactsDirectory { get; init; }

    /// <summary>
    /// The disk quota captures of this service count against; shared by every service of the host. A
    /// context built without one uses the process-wide quota of <see cref="ArtifactsDirectory"/> with
    /// default limits, so no capture path is unbounded.
    /// </summary>
    public ArtifactQuota Artifacts
    {
        get => _artifacts ??= ArtifactQuota.Shared(ArtifactsDirectory);
        init => _artifacts = value;
    }

    private ArtifactQuota? _artifacts;

    public required IHoneypotEventSink Events { get; init; }
    public SessionLimits Limits { get; init; } = new();
    public TimeProvider Time { get; init; } = TimeProvider.System;
    public required ILoggerFactory LoggerFactory { get; init; }

    public string? PersonaValue(string key) => Persona.TryGetValue(key, out var value) && !string.IsNullOrEmpty(value) ? value : null;
}
