namespace Decnet.Core.Events;

/// <summary>One event captured from a decky's service, as stored for search.</summary>
public sealed class LogEntry
{
    public long Id { get; set; }
    public DateTime Timestamp { get; set; }
    public required string Decky { get; set; }
    public required string Service { get; set; }
    public required string EventType { get; set; }
    public string? AttackerIp { get; set; }
    public required string RawLine { get; set; }

    /// <summary>Structured-data parameters as a JSON object.</summary>
    public string Fields { get; set; } = "{}";
    public string? Msg { get; set; }

    /// <summary>OpenTelemetry ids of the ingest that wrote this row, linked by the live stream.</summary>
    public string? TraceId { get; set; }
    public string? SpanId { get; set; }

    /// <summary>Content-derived identity of the event: a replay after a crash inserts nothing twice.</summary>
    public string? EventKey { get; set; }
}
