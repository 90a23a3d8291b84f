namespace Decnet.Core.Deckies;

/// <summary>
/// The current deployment: the network the deckies live on. The database is the one source of truth
/// for deployment state; a deploy replaces this row's decky set.
/// </summary>
public sealed class DeploymentRecord
{
    public const int CurrentId = 1;

    public int Id { get; set; } = CurrentId;
    public string Mode { get; set; } = "unihost";
    public string Interface { get; set; } = "";
    public string Subnet { get; set; } = "";
    public string Gateway { get; set; } = "";
    public bool Ipvlan { get; set; }
    public int? MutateIntervalMinutes { get; set; }
    public string? IniText { get; set; }
    public DateTime DeployedAt { get; set; } = DateTime.UtcNow;
    public string? DeployedBy { get; set; }

    public List<DeckyRecord> Deckies { get; set; } = [];
}

/// <summary>One deployed decky as stored.</summary>
public sealed class DeckyRecord
{
    public required string Name { get; set; }
    public int DeploymentId { get; set; } = DeploymentRecord.CurrentId;
    public required string Ip { get; set; }
    public required string Hostname { get; set; }
    public string Distro { get; set; } = "debian";
    public string BaseImage { get; set; } = "debian:bookworm-slim";
    public string BuildBase { get; set; } = "debian:bookworm-slim";
    public string? Archetype { get; set; }

    /// <summary>JSON list of service names.</summary>
    public string Services { get; set; } = "[]";

    /// <summary>JSON object: service name → persona settings.</summary>
    public string ServiceConfig { get; set; } = "{}";

    /// <summary>JSON list of the decky's bring-your-own service definitions (the snapshot's <c>custom_services</c>).</summary>
    public string CustomServices { get; set; } = "[]";
    public string NmapOs { get; set; } = "linux";
    public int? MutateIntervalMinutes { get; set; }
    public DateTime? LastMutated { get; set; }
    public Guid? HostId { get; set; }
}
