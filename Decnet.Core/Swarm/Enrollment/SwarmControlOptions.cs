using System.ComponentModel.DataAnnotations;

namespace Decnet.Core.Swarm.Enrollment;

/// <summary>
/// <c>Decnet:Swarm</c>: the master's swarm controller (mutual TLS, heartbeats and CLI enrollment),
/// offline detection and the enrollment bundles.
/// </summary>
public sealed class SwarmControlOptions
{
    public const string Section = "Decnet:Swarm";

    /// <summary>False keeps the master purely local: no controller endpoint, no offline sweeper.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The controller's own Kestrel endpoint; always HTTPS with client certificates required.</summary>
    [Required]
    public string ControllerUrl { get; set; } = "https://0.0.0.0:8770";

    /// <summary>Workers heartbeat at this interval; three missed intervals make a host unreachable.</summary>
    [Range(1, 3600)]
    public int HeartbeatSeconds { get; set; } = AgentHostSettings.DefaultHeartbeatSeconds;

    /// <summary>Swarm CA folder; default <c>{data}/swarm/ca</c>.</summary>
    public string? CaDirectory { get; set; }

    /// <summary>
    /// The worker build shipped in enrollment bundles (the published Decnet.Agent folder). Default: the
    /// Decnet.Agent build next to the running web app.
    /// </summary>
    public string? AgentBuildDirectory { get; set; }

    /// <summary>Where pending bundles wait for their one download; default <c>{data}/swarm/bundles</c>.</summary>
    public string? BundleDirectory { get; set; }

    /// <summary>How long a bootstrap command stays valid.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan BundleLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Bundle downloads per client address per minute (the URLs are anonymous).</summary>
    [Range(1, 10_000)]
    public int BundleDownloadsPerMinute { get; set; } = 30;

    /// <summary>Largest heartbeat body accepted, in bytes.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxHeartbeatBytes { get; set; } = 4 * 1024 * 1024;

    public TimeSpan HeartbeatInterval => TimeSpan.FromSeconds(HeartbeatSeconds);

    /// <summary>Silence after which a host counts as unreachable (three intervals).</summary>
    public TimeSpan OfflineAfter => HeartbeatInterval * 3;

    public string ResolveCaDirectory(string dataPath) => Path.GetFullPath(CaDirectory ?? Path.Combine(dataPath, "swarm", "ca"));

    public string ResolveBundleDirectory(string dataPath) => Path.GetFullPath(BundleDirectory ?? Path.Combine(dataPath, "swarm", "bundles"));
}
