namespace Decnet.Core.Notifications;

/// <summary>
/// Published when the master changes swarm shards or hosts (dispatch, teardown progress, decommission):
/// the Swarm Hosts page and the fleet's swarm view re-read once per change.
/// </summary>
/// <param name="HostId">The worker concerned; null when several changed at once.</param>
/// <param name="Reason">deployed, tearing_down, torn_down, teardown_failed, decommissioned.</param>
public sealed record ShardsChanged(Guid? HostId, string Reason);
