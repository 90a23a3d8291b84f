using System.Text.Json;
using Decnet.Core.Bounty;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Bounty;

[Trait("Category", TestCategories.Unit)]
public sealed class BountyExtractorTests
{
    private static readonly DateTime When = new(2026, 4, 18, 10, 0, 0, DateTimeKind.Utc);

    /// <summary>A hand-written event, as if some other emitter had produced the line.</summary>
    private static ParsedEvent Hand(string service, string eventType, params (string Key, string Value)[] fields) =>
        new(When, 134, "decky-1", service, "-", eventType, [.. fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))],
            null, Rfc5424Parser.FindAttackerIp([.. fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))], null), "raw");

    /// <summary>What our services emit, through the real formatter and parser (the ingest's own path).</summary>
    private static ParsedEvent Wire(string service, string eventType, params (string Key, string? Value)[] fields)
    {
        var list = new List<KeyValuePair<string, string>> { new("src_ip", "203.0.113.9"), new("src_port", "40000") };
        list.AddRange(fields.Where(f => f.Value is not null).Select(f => new KeyValuePair<string, string>(f.Key, f.Value!)));
        var line = Rfc5424Formatter.Format(new HoneypotEvent(new DateTimeOffset(When), "decky-1", service, eventType, list));
        var parsed = Rfc5424Parser.Parse(line);
        Assert.True(parsed.Succeeded, parsed.Error);
        return parsed.Event!;
    }

    private static Dictionary<string, string> Payload(ExtractedBounty bounty) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(bounty.Payload)!;

    private static ExtractedBounty Single(ParsedEvent e, string type) =>
        Assert.Single(BountyExtractor.Extract(e), b => b.BountyType == type);

    [Fact]
    public void Ssh_password_attempt_from_our_service_is_a_credential_with_its_method()
    {
        var e = Wire("ssh", "auth_attempt", ("username", "root"), ("password", "toor \"]\\ é"), ("method", "keyboard-interactive"), ("result", "failure"));
        var bounty = Assert.Single(BountyExtractor.Extract(e));
        Assert.Equal((BountyExtractor.Credential, "203.0.113.9", "decky-1", "ssh", When), (bounty.BountyType, bounty.AttackerIp, bounty.Decky, bounty.Service, bounty.TimestampUtc));
        Assert.Equal(new Dictionary<string, string> { ["username"] = "root", ["password"] = "toor \"]\\ é", ["method"] = "keyboard-interactive", ["outcome"] = "failure" }, Payload(bounty));
    }

    [Theory]
    [InlineData("ssh", "auth_attempt", "result", "success", "success")]
    [InlineData("telnet", "auth_attempt", "result", "failure", "failure")]
    [InlineData("smtp", "auth_attempt", "status", "success", "success")]
    [InlineData("redis", "auth", "status", "failed", "failure")]
    [InlineData("mysql", "auth_attempt", null, null, null)]
    public void A_credential_says_whether_the_decky_let_the_attacker_in(string service, string eventType, string? key, string? reported, string? outcome)
    {
        var fields = new List<(string, string?)> { ("username", "root"), ("password", "letmein") };
        if (key is not null)
        {
            fields.Add((key, reported));
        }
        var payload = Payload(Single(Wire(service, eventType, [.. fields]), BountyExtractor.Credential));
        Assert.Equal(outcome, payload.GetValueOrDefault("outcome"));
    }

    [Theory]
    [InlineData("postgres", "success", "success")]
    [InlineData("sip", "failed", "failure")]
    [InlineData("mssql", null, null)]
    public void A_captured_hash_says_whether_the_decky_let_the_attacker_in(string service, string? status, string? outcome)
    {
        var fields = new List<(string, string?)> { ("username", "sa"), ("hash", "sa:$postgres$abc"), ("hashcat_mode", "11100") };
        if (status is not null)
        {
            fields.Add(("status", status));
        }
        Assert.Equal(outcome, Payload(Single(Wire(service, "auth", [.. fields]), BountyExtractor.Credential)).GetValueOrDefault("outcome"));
    }

    [Theory]
    [InlineData("answered", "success")]
    [InlineData("bad_community", "failure")]
    public void A_community_string_says_whether_the_agent_answered_it(string status, string outcome)
    {
        var payload = Payload(Single(Wire("snmp", "get", ("community", "public"), ("version", "2c"), ("status", status)), BountyExtractor.Credential));
        Assert.Equal(outcome, payload["outcome"]);
    }

    [Fact]
    public void A_successful_login_is_its_own_bounty_beside_the_failed_tries_of_the_same_password()
    {
        var failed = Single(Wire("ssh", "auth_attempt", ("username", "root"), ("password", "letmein"), ("result", "failure")), BountyExtractor.Credential);
        var accepted = Single(Wire("ssh", "auth_attempt", ("username", "root"), ("password", "letmein"), ("result", "success")), BountyExtractor.Credential);
        Assert.NotEqual(failed.DedupKey, accepted.DedupKey);
    }

    [Theory]
    [InlineData("ftp", "auth_attempt")]
    [InlineData("telnet", "auth_attempt")]
    [InlineData("mysql", "auth_attempt")]
    [InlineData("smtp", "auth_attempt")]
    [InlineData("redis", "auth")]
    public void Every_credential_service_of_ours_yields_a_credential(string service, string eventType)
    {
        var e = Wire(service, eventType, ("username", "admin"), ("password", "hunter2"), ("mechanism", service == "smtp" ? "PLAIN" : null));
        var payload = Payload(Single(e, BountyExtractor.Credential));
        Assert.Equal(("admin", "hunter2"), (payload["username"], payload["password"]));
        Assert.Equal(service == "smtp" ? "PLAIN" : null, payload.GetValueOrDefault("method"));
    }

    [Fact]
    public void A_captured_ntlm_hash_is_a_credential_in_hashcat_format()
    {
        const string line = "alice::CORP:1122334455667788:0123456789abcdef0123456789abcdef:0101000000000000";
        var e = Wire("smb", "auth", ("username", "alice"), ("domain", "CORP"), ("ntlm_version", "NTLMv2"), ("hash", line), ("hash_type", "netntlmv2"), ("hashcat_mode", "5600"));
        var payload = Payload(Single(e, BountyExtractor.Credential));
        Assert.Equal(new Dictionary<string, string> { ["username"] = "alice", ["domain"] = "CORP", ["hash"] = line, ["hash_type"] = "netntlmv2", ["hashcat_mode"] = "5600" }, payload);
        Assert.Empty(BountyExtractor.Extract(Wire("smb", "auth", ("username", "guest"), ("ntlm_version", "anonymous"))));
    }

    [Fact]
    public void Short_spellings_user_and_pass_are_credentials_too()
    {
        var payload = Payload(Single(Hand("custom", "login", ("src_ip", "198.51.100.1"), ("user", "bob"), ("pass", "pw")), BountyExtractor.Credential));
        Assert.Equal(("bob", "pw"), (payload["username"], payload["password"]));
    }

    [Fact]
    public void Redis_auth_with_only_a_password_is_the_default_user_and_elsewhere_a_lone_password_is_nothing()
    {
        var payload = Payload(Single(Hand("redis", "auth", ("src_ip", "198.51.100.1"), ("password", "s3cret")), BountyExtractor.Credential));
        Assert.Equal(("default", "s3cret"), (payload["username"], payload["password"]));
        Assert.Empty(BountyExtractor.Extract(Hand("ftp", "auth_attempt", ("src_ip", "198.51.100.1"), ("password", "x"))));
        Assert.Empty(BountyExtractor.Extract(Hand("ssh", "auth_attempt", ("src_ip", "198.51.100.1"), ("username", "root"))));
    }

    [Fact]
    public void Http_form_login_is_a_credential_with_path_and_source()
    {
        var e = Wire("http", "login_attempt", ("username", "admin"), ("password", "admin123"), ("path", "/wp-login.php"), ("source", "form"), ("app", "wordpress"));
        Assert.Equal(new Dictionary<string, string> { ["username"] = "admin", ["password"] = "admin123", ["path"] = "/wp-login.php", ["source"] = "form" },
            Payload(Assert.Single(BountyExtractor.Extract(e))));
    }

    [Fact]
    public void Http_request_user_agent_is_a_fingerprint_with_method_and_path()
    {
        var headers = JsonSerializer.Serialize(new Dictionary<string, string> { ["Host"] = "x", ["User-Agent"] = "sqlmap/1.7" });
        var e = Wire("http", "request", ("method", "GET"), ("path", "/admin"), ("version", "HTTP/1.1"), ("user_agent", "sqlmap/1.7"), ("headers", headers));
        var bounty = Assert.Single(BountyExtractor.Extract(e));
        Assert.Equal(BountyExtractor.Fingerprint, bounty.BountyType);
        Assert.Equal(new Dictionary<string, string> { ["fingerprint_type"] = "http_useragent", ["value"] = "sqlmap/1.7", ["method"] = "GET", ["path"] = "/admin" }, Payload(bounty));
    }

    [Fact]
    public void User_agent_is_found_in_the_headers_json_whatever_its_case_and_bad_json_is_ignored()
    {
        var fromHeaders = Hand("http", "request", ("src_ip", "198.51.100.1"), ("path", "/"), ("headers", "{\"user-agent\":\"curl/8.5\"}"));
        Assert.Equal("curl/8.5", Payload(Single(fromHeaders, BountyExtractor.Fingerprint))["value"]);
        Assert.Empty(BountyExtractor.Extract(Hand("http", "request", ("src_ip", "198.51.100.1"), ("headers", "{not json"))));
        Assert.Empty(BountyExtractor.Extract(Hand("http", "request", ("src_ip", "198.51.100.1"), ("headers", "{\"Host\":\"x\"}"))));
    }

    [Fact]
    public void Vnc_client_version_is_a_fingerprint()
    {
        var payload = Payload(Single(Wire("vnc", "version", ("client_version", "RFB 003.008")), BountyExtractor.Fingerprint));
        Assert.Equal(new Dictionary<string, string> { ["fingerprint_type"] = "vnc_client_version", ["value"] = "RFB 003.008" }, payload);
    }

    [Fact]
    public void Ssh_connect_from_our_service_is_a_client_fingerprint_with_hassh()
    {
        var e = Wire("ssh", "connect", ("client_version", "SSH-2.0-libssh2_1.11.0"), ("hassh", "ec7378c1a92f5a8dde7e8b7a1ddf33d1"),
            ("hassh_algorithms", "curve25519-sha256;aes128-ctr;hmac-sha2-256;none"), ("server_version", "SSH-2.0-OpenSSH_8.9p1"));
        Assert.Equal(new Dictionary<string, string>
        {
            ["fingerprint_type"] = "ssh_client",
            ["value"] = "SSH-2.0-libssh2_1.11.0",
            ["hassh"] = "ec7378c1a92f5a8dde7e8b7a1ddf33d1",
            ["hassh_algorithms"] = "curve25519-sha256;aes128-ctr;hmac-sha2-256;none",
        }, Payload(Assert.Single(BountyExtractor.Extract(e))));
    }

    [Fact]
    public void A_plain_tcp_connect_is_no_bounty()
    {
        Assert.Empty(BountyExtractor.Extract(Wire("ftp", "connect", ("dst_port", "21"))));
    }

    [Fact]
    public void Sniffer_tls_client_hello_yields_ja3_ja4l_and_resumption_fingerprints()
    {
        var e = Hand("sniffer", "tls_client_hello", ("src_ip", "198.51.100.7"), ("dst_port", "443"), ("ja3", "769,47-53,0-10,23,0"), ("ja4", "t13d1516h2_8daaf6152771_b186095e22b6"),
            ("tls_version", "TLS 1.3"), ("sni", "example.org"), ("alpn", "h2"), ("raw_ciphers", "47,53"), ("raw_extensions", "0,10"),
            ("resumption", "session_ticket"), ("ja4l_rtt_ms", "12.5"), ("ja4l_client_ttl", "64"));
        var bounties = BountyExtractor.Extract(e).Select(Payload).ToDictionary(p => p["fingerprint_type"]);
        Assert.Equal(["ja3", "ja4l", "tls_resumption"], bounties.Keys.Order());
        Assert.Equal(("769,47-53,0-10,23,0", "example.org", "443", "h2"), (bounties["ja3"]["ja3"], bounties["ja3"]["sni"], bounties["ja3"]["dst_port"], bounties["ja3"]["alpn"]));
        Assert.Equal(("12.5", "64"), (bounties["ja4l"]["rtt_ms"], bounties["ja4l"]["client_ttl"]));
        Assert.Equal("session_ticket", bounties["tls_resumption"]["mechanisms"]);
    }

    [Fact]
    public void Sniffer_certificate_is_a_fingerprint_but_only_from_the_sniffer()
    {
        var e = Hand("sniffer", "tls_certificate", ("src_ip", "198.51.100.7"), ("subject_cn", "evil.example"), ("issuer", "evil CA"), ("self_signed", "true"), ("sans", "a,b"));
        var payload = Payload(Single(e, BountyExtractor.Fingerprint));
        Assert.Equal(("tls_certificate", "evil.example", "evil CA", "true"), (payload["fingerprint_type"], payload["subject_cn"], payload["issuer"], payload["self_signed"]));
        Assert.Empty(BountyExtractor.Extract(Hand("http", "request", ("src_ip", "198.51.100.7"), ("subject_cn", "x"), ("ja3", "y"))));
    }

    [Fact]
    public void Prober_results_belong_to_the_probed_target()
    {
        var jarm = Hand("prober", "jarm_fingerprint", ("target_ip", "192.0.2.50"), ("target_port", "443"), ("jarm_hash", new string('a', 62)));
        var bounty = Single(jarm, BountyExtractor.Fingerprint);
        Assert.Equal("192.0.2.50", bounty.AttackerIp);
        Assert.Equal(new Dictionary<string, string> { ["fingerprint_type"] = "jarm", ["hash"] = new string('a', 62), ["target_ip"] = "192.0.2.50", ["target_port"] = "443" }, Payload(bounty));

        var hassh = Payload(Single(Hand("prober", "hassh_fingerprint", ("target_ip", "192.0.2.50"), ("target_port", "22"), ("hassh_server_hash", "abc"),
            ("ssh_banner", "SSH-2.0-OpenSSH_9.6"), ("kex_algorithms", "curve25519-sha256")), BountyExtractor.Fingerprint));
        Assert.Equal(("hassh_server", "abc", "192.0.2.50:22", "SSH-2.0-OpenSSH_9.6"), (hassh["fingerprint_type"], hassh["hash"], hassh["target"], hassh["ssh_banner"]));

        var tcp = Payload(Single(Hand("prober", "tcpfp_fingerprint", ("target_ip", "192.0.2.50"), ("target_port", "80"), ("tcpfp_hash", "0123"),
            ("tcpfp_raw", "64:65535:1:1460:7:1:1:MSTNW"), ("ttl", "64"), ("mss", "1460")), BountyExtractor.Fingerprint));
        Assert.Equal(("tcpfp", "0123", "64:65535:1:1460:7:1:1:MSTNW", "1460"), (tcp["fingerprint_type"], tcp["hash"], tcp["raw"], tcp["mss"]));
        Assert.Empty(BountyExtractor.Extract(Hand("ssh", "x", ("src_ip", "1.2.3.4"), ("jarm_hash", "z"))));
    }

    [Fact]
    public void Dedup_key_depends_on_type_attacker_and_payload_only()
    {
        var first = Single(Wire("ssh", "auth_attempt", ("username", "root"), ("password", "toor")), BountyExtractor.Credential);
        var again = Single(Wire("ssh", "auth_attempt", ("username", "root"), ("password", "toor")) with { TimestampUtc = When.AddHours(1), Decky = "decky-9" }, BountyExtractor.Credential);
        var other = Single(Wire("ssh", "auth_attempt", ("username", "root"), ("password", "toor2")), BountyExtractor.Credential);
        var elsewhere = Single(Hand("ssh", "auth_attempt", ("src_ip", "198.51.100.99"), ("username", "root"), ("password", "toor")), BountyExtractor.Credential);
        Assert.Equal(first.DedupKey, again.DedupKey);
        Assert.NotEqual(first.DedupKey, other.DedupKey);
        Assert.NotEqual(first.DedupKey, elsewhere.DedupKey);
        Assert.Matches("^[0-9a-f]{64}$", first.DedupKey);
        // Canonical: the order a rule writes its fields in does not change the key.
        Assert.Equal(BountyExtractor.DedupKey("t", "ip", [("a", "1"), ("b", "2")]), BountyExtractor.DedupKey("t", "ip", [("b", "2"), ("a", "1")]));
    }

    [Fact]
    public void Like_wildcards_in_search_text_are_escaped()
    {
        Assert.Equal("100\\% a\\_b c\\\\d", BountyQuery.EscapeLike("100% a_b c\\d"));
    }
}
