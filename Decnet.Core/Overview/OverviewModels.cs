using Decnet.Core.Events;
using Decnet.Core.Search;

namespace Decnet.Core.Overview;

/// <summary>One line of a top-N panel: a source address, service or decky, its events and the latest one.</summary>
public sealed record TopEntry(string Key, long Events, DateTime LastSeen);

/// <summary>A username/password pair attackers tried, and how many attempts carried it.</summary>
/// <param name="Username">Null when the service names no user (Redis <c>AUTH password</c>).</param>
public sealed record TopCredential(string? Username, string Password, long Attempts);

/// <summary>Everything the dashboard shows for one time window, computed once and pushed to every dashboard on it.</summary>
/// <param name="Histogram">Every bucket of the window, oldest first, empty ones as zero.</param>
public sealed record OverviewSnapshot(
    OverviewRange Range,
    DateTime From,
    DateTime To,
    long Events,
    int Attackers,
    IReadOnlyList<HistogramBucket> Histogram,
    IReadOnlyList<TopCredential> Credentials,
    IReadOnlyList<TopEntry> Sources,
    IReadOnlyList<TopEntry> Services,
    IReadOnlyList<TopEntry> Deckies);

/// <summary>The headline numbers and the newest events, with the attacker profile of each source address when it exists.</summary>
public sealed record LatestActivity(StatsSummary Stats, IReadOnlyList<EventSummary> Events, IReadOnlyDictionary<string, Guid> AttackerIds);

/// <summary>All-time hits of one decky and its latest event.</summary>
public sealed record DeckyActivity(long Hits, DateTime LastSeen);
