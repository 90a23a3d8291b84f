using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Decnet.Core.Events;

namespace Decnet.Core.Bounty;

/// <summary>One bounty found in an event, before it is stored.</summary>
/// <param name="Payload">JSON object, keys in the order the rule wrote them (the display order).</param>
/// <param name="DedupKey">SHA-256 of type, attacker and the canonical payload: equal bounties collide.</param>
public sealed record ExtractedBounty(
    DateTime TimestampUtc,
    string Decky,
    string Service,
    string? AttackerIp,
    string BountyType,
    string Payload,
    string DedupKey);

/// <summary>
/// The bounty rules, applied to every ingested event. Pure: an event in, zero or more bounties out, no I/O,
/// so the rules are tested on hand-written events and on lines our own services produce.
/// </summary>
public static class BountyExtractor
{
    public const string Credential = "credential";
    public const string Fingerprint = "fingerprint";

    /// <summary>Produced by no rule yet; the UI offers it because upstream's filter does.</summary>
    public const string Payload = "payload";

    public static readonly IReadOnlyList<string> Types = [Credential, Fingerprint, Payload];

    public static IReadOnlyList<ExtractedBounty> Extract(ParsedEvent e)
    {
        var found = new List<ExtractedBounty>(2);
        CredentialRule(e, found);
        HashRule(e, found);
        CommunityRule(e, found);
        TokenRule(e, found);
        UserAgentRule(e, found);
        VncClientRule(e, found);
        SshClientRule(e, found);
        SnifferRules(e, found);
        ProberRules(e, found);
        return found;
    }

    /// <summary>
    /// Rule 1: a username and a password (our services' spellings and the short ones some tools log).
    /// Redis <c>AUTH &lt;password&gt;</c> names no user: Redis authenticates it as the ACL user <c>default</c>,
    /// so that is the username the attacker effectively tried (our Redis service already logs it that way;
    /// lines from elsewhere may carry only the password).
    /// </summary>
    private static void CredentialRule(ParsedEvent e, List<ExtractedBounty> found)
    {
        var username = e.Field("username") ?? e.Field("user");
        var password = e.Field("password") ?? e.Field("pass");
        if (password is null)
        {
            return;
        }
        if (username is null)
        {
            if (!string.Equals(e.Service, "redis", StringComparison.Ordinal) || !string.Equals(e.EventType, "auth", StringComparison.Ordinal))
            {
                return;
            }
            username = "default";
        }
        var payload = new List<(string, string?)>
        {
            ("username", username),
            ("password", password),
            // The auth method tells a password from a keyboard-interactive or SASL attempt; smtp calls it mechanism.
            ("method", e.Field("method") ?? e.Field("mechanism")),
            // Web form credentials: which page and which form field layout carried them.
            ("path", e.Field("path")),
            ("source", e.Field("source")),
            ("outcome", Outcome(e.Field("result") ?? e.Field("status"))),
        };
        Add(found, e, e.AttackerIp, Credential, payload);
    }

    public const string Success = "success";
    public const string Failure = "failure";

    /// <summary>
    /// Whether the decky let the attacker in: SSH and Telnet log <c>result</c> (success/failure), SMTP and
    /// Redis <c>status</c> (success/failed). Services that never accept a login (MySQL, FTP) log neither: unknown.
    /// </summary>
    public static string? Outcome(string? reported) => reported?.Trim().ToLowerInvariant() switch
    {
        "success" or "succeeded" or "accepted" or "ok" => Success,
        "failure" or "failed" or "fail" or "denied" or "rejected" => Failure,
        _ => null,
    };

    /// <summary>
    /// Beyond upstream: what a client computed from its password (PostgreSQL MD5 as hashcat 11100, a SCRAM
    /// exchange, NetNTLMv2 from SMB, MSSQL or RDP, the VNC DES response, a SIP digest as hashcat 11400), in the form its cracker takes. No
    /// password, but the means to recover it offline, so it is a credential too. An event that also carries
    /// the clear text is rule 1's.
    /// </summary>
    private static void HashRule(ParsedEvent e, List<ExtractedBounty> found)
    {
        if (e.Field("password") is not null || e.Field("hash") is not { Length: > 0 } hash)
        {
            return;
        }
        Add(found, e, e.AttackerIp, Credential,
        [
            ("username", e.Field("username") ?? e.Field("user")),
            ("domain", e.Field("domain")),
            ("hash", hash),
            ("hash_type", e.Field("hash_type")),
            ("hashcat_mode", e.Field("hashcat_mode")),
            ("outcome", Outcome(e.Field("result") ?? e.Field("status"))),
        ]);
    }

    /// <summary>
    /// Beyond upstream: an SNMP v1/v2c community string is the whole credential of those versions (no user),
    /// and the one attackers guess by the hundred. Stored with the version it was tried with.
    /// </summary>
    private static void CommunityRule(ParsedEvent e, List<ExtractedBounty> found)
    {
        if (e.Field("community") is not { Length: > 0 } community)
        {
            return;
        }
        Add(found, e, e.AttackerIp, Credential,
        [
            ("community", community),
            ("method", "snmp_community"),
            ("version", e.Field("version")),
            // The agent answers a community it knows and ignores the others.
            ("outcome", e.Field("status") switch { "answered" => Success, "bad_community" => Failure, _ => null }),
        ]);
    }

    /// <summary>Beyond upstream: a bearer token presented to an API (Kubernetes service-account tokens ...).</summary>
    private static void TokenRule(ParsedEvent e, List<ExtractedBounty> found)
    {
        if (e.Field("token") is not { Length: > 0 } token)
        {
            return;
        }
        Add(found, e, e.AttackerIp, Credential,
            [("username", e.Field("username")), ("token", token), ("method", e.Field("method")), ("path", e.Field("path")),
             ("outcome", Outcome(e.Field("result") ?? e.Field("status")))]);
    }

    /// <summary>Rule 2: the HTTP User-Agent, from its own field or from the logged headers JSON.</summary>
    private static void UserAgentRule(ParsedEvent e, List<ExtractedBounty> found)
    {
        var agent = e.Field("user_agent");
        if (string.IsNullOrEmpty(agent) && e.Field("headers") is { Length: > 0 } headers)
        {
            agent = UserAgentFromHeaders(headers);
        }
        if (string.IsNullOrEmpty(agent))
        {
            return;
        }
        Add(found, e, e.AttackerIp, Fingerprint,
            [("fingerprint_type", "http_useragent"), ("value", agent), ("method", e.Field("method")), ("path", e.Field("path"))]);
    }

    /// <summary>Header names are case-insensitive; a malformed headers value is simply not a fingerprint.</summary>
    public static string? UserAgentFromHeaders(string headersJson)
    {
        try
        {
            using var document = JsonDocument.Parse(headersJson);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (string.Equals(property.Name, "User-Agent", StringComparison.OrdinalIgnoreCase))
                {
                    return property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.GetRawText();
                }
            }
        }
        catch (JsonException)
        {
            // Attacker-controlled text that is not JSON after all.
        }
        return null;
    }

    /// <summary>Rule 3: a VNC client announces its protocol version.</summary>
    private static void VncClientRule(ParsedEvent e, List<ExtractedBounty> found)
    {
        if (e.EventType == "version" && e.Field("client_version") is { Length: > 0 } version)
        {
            Add(found, e, e.AttackerIp, Fingerprint, [("fingerprint_type", "vnc_client_version"), ("value", version)]);
        }
    }

    /// <summary>Upstream's rule 4 placeholder, implemented: the SSH client banner with its HASSH.</summary>
    private static void SshClientRule(ParsedEvent e, List<ExtractedBounty> found)
    {
        if (e.EventType == "connect" && e.Field("client_version") is { Length: > 0 } version)
        {
            Add(found, e, e.AttackerIp, Fingerprint,
                [("fingerprint_type", "ssh_client"), ("value", version), ("hassh", e.Field("hassh")), ("hassh_algorithms", e.Field("hassh_algorithms"))]);
        }
    }

    /// <summary>Rules 5–8: the passive sniffer's TLS observations.</summary>
    private static void SnifferRules(ParsedEvent e, List<ExtractedBounty> found)
    {
        if (e.Service != "sniffer")
        {
            return;
        }
        if (e.Field("ja3") is { Length: > 0 } ja3)
        {
            Add(found, e, e.AttackerIp, Fingerprint,
            [
                ("fingerprint_type", "ja3"), ("ja3", ja3), ("ja3s", e.Field("ja3s")), ("ja4", e.Field("ja4")), ("ja4s", e.Field("ja4s")),
                ("tls_version", e.Field("tls_version")), ("sni", e.Field("sni")), ("alpn", e.Field("alpn")), ("dst_port", e.Field("dst_port")),
                ("raw_ciphers", e.Field("raw_ciphers")), ("raw_extensions", e.Field("raw_extensions")),
            ]);
        }
        if (e.Field("ja4l_rtt_ms") is { Length: > 0 } rtt)
        {
            Add(found, e, e.AttackerIp, Fingerprint, [("fingerprint_type", "ja4l"), ("rtt_ms", rtt), ("client_ttl", e.Field("ja4l_client_ttl"))]);
        }
        if (e.Field("resumption") is { Length: > 0 } resumption)
        {
            Add(found, e, e.AttackerIp, Fingerprint, [("fingerprint_type", "tls_resumption"), ("mechanisms", resumption)]);
        }
        if (e.Field("subject_cn") is { Length: > 0 } cn)
        {
            Add(found, e, e.AttackerIp, Fingerprint,
            [
                ("fingerprint_type", "tls_certificate"), ("subject_cn", cn), ("issuer", e.Field("issuer")), ("self_signed", e.Field("self_signed")),
                ("not_before", e.Field("not_before")), ("not_after", e.Field("not_after")), ("sans", e.Field("sans")), ("sni", e.Field("sni")),
            ]);
        }
    }

    /// <summary>
    /// Rules 9–11: the active prober's results. The prober is the source, the probed address is the attacker,
    /// so the bounty belongs to <c>target_ip</c>.
    /// </summary>
    private static void ProberRules(ParsedEvent e, List<ExtractedBounty> found)
    {
        if (e.Service != "prober")
        {
            return;
        }
        var target = e.Field("target_ip") ?? e.AttackerIp;
        var port = e.Field("target_port");
        var targetText = target is null ? null : port is null ? target : $"{target}:{port}";
        if (e.Field("jarm_hash") is { Length: > 0 } jarm)
        {
            Add(found, e, target, Fingerprint, [("fingerprint_type", "jarm"), ("hash", jarm), ("target_ip", target), ("target_port", port)]);
        }
        if (e.Field("hassh_server_hash") is { Length: > 0 } hassh)
        {
            Add(found, e, target, Fingerprint,
            [
                ("fingerprint_type", "hassh_server"), ("hash", hassh), ("target", targetText), ("ssh_banner", e.Field("ssh_banner")),
                ("kex_algorithms", e.Field("kex_algorithms")), ("encryption_s2c", e.Field("encryption_s2c")),
                ("mac_s2c", e.Field("mac_s2c")), ("compression_s2c", e.Field("compression_s2c")),
            ]);
        }
        if (e.Field("tcpfp_hash") is { Length: > 0 } tcpfp)
        {
            Add(found, e, target, Fingerprint,
            [
                ("fingerprint_type", "tcpfp"), ("hash", tcpfp), ("raw", e.Field("tcpfp_raw")), ("target", targetText),
                ("ttl", e.Field("ttl")), ("window_size", e.Field("window_size")), ("df_bit", e.Field("df_bit")), ("mss", e.Field("mss")),
                ("window_scale", e.Field("window_scale")), ("sack_ok", e.Field("sack_ok")), ("timestamp", e.Field("timestamp")),
                ("options_order", e.Field("options_order")),
            ]);
        }
    }

    private static void Add(List<ExtractedBounty> found, ParsedEvent e, string? attackerIp, string type, IReadOnlyList<(string Key, string? Value)> payload)
    {
        // Absent fields are left out rather than stored as null: the payload says what was seen.
        var present = payload.Where(p => p.Value is not null).Select(p => (p.Key, Value: p.Value!)).ToList();
        var json = Json(present);
        found.Add(new ExtractedBounty(e.TimestampUtc, e.Decky, e.Service, attackerIp, type, json, DedupKey(type, attackerIp, present)));
    }

    /// <summary>
    /// SHA-256 over type, attacker and the payload with its keys in ordinal order, so the key does not
    /// depend on the order a rule happens to write fields in.
    /// </summary>
    public static string DedupKey(string type, string? attackerIp, IReadOnlyList<(string Key, string Value)> payload)
    {
        var canonical = Json([.. payload.OrderBy(p => p.Key, StringComparer.Ordinal)]);
        var text = string.Concat(type, "\n", attackerIp ?? "", "\n", canonical);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private static string Json(IReadOnlyList<(string Key, string Value)> payload)
    {
        // The ingest's per-thread writer (relaxed escaping: bounties are shown by our own UI and API, which
        // encode on output; readable non-ASCII at rest matters more). A bounty comes with about every other event.
        var writer = JsonScratch.Start();
        writer.WriteStartObject();
        foreach (var (key, value) in payload)
        {
            writer.WriteString(key, value);
        }
        writer.WriteEndObject();
        return JsonScratch.Finish();
    }
}
