using System.Text.Json;
using System.Text.Json.Serialization;
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
/// the runtime starts next to the decky, with no build step and no persona keys. It travels inside the
/// decky's snapshot (to the database, the base container's label and swarm workers), so every field has a
/// fixed snake_case JSON name.
/// </summary>
/// <param name="Image">Container image (the INI key is <c>binary</c>).</param>
/// <param name="Command">The <c>exec</c> command split on whitespace; empty means the image's own entry point.</param>
/// <param name="Ports">What the service listens on inside the decky, as <c>9000/tcp</c> in JSON.</param>
public sealed record CustomService(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("command")] IReadOnlyList<string> Command,
    [property: JsonPropertyName("ports"), JsonConverter(typeof(ServicePortListJsonConverter))] IReadOnlyList<ServicePort> Ports)
{
    /// <summary>Value equality, lists included (a record alone would compare them by reference).</summary>
    public bool Equals(CustomService? other) =>
        other is not null
        && Name == other.Name
        && Image == other.Image
        && Command.SequenceEqual(other.Command, StringComparer.Ordinal)
        && Ports.SequenceEqual(other.Ports);

    public override int GetHashCode() => HashCode.Combine(Name, Image, Command.Count, Ports.Count);
}

/// <summary>Ports as the strings operators write in the INI (<c>["9000/tcp", "5353/udp"]</c>).</summary>
public sealed class ServicePortListJsonConverter : JsonConverter<IReadOnlyList<ServicePort>>
{
    public override IReadOnlyList<ServicePort> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("ports must be an array of \"port/tcp\" or \"port/udp\" strings");
        }
        var ports = new List<ServicePort>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var text = reader.TokenType == JsonTokenType.String ? reader.GetString() ?? string.Empty : string.Empty;
            var parts = text.Split('/', 2);
            if (!int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
                || port is < 1 or > 65535
                || parts.Length != 2
                || parts[1] is not ("tcp" or "udp"))
            {
                throw new JsonException($"'{text}' is not a port such as \"9000/tcp\"");
            }
            ports.Add(new ServicePort(port, parts[1] == "udp" ? ServiceTransport.Udp : ServiceTransport.Tcp));
        }
        return ports;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<ServicePort> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var port in value)
        {
            writer.WriteStringValue(port.ToString());
        }
        writer.WriteEndArray();
    }
}

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

    private static readonly string[] _mailStorePersona = ["users", "domain", "banner", "tls_cert", "tls_key", "tls_cn"];

    private static readonly string[] _tlsPersona = ["tls_cert", "tls_key", "tls_cn"];

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
        new("postgres", "PostgreSQL 15 server that captures clear-text, MD5 and SCRAM logins",
            [Tcp(5432)], ["version", "auth", "users", "databases"]),
        new("redis", "Redis server answering a subset of commands", [Tcp(6379)], ["version", "os_string"]),
        new("mongodb", "MongoDB 7 server without access control, bait databases and SCRAM login capture",
            [Tcp(27017)], ["version", "auth", "users"]),
        new("elasticsearch", "Elasticsearch 7 REST API, open with bait indices or behind Basic credentials it captures",
            [Tcp(9200)], ["version", "cluster_name", "auth", "users"]),
        new("ldap", "Active Directory LDAP that captures binds and serves a searchable domain tree",
            [Tcp(389), Tcp(636)], [.. _windowsPersona, "users", "accept_binds", "anonymous_search", "tls_cert", "tls_key", "tls_cn"]),
        new("snmp", "SNMP v1/v2c/v3 agent describing the decky's device, recording communities and v3 logins",
            [Udp(161)], ["community", "write_community", "persona", "sys_descr", "sys_object_id", "sys_contact", "sys_location", "sys_name"]),
        new("sip", "Asterisk-like SIP registrar that digest-challenges every REGISTER and INVITE",
            [Udp(5060), Tcp(5060)], ["version", "realm", "users"]),
        new("tftp", "TFTP server with bait configuration files that keeps every upload",
            [Udp(69)], ["files", "max_upload_bytes"]),
        new("llmnr", "LLMNR, mDNS and NetBIOS name service that records who asks for which name",
            [Udp(5355), Udp(5353), Udp(137)], _windowsPersona),
        new("mqtt", "Mosquitto-like MQTT broker with retained industrial topics",
            [Tcp(1883)], ["persona", "version", "topics", "accept_all", "users"]),
        // 143/110 offer STARTTLS/STLS, 993/995 are implicit TLS.
        new("imap", "Dovecot IMAP store whose logins are captured and whose bait mailbox opens for known users",
            [Tcp(143), Tcp(993)], _mailStorePersona),
        new("pop3", "Dovecot POP3 store whose logins are captured and whose bait mailbox opens for known users",
            [Tcp(110), Tcp(995)], _mailStorePersona),
        new("smtp", "Mail server that harvests AUTH credentials", [Tcp(25), Tcp(587)], _mailPersona),
        new("smtp_relay", "Mail server posing as an open relay", [Tcp(25), Tcp(587)], _mailPersona),
        new("docker_api", "Unauthenticated Docker Engine API that records what attackers try to run",
            [Tcp(2375), Tcp(2376)], ["version", "api_version", "kernel_version", .. _tlsPersona]),
        // 6443 is the secure port (TLS, self-signed like a kubeadm cluster), 8080 the legacy insecure one.
        new("k8s", "Kubernetes API server with anonymous access to bait secrets",
            [Tcp(6443), Tcp(8080)], ["version", "anonymous", .. _tlsPersona]),
        // SNMP is the decky's own snmp service (the industrial-control archetype carries both): one owner of 161/udp.
        new("conpot", "Industrial controller speaking Modbus/TCP and Siemens S7comm",
            [Tcp(502), Tcp(102)], ["persona", "system_name", "plant", "serial"]),
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
