namespace Decnet.Core.Swarm;

/// <summary>A worker machine enrolled into the swarm.</summary>
public sealed class SwarmHost
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string Name { get; set; }
    public string? Address { get; set; }
    public int AgentPort { get; set; } = 8765;
    public string Status { get; set; } = SwarmHostStatus.Enrolled;
    public DateTime? LastHeartbeat { get; set; }

    /// <summary>Lower-case hex SHA-256 of the worker's client certificate (DER).</summary>
    public required string ClientCertFingerprint { get; set; }
    public string? UpdaterCertFingerprint { get; set; }
    public string? CertBundlePath { get; set; }
    public DateTime EnrolledAt { get; set; } = DateTime.UtcNow;
    public string? Notes { get; set; }
    public bool UseIpvlan { get; set; }

    /// <summary>
    /// JSON list of deckies the worker reported running that the master placed elsewhere (or nowhere):
    /// it was told to tear them down. Null once its heartbeats match its placement.
    /// </summary>
    public string? StrayDeckies { get; set; }

    /// <summary>When the worker first reported the current strays.</summary>
    public DateTime? StraysSince { get; set; }

    public List<DeckyShard> Shards { get; set; } = [];
}

public static class SwarmHostStatus
{
    public const string Enrolled = "enrolled";
    public const string Active = "active";
    public const string Unreachable = "unreachable";
    public const string Decommissioned = "decommissioned";
}

/// <summary>A decky placed on a worker: the master's record of what the worker should run.</summary>
public sealed class DeckyShard
{
    public required string DeckyName { get; set; }
    public Guid HostId { get; set; }
    public SwarmHost? Host { get; set; }

    /// <summary>JSON list of service names.</summary>
    public string Services { get; set; } = "[]";

    /// <summary>Full serialised DeckyConfig snapshot; null on rows written before snapshots existed.</summary>
    public string? DeckyConfig { get; set; }
    public string? DeckyIp { get; set; }
    public string State { get; set; } = DeckyShardState.Pending;
    public string? LastError { get; set; }
    public DateTime? LastSeen { get; set; }
    public DateTime UpdatedAt { get; set; } = DateTime.UtcNow;
}

public static class DeckyShardState
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Degraded = "degraded";
    public const string Failed = "failed";
    public const string TearingDown = "tearing_down";
    public const string TeardownFailed = "teardown_failed";

    /// <summary>Never stored: shown for a shard whose worker is not active (see <see cref="SwarmOverview.EffectiveState"/>).</summary>
    public const string Unreachable = "unreachable";

    /// <summary>Every state a shard can be shown in, for validating filters.</summary>
    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        Pending, Running, Degraded, Failed, TearingDown, TeardownFailed, Unreachable,
    };
}

/// <summary>
/// A certificate fingerprint that may never authenticate again (decommissioned host). Kept after the
/// host row is gone so that a still-valid certificate cannot resurrect it.
/// </summary>
public sealed class RevokedFingerprint
{
    public required string Fingerprint { get; set; }
    public required string HostName { get; set; }
    public DateTime RevokedAt { get; set; } = DateTime.UtcNow;
    public string? Reason { get; set; }
}
