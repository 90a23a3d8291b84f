namespace Decnet.Core.Events;

/// <summary>Published on the notification hub after each committed ingest batch.</summary>
/// <param name="Count">Rows inserted by the batch (duplicates excluded).</param>
/// <param name="LastId">Highest <c>logs.Id</c> the batch wrote.</param>
/// <param name="Newest">The last few inserted events, newest first, for live views.</param>
public sealed record EventsIngested(int Count, long LastId, IReadOnlyList<EventSummary> Newest);

/// <summary>What a list of events shows: when, where, what and who, plus the event's fields for chips.</summary>
/// <param name="Id"><c>logs.Id</c> when known (0 in ingest notifications).</param>
public sealed record EventSummary(
    DateTime TimestampUtc,
    string Decky,
    string Service,
    string EventType,
    string? AttackerIp,
    long Id = 0,
    IReadOnlyDictionary<string, string>? Fields = null)
{
    private static readonly IReadOnlyDictionary<string, string> NoFields = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> FieldsOrEmpty => Fields ?? NoFields;
}

/// <summary>One line to ingest and the identity of its occurrence (event id, or a log source's position).</summary>
/// <param name="RawLine">The RFC 5424 line as the source wrote it.</param>
/// <param name="SourceId">Identity of this occurrence; with the line it makes the row's idempotency key.</param>
/// <param name="Position">
/// Where a durable source (container log, spool file) stands after this line. The ingester stores it in
/// <c>pipeline_cursors</c> in the same transaction as the row, so the row and the position commit together.
/// </param>
public readonly record struct IngestLine(string RawLine, string SourceId, SourcePosition? Position = null);

/// <summary>A durable source's resume point: cursor name (at most 128 characters), offset and a note (file identity ...).</summary>
public readonly record struct SourcePosition(string Cursor, long Offset, string? Detail = null);

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
