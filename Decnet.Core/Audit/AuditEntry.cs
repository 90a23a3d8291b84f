namespace Decnet.Core.Audit;

/// <summary>Who changed what: user management, config, deploys, mutations, teardowns.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTime Timestamp { get; set; } = DateTime.UtcNow;
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public string? Target { get; set; }
    public string? Detail { get; set; }
}
