namespace Decnet.Core.Events;

/// <summary>A persisted position of a background worker (ingest offset, profiler cursor ...).</summary>
public sealed class PipelineCursor
{
    public required string Name { get; set; }
    public long Position { get; set; }
    public string? Detail { get; set; }
    public DateTime UpdatedAt { get; set; } = DateTime.UtcNow;
}
