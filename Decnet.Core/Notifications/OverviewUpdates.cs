using Decnet.Core.Overview;

namespace Decnet.Core.Notifications;

/// <summary>Published when a watched window's snapshot was recomputed.</summary>
public sealed record OverviewUpdated(OverviewSnapshot Snapshot);

/// <summary>Published when the headline numbers and the newest events were recomputed.</summary>
public sealed record LatestActivityUpdated(LatestActivity Activity);

/// <summary>Published when the per-decky hit counts were recomputed; keyed by decky name (case-insensitive).</summary>
public sealed record DeckyActivityUpdated(IReadOnlyDictionary<string, DeckyActivity> Deckies);
