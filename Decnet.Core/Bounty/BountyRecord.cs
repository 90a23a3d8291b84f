namespace Decnet.Core.Bounty;

/// <summary>Something valuable an attacker left behind: a credential, a fingerprint, a payload.</summary>
public sealed class BountyRecord
{
    public long Id { get; set; }
    public DateTime Timestamp { get; set; }
    public required string Decky { get; set; }
    public required string Service { get; set; }
    public string? AttackerIp { get; set; }
    public required string BountyType { get; set; }

    /// <summary>The bounty's content as a JSON object.</summary>
    public string Payload { get; set; } = "{}";

    /// <summary>Hash of type, attacker and payload: the same bounty is stored once.</summary>
    public string? DedupKey { get; set; }
}
