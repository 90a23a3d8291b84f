namespace Decnet.Core.Deckies;

/// <summary>
/// A machine role a decky can impersonate: the services such a machine would expose, the distros it
/// is plausibly built on, and the OS family its TCP/IP stack should resemble.
/// </summary>
public sealed record Archetype(
    string Slug,
    string DisplayName,
    string Description,
    IReadOnlyList<string> Services,
    IReadOnlyList<string> PreferredDistros,
    string NmapOs);

/// <summary>The fixed set of archetype presets an INI or the UI can name.</summary>
public static class Archetypes
{
    public static IReadOnlyList<Archetype> All { get; } =
    [
        new("windows-workstation", "Windows Workstation",
            "An office desktop sharing files and accepting remote desktop sessions.",
            ["smb", "rdp"], ["debian", "ubuntu22"], OsProfiles.WindowsSlug),
        new("windows-server", "Windows Server",
            "A member server with file shares, remote desktop and directory lookups.",
            ["smb", "rdp", "ldap"], ["debian", "ubuntu22"], OsProfiles.WindowsSlug),
        new("domain-controller", "Domain Controller",
            "The identity core of a Windows domain; name-resolution chatter makes it a magnet for poisoners.",
            ["ldap", "smb", "rdp", "llmnr"], ["debian", "ubuntu22"], OsProfiles.WindowsSlug),
        new("linux-server", "Linux Server",
            "A general-purpose Linux box administered over SSH with a small web front.",
            ["ssh", "http"], ["debian", "ubuntu22", "rocky9", "fedora"], OsProfiles.LinuxSlug),
        new("web-server", "Web Server",
            "A public-facing web host that still offers FTP for content uploads.",
            ["http", "ftp"], ["debian", "ubuntu22", "ubuntu20"], OsProfiles.LinuxSlug),
        new("database-server", "Database Server",
            "A data tier with relational and key-value stores listening on their default ports.",
            ["mysql", "postgres", "redis"], ["debian", "ubuntu22"], OsProfiles.LinuxSlug),
        new("mail-server", "Mail Server",
            "A mail relay with mailbox access for users, a classic target for credential stuffing.",
            ["smtp", "pop3", "imap"], ["debian", "ubuntu22"], OsProfiles.LinuxSlug),
        new("file-server", "File Server",
            "A storage box reachable over SMB, FTP and SSH.",
            ["smb", "ftp", "ssh"], ["debian", "ubuntu22", "rocky9"], OsProfiles.LinuxSlug),
        new("printer", "Network Printer",
            "A multifunction printer with SNMP management and an FTP drop for scan jobs.",
            ["snmp", "ftp"], ["alpine", "debian"], OsProfiles.EmbeddedSlug),
        new("iot-device", "IoT Device",
            "A small connected gadget speaking MQTT with a forgotten telnet console.",
            ["mqtt", "snmp", "telnet"], ["alpine"], OsProfiles.EmbeddedSlug),
        new("industrial-control", "Industrial Controller",
            "A PLC-style controller exposing industrial protocols on the plant network.",
            ["conpot", "snmp"], ["debian"], OsProfiles.EmbeddedSlug),
        new("voip-server", "VoIP Server",
            "A telephony server answering SIP registrations.",
            ["sip"], ["debian", "ubuntu22"], OsProfiles.LinuxSlug),
        new("monitoring-node", "Monitoring Node",
            "A metrics collector polling the network over SNMP, managed over SSH.",
            ["snmp", "ssh"], ["debian", "rocky9"], OsProfiles.LinuxSlug),
        new("devops-host", "DevOps Host",
            "A build or orchestration box with exposed container and cluster APIs.",
            ["docker_api", "ssh", "k8s"], ["ubuntu22", "debian"], OsProfiles.LinuxSlug),
        new("deaddeck", "Deaddeck (entry point)",
            "A deliberately reachable SSH host with a real interactive shell, meant as the first foothold.",
            ["ssh"], ["debian", "ubuntu22"], OsProfiles.LinuxSlug),
    ];

    public static IReadOnlyList<string> Slugs { get; } = [.. All.Select(a => a.Slug)];

    /// <summary>The archetype with this slug (case-insensitive), or null.</summary>
    public static Archetype? Find(string? slug) =>
        string.IsNullOrWhiteSpace(slug)
            ? null
            : All.FirstOrDefault(a => string.Equals(a.Slug, slug.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <exception cref="KeyNotFoundException">No archetype has this slug; the message lists the valid ones.</exception>
    public static Archetype Get(string slug) =>
        Find(slug) ?? throw new KeyNotFoundException(UnknownMessage(slug));

    public static Archetype PickRandom(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return All[random.Next(All.Count)];
    }

    internal static string UnknownMessage(string? slug) =>
        $"unknown archetype '{slug}'; valid archetypes: {string.Join(", ", Slugs)}";
}
