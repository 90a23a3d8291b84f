using Decnet.Core.Events;

namespace Decnet.Core.Ingest;

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
