namespace Decnet.Core.Notifications;

/// <summary>Published on the notification hub after an ingest batch committed new bounties.</summary>
/// <param name="Count">Bounty rows inserted (already known bounties excluded).</param>
public sealed record BountiesFound(int Count);
