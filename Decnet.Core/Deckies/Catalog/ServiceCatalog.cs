using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Deckies;

/// <summary>A honeypot service a decky can expose, as the deployment model knows it.</summary>
/// <param name="PersonaKeys">The <c>service_config</c> keys the service reads to shape its persona.</param>
/// <param name="FleetSingleton">
/// Runs once for the whole fleet rather than on a decky; never assigned to a decky, picked at random
/// or rotated in by the mutator.
/// </param>
public sealed record CatalogService(
    string Name,
    string Description,
    IReadOnlyList<ServicePort> Ports,
    IReadOnlyList<string> PersonaKeys,
    bool FleetSingleton = false)
{
    public bool ReadsPersonaKey(string key) => PersonaKeys.Contains(key, StringComparer.OrdinalIgnoreCase);
}

/// <summary>
/// A bring-your-own service declared by a <c>[custom-&lt;name&gt;]</c> INI section: a prebuilt image
/// the runtime starts next to the decky, with no build step and no persona keys.
/// </summary>
/// <param name="Image">Container image (the INI key is <c>binary</c>).</param>
/// <param name="Command">The <c>exec</c> command split on whitespace; empty means the image's own entry point.</param>
public sealed record CustomService(
    string Name,
    string Image,
    IReadOnlyList<string> Command,
    IReadOnlyList<ServicePort> Ports);

/// <summary>Every built-in honeypot service: ports, persona keys, and which ones a decky may carry.</summary>
public static class ServiceCatalog
{
    private static readonly ServicePort[] _noPorts = [];

    private static readonly string[] _httpPersona =
        ["server_header", "response_code", "fake_app", "extra_headers", "custom_body", "files"];

    private static readonly string[] _shellPersona = ["password", "hostname"];

    private static readonly string[] _mailPersona = ["banner", "mta"];

    /// <summary>The Windows identity (NTLM challenges, directory names) shared by the Windows-family services.</summary>
    private static readonly string[] _windowsPersona = ["domain", "netbios_domain"];

    public static IReadOnlyList<CatalogService> All { get; } =
    [
        new("ssh", "OpenSSH server with password logins and a lived-in shell",
            [Tcp(22)], [.. _shellPersona, "users", "failure_delay_ms", "max_auth_tries", "openssh_version"]),
        new("telnet", "Telnet login console", [Tcp(23)], _shellPersona),
        // The web persona listens on 80 only; TLS is the separate https service.
        new("http", "Web server with selectable fake applications", [Tcp(80)], _httpPersona),
        new("https", "Web server over TLS with a self-signed or supplied certificate",
            [Tcp(443)], [.. _httpPersona, "tls_cert", "tls_key", "tls_cn"]),
        new("ftp", "FTP server that accepts any login and shows a bait filesystem", [Tcp(21)], []),
        new("smb", "SMB2/3 file server that captures NetNTLMv2 hashes and lists one bait share",
            [Tcp(445), Tcp(139)], [.. _windowsPersona, "share", "share_comment"]),
        new("rdp", "Remote desktop with Network Level Authentication that captures NetNTLMv2 hashes",
            [Tcp(3389)], [.. _windowsPersona, "tls_cert", "tls_key", "tls_cn"]),
        new("vnc", "VNC server that captures the authentication response", [Tcp(5900)], []),
        new("mysql", "MySQL server that rejects every login", [Tcp(3306)], ["version"]),
        new("mssql", "Microsoft SQL Server login endpoint that decodes passwords and captures NetNTLMv2 hashes",
            [Tcp(1433)], ["version", .. _windowsPersona]),
        new("postgres", "PostgreSQL server that captures MD5 password hashes", [Tcp(5432)], []),
        new("redis", "Redis server answering a subset of commands", [Tcp(6379)], ["version", "os_string"]),
        new("mongodb", "MongoDB server answering handshake and listing commands", [Tcp(27017)], []),
        new("elasticsearch", "Elasticsearch 7 REST API", [Tcp(9200)], []),
        new("ldap", "Active Directory LDAP that captures binds and serves a searchable domain tree",
            [Tcp(389), Tcp(636)], [.. _windowsPersona, "users", "accept_binds", "anonymous_search", "tls_cert", "tls_key", "tls_cn"]),
        new("snmp", "SNMP agent answering system OIDs", [Udp(161)], []),
        new("sip", "SIP registrar that challenges every request", [Udp(5060), Tcp(5060)], []),
        new("tftp", "TFTP server that refuses every transfer", [Udp(69)], []),
        new("llmnr", "LLMNR, mDNS and NetBIOS name service that records who asks for which name",
            [Udp(5355), Udp(5353), Udp(137)], _windowsPersona),
        new("mqtt", "MQTT broker with retained industrial topics", [Tcp(1883)], []),
        new("imap", "IMAP mail store with bait messages", [Tcp(143), Tcp(993)], []),
        new("pop3", "POP3 mail store with bait messages", [Tcp(110), Tcp(995)], []),
        new("smtp", "Mail server that harvests AUTH credentials", [Tcp(25), Tcp(587)], _mailPersona),
        new("smtp_relay", "Mail server posing as an open relay", [Tcp(25), Tcp(587)], _mailPersona),
        new("docker_api", "Unauthenticated Docker Engine API", [Tcp(2375), Tcp(2376)], []),
        new("k8s", "Kubernetes API server over plain HTTP", [Tcp(6443), Tcp(8080)], []),
        new("conpot", "Industrial control system (Modbus, SNMP, web HMI)", [Tcp(502), Udp(161), Tcp(80)], []),
        new("sniffer", "Passive TLS fingerprinting of traffic to the whole fleet", _noPorts, [], FleetSingleton: true),
    ];

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(s => s.Name)];

    /// <summary>Services a decky can carry: the pool for random picks and for mutation. Excludes fleet singletons.</summary>
    public static IReadOnlyList<string> PerDeckyServiceNames { get; } =
        [.. All.Where(s => !s.FleetSingleton).Select(s => s.Name)];

    public static CatalogService? Find(string? name) =>
        string.IsNullOrWhiteSpace(name)
            ? null
            : All.FirstOrDefault(s => string.Equals(s.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <exception cref="KeyNotFoundException">No service has this name; the message lists the valid ones.</exception>
    public static CatalogService Get(string name) =>
        Find(name) ?? throw new KeyNotFoundException(UnknownMessage(name, []));

    /// <summary>True for a built-in service a decky can carry (not a fleet singleton).</summary>
    public static bool IsPerDeckyService(string? name) => Find(name) is { FleetSingleton: false };

    internal static string UnknownMessage(string? name, IEnumerable<string> customNames) =>
        $"unknown service '{name}'; valid services: {string.Join(", ", PerDeckyServiceNames.Concat(customNames))}";

    private static ServicePort Tcp(int port) => new(port, ServiceTransport.Tcp);

    private static ServicePort Udp(int port) => new(port, ServiceTransport.Udp);
}
