using System.ComponentModel.DataAnnotations;

namespace Decnet.Core.Swarm.Dispatch;

/// <summary>How the master calls worker agents: <c>Decnet:Swarm:Agent</c>, part of <see cref="SwarmOptions"/>.</summary>
public sealed class AgentClientOptions
{
    /// <summary>A deploy may build images and start many containers on the worker.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan DeployTimeout { get; set; } = TimeSpan.FromSeconds(600);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan DeployConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Status, teardown, mutate, self-destruct and health.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ControlTimeout { get; set; } = TimeSpan.FromSeconds(15);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan ControlConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Retries after a transient failure (connection refused or reset, 502/503/504); never after an answer.</summary>
    [Range(0, 5)]
    public int RetryAttempts { get; set; } = 2;

    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Worker calls in flight at once from one master (dispatch fan-out and background teardowns).</summary>
    [Range(1, 256)]
    public int MaxConcurrentCalls { get; set; } = 16;
}
