namespace Decnet.Core.Deckies;

/// <summary>
/// The kernel TCP/IP settings that make a decky's stack answer fingerprinting probes (nmap -O, p0f)
/// like a given OS family. Set on the base container only: service containers share its network
/// namespace and inherit them.
/// </summary>
/// <param name="Sysctls">Ten <c>net.ipv4.*</c> sysctls with their values as the container API expects them (strings).</param>
public sealed record OsProfile(string Slug, string DisplayName, IReadOnlyDictionary<string, string> Sysctls);

/// <summary>The OS families a decky can imitate.</summary>
public static class OsProfiles
{
    public const string LinuxSlug = "linux";
    public const string WindowsSlug = "windows";
    public const string WindowsServerSlug = "windows_server";
    public const string BsdSlug = "bsd";
    public const string EmbeddedSlug = "embedded";
    public const string CiscoSlug = "cisco";

    public static OsProfile Linux { get; } = Create(LinuxSlug, "Linux",
        ttl: 64, synRetries: 6, timestamps: 1, windowScaling: 1, sack: 1, ecn: 2, noPmtuDisc: 0, finTimeout: 60, icmpRateLimit: 1000, icmpRateMask: 6168);

    // Windows answers with TCP timestamps when the peer offers them, and nmap's probes do, so
    // timestamps stay on; turning them off made the fingerprint read as an embedded device.
    public static OsProfile Windows { get; } = Create(WindowsSlug, "Windows",
        ttl: 128, synRetries: 2, timestamps: 1, windowScaling: 1, sack: 1, ecn: 0, noPmtuDisc: 0, finTimeout: 30, icmpRateLimit: 0, icmpRateMask: 0);

    // Server editions share the desktop stack; sysctls cannot tell them apart, so the values are
    // the Windows ones and the slug only lets banners and the UI say "server".
    public static OsProfile WindowsServer { get; } = Windows with { Slug = WindowsServerSlug, DisplayName = "Windows Server" };

    public static OsProfile Bsd { get; } = Create(BsdSlug, "BSD",
        ttl: 64, synRetries: 6, timestamps: 1, windowScaling: 1, sack: 1, ecn: 0, noPmtuDisc: 0, finTimeout: 60, icmpRateLimit: 250, icmpRateMask: 6168);

    public static OsProfile Embedded { get; } = Create(EmbeddedSlug, "Embedded device",
        ttl: 255, synRetries: 3, timestamps: 0, windowScaling: 0, sack: 0, ecn: 0, noPmtuDisc: 1, finTimeout: 15, icmpRateLimit: 0, icmpRateMask: 0);

    public static OsProfile Cisco { get; } = Create(CiscoSlug, "Cisco IOS",
        ttl: 255, synRetries: 2, timestamps: 0, windowScaling: 0, sack: 0, ecn: 0, noPmtuDisc: 1, finTimeout: 15, icmpRateLimit: 0, icmpRateMask: 0);

    public static IReadOnlyList<OsProfile> All { get; } = [Linux, Windows, WindowsServer, Bsd, Embedded, Cisco];

    public static IReadOnlyList<string> Slugs { get; } = [.. All.Select(p => p.Slug)];

    /// <summary>The profile with this slug, or null.</summary>
    public static OsProfile? Find(string? slug) =>
        string.IsNullOrWhiteSpace(slug)
            ? null
            : All.FirstOrDefault(p => string.Equals(p.Slug, Canonical(slug), StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The profile with this slug; an unknown slug gets the Linux profile, because a stored snapshot
    /// from a newer master must still deploy rather than fail on a family this version lacks.
    /// </summary>
    public static OsProfile Get(string? slug) => Find(slug) ?? Linux;

    // "windows-server" is how people write it next to archetype slugs; accept both spellings.
    private static string Canonical(string slug) => slug.Trim().Replace('-', '_');

    private static OsProfile Create(
        string slug, string displayName, int ttl, int synRetries, int timestamps, int windowScaling, int sack,
        int ecn, int noPmtuDisc, int finTimeout, int icmpRateLimit, int icmpRateMask)
    {
        var sysctls = new Dictionary<string, int>
        {
            ["net.ipv4.ip_default_ttl"] = ttl,
            ["net.ipv4.tcp_syn_retries"] = synRetries,
            ["net.ipv4.tcp_timestamps"] = timestamps,
            ["net.ipv4.tcp_window_scaling"] = windowScaling,
            ["net.ipv4.tcp_sack"] = sack,
            ["net.ipv4.tcp_ecn"] = ecn,
            ["net.ipv4.ip_no_pmtu_disc"] = noPmtuDisc,
            ["net.ipv4.tcp_fin_timeout"] = finTimeout,
            ["net.ipv4.icmp_ratelimit"] = icmpRateLimit,
            ["net.ipv4.icmp_ratemask"] = icmpRateMask,
        };
        return new OsProfile(
            slug,
            displayName,
            sysctls.ToDictionary(kv => kv.Key, kv => kv.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)).AsReadOnly());
    }
}
