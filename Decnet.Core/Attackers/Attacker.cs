namespace Decnet.Core.Attackers;

/// <summary>Everything known about one source address that touched a decky.</summary>
public sealed class Attacker
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string Ip { get; set; }
    public DateTime FirstSeen { get; set; }
    public DateTime LastSeen { get; set; }
    public int EventCount { get; set; }
    public int ServiceCount { get; set; }
    public int DeckyCount { get; set; }

    /// <summary>JSON list of service names.</summary>
    public string Services { get; set; } = "[]";

    /// <summary>JSON list of decky names.</summary>
    public string Deckies { get; set; } = "[]";
    public string? TraversalPath { get; set; }
    public bool IsTraversal { get; set; }
    public int BountyCount { get; set; }
    public int CredentialCount { get; set; }

    /// <summary>JSON list of fingerprint bounties.</summary>
    public string Fingerprints { get; set; } = "[]";

    /// <summary>JSON list of commands run on deckies.</summary>
    public string Commands { get; set; } = "[]";
    public DateTime UpdatedAt { get; set; }

    public AttackerBehavior? Behavior { get; set; }
}

/// <summary>The behaviour profile of an attacker: one row per attacker.</summary>
public sealed class AttackerBehavior
{
    public Guid AttackerId { get; set; }
    public string? OsGuess { get; set; }
    public int? HopDistance { get; set; }
    public string? TcpFingerprint { get; set; }
    public int RetransmitCount { get; set; }
    public string? BehaviorClass { get; set; }
    public double? BeaconIntervalSeconds { get; set; }
    public double? BeaconJitterPct { get; set; }
    public string ToolGuesses { get; set; } = "[]";
    public string? TimingStats { get; set; }
    public string? PhaseSequence { get; set; }
    public DateTime UpdatedAt { get; set; }
}
