namespace Decnet.Core.Events;

/// <summary>Published on the notification hub after each committed ingest batch.</summary>
/// <param name="Count">Rows inserted by the batch (duplicates excluded).</param>
/// <param name="LastId">Highest <c>logs.Id</c> the batch wrote.</param>
/// <param name="Newest">The last few inserted events, newest first, for live views.</param>
public sealed record EventsIngested(int Count, long LastId, IReadOnlyList<EventSummary> Newest);

/// <summary>What a list of events shows: when, where, what and who.</summary>
public sealed record EventSummary(DateTime TimestampUtc, string Decky, string Service, string EventType, string? AttackerIp);

/// <summary>One line to ingest and the identity of its occurrence (event id, or a log source's position).</summary>
public readonly record struct IngestLine(string RawLine, string SourceId);

/// <summary>Counters of the ingest since start, for health and diagnostics.</summary>
public sealed record IngestCounters(
    long Ingested,
    long Duplicates,
    long Malformed,
    long Truncated,
    long Batches,
    bool Running,
    DateTimeOffset? LastBatchAt,
    string? LastError);
