namespace Decnet.Core.Notifications;

/// <summary>Published on the notification hub after the profiler committed changes to these attackers.</summary>
public sealed record AttackerUpdated(IReadOnlyList<string> Ips);
