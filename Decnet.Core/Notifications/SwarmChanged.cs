namespace Decnet.Core.Notifications;

/// <summary>
/// Something in the swarm changed: a host enrolled, heartbeated, went unreachable or was tombstoned, or
/// its shards were re-read from a heartbeat. Pages re-query once per message.
/// </summary>
public sealed record SwarmChanged(string Reason, Guid? HostId);

public static class SwarmChangeReasons
{
    public const string Enrolled = "enrolled";
    public const string Heartbeat = "heartbeat";
    public const string Active = "active";
    public const string Unreachable = "unreachable";
    public const string Tombstoned = "tombstoned";
    public const string Deployed = "deployed";
    public const string TearingDown = "tearing_down";
    public const string TornDown = "torn_down";
    public const string TeardownFailed = "teardown_failed";
    public const string Decommissioned = "decommissioned";

    /// <summary>A worker reported deckies placed elsewhere (or stopped reporting them): the strays changed.</summary>
    public const string Reconciling = "reconciling";
    public const string Mutated = "mutated";

    /// <summary>An enrolled host that never connected was removed when its enrollment expired.</summary>
    public const string Swept = "swept";
}
