using System.ComponentModel.DataAnnotations;

namespace Decnet.Core.Swarm.Updates;

/// <summary><c>Decnet:Swarm:Updates</c>, part of <see cref="SwarmOptions"/>: how the master reaches worker updaters.</summary>
public sealed class SwarmUpdateOptions
{
    /// <summary>The updater port on every worker (DECNET_UPDATER_PORT there).</summary>
    [Range(1, 65535)]
    public int UpdaterPort { get; set; } = UpdaterProtocol.DefaultPort;

    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>/health and /releases.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>/update: upload, unpack, agent restart, probes and possibly the rollback's.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan UpdateTimeout { get; set; } = TimeSpan.FromSeconds(240);

    /// <summary>/update-self and /rollback.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan ControlTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Updaters called at once by one push.</summary>
    [Range(1, 64)]
    public int MaxParallelHosts { get; set; } = 8;
}
