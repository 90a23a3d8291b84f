namespace Decnet.Core.Events;

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
