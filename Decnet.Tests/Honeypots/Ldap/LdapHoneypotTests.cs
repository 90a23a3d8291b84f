using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Ldap;
using Decnet.Tests.Honeypots.Ntlm;

namespace Decnet.Tests.Honeypots.Ldap;

[Trait("Category", "Integration")]
public sealed class LdapHoneypotTests
{
    private const string BaseDn = "DC=corp,DC=local";

    private static Task<RealClient.Result> Ldapsearch(params string[] args) =>
        RealClient.RunAsync("env", ["LDAPTLS_REQCERT=never", "ldapsearch", "-o", "ldif-wrap=no", "-o", "nettimeout=10", .. args]);

    private static string Describe(RealClient.Result result) => $"exit {result.ExitCode}\nstdout:\n{result.StdOut}\nstderr:\n{result.StdErr}";

    [Fact]
    public async Task Anonymous_ldapsearch_reads_the_rootdse_of_a_domain_controller()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new LdapHoneypotFactory());

        var result = await Ldapsearch("-x", "-H", $"ldap://{decky.Address}", "-b", "", "-s", "base");

        Assert.True(result.ExitCode == 0, Describe(result));
        Assert.Contains($"defaultNamingContext: {BaseDn}", result.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"dnsHostName: srv-decky-[\d-]+\.corp\.local", result.StdOut);
        Assert.Contains("supportedSASLMechanisms: GSS-SPNEGO", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("domainControllerFunctionality: 7", result.StdOut, StringComparison.Ordinal);
        var search = await decky.Sink.WaitForAsync("search");
        Assert.Equal(("", "base", "(objectclass=*)", "1"), (search.Field("base"), search.Field("scope"), search.Field("filter"), search.Field("entries")));
        await decky.Sink.WaitForAsync("bind", e => e.Field("status") == "anonymous");
    }

    [Fact]
    public async Task A_kerberoasting_filter_finds_the_service_account_and_is_logged()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new LdapHoneypotFactory());

        var result = await Ldapsearch("-x", "-H", $"ldap://{decky.Address}", "-b", BaseDn,
            "(&(objectCategory=person)(objectClass=user)(servicePrincipalName=*)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
            "sAMAccountName", "servicePrincipalName");

        Assert.True(result.ExitCode == 0, Describe(result));
        Assert.Contains("sAMAccountName: svc_sql", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("servicePrincipalName: MSSQLSvc/sql01.corp.local:1433", result.StdOut, StringComparison.Ordinal);
        // Computers carry SPNs too, but are not persons; krbtgt is disabled.
        Assert.DoesNotContain("sAMAccountName: WS-0142$", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("krbtgt", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("# numEntries: 1", result.StdOut, StringComparison.Ordinal);
        var search = await decky.Sink.WaitForAsync("search", e => e.Field("base") == BaseDn);
        Assert.Equal("(&(objectCategory=person)(objectClass=user)(servicePrincipalName=*)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))", search.Field("filter"));
        Assert.Equal("sAMAccountName,servicePrincipalName", search.Field("attributes"));
    }

    [Fact]
    public async Task The_tree_lists_users_with_the_bait_description_and_pages_as_ad_tools_ask()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new LdapHoneypotFactory());

        var users = await Ldapsearch("-x", "-H", $"ldap://{decky.Address}", "-b", $"CN=Users,{BaseDn}", "-s", "one", "(sAMAccountName=help*)", "description");
        Assert.Matches("description: Shared helpdesk account - temp password Welcome\\d{4}!", users.StdOut);

        var paged = await Ldapsearch("-x", "-H", $"ldap://{decky.Address}", "-b", BaseDn, "-E", "pr=4/noprompt", "(objectClass=*)", "1.1");
        Assert.True(paged.ExitCode == 0, Describe(paged));
        var dns = Regex.Matches(paged.StdOut, "^dn: (.+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains($"CN=Domain Admins,CN=Users,{BaseDn}", dns);
        Assert.Contains($"OU=Domain Controllers,{BaseDn}", dns);
        Assert.Equal(dns.Count, dns.Distinct().Count());
        Assert.True(dns.Count > 12, Describe(paged));
        Assert.True(decky.Sink.OfType("search").Count(e => e.Field("controls") == "1.2.840.113556.1.4.319") >= 4, "several pages were asked for");

        var missing = await Ldapsearch("-x", "-H", $"ldap://{decky.Address}", "-b", $"OU=Finance,{BaseDn}");
        Assert.Equal(32, missing.ExitCode);
        Assert.Contains($"matchedDN: {BaseDn}", missing.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_simple_bind_is_captured_with_its_password_and_refused_like_active_directory()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new LdapHoneypotFactory());

        var result = await Ldapsearch("-x", "-H", $"ldap://{decky.Address}", "-D", $"CN=alice,CN=Users,{BaseDn}", "-w", "Winter2026!", "-b", BaseDn);

        Assert.Equal(49, result.ExitCode);
        Assert.Contains("data 52e", result.StdErr, StringComparison.Ordinal);
        var bind = await decky.Sink.WaitForAsync("bind", e => e.Field("method") == "simple" && e.Field("status") == "failed");
        Assert.Equal($"CN=alice,CN=Users,{BaseDn}", bind.Field("dn"));
        Assert.Equal("Winter2026!", bind.Field("password"));
        var bounty = BountyOf.Credential(bind);
        Assert.Equal(($"CN=alice,CN=Users,{BaseDn}", "Winter2026!"), (bounty["username"], bounty["password"]));
    }

    [Fact]
    public async Task Ldaps_and_starttls_carry_the_same_directory_and_capture_binds_inside_tls()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new LdapHoneypotFactory());

        var ldaps = await Ldapsearch("-x", "-H", $"ldaps://{decky.Address}", "-b", "", "-s", "base", "dnsHostName");
        Assert.True(ldaps.ExitCode == 0, Describe(ldaps) + string.Join("\n", decky.Sink.Events.Select(e => e.EventType + " " + string.Join(";", e.Fields.Select(f => f.Key + "=" + f.Value)))));
        Assert.Matches(@"dnsHostName: srv-decky-[\d-]+\.corp\.local", ldaps.StdOut);

        var startTls = await Ldapsearch("-x", "-ZZ", "-H", $"ldap://{decky.Address}", "-D", "bob@corp.local", "-w", "Tls-Secret1", "-b", BaseDn);
        Assert.Equal(49, startTls.ExitCode);
        var bind = await decky.Sink.WaitForAsync("bind", e => e.Field("username") == "bob@corp.local");
        Assert.Equal(("Tls-Secret1", "true"), (bind.Field("password"), bind.Field("tls")));
        await decky.Sink.WaitForAsync("extended", e => e.Field("name") == "StartTLS");
        Assert.Equal(2, decky.Sink.OfType("tls_session").Count);
    }

    [Fact]
    public async Task An_impacket_ntlm_bind_is_captured_as_a_crackable_netntlmv2_line()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new LdapHoneypotFactory());

        // impacket's LDAP client, as GetADUsers and friends use it: sicily NTLM bind.
        var script = $$"""
            from impacket.ldap import ldap
            connection = ldap.LDAPConnection('ldap://{{decky.Address}}', '{{BaseDn}}')
            try:
                connection.login('alice', 'Winter2026!', 'CORP')
                print('BOUND')
            except Exception as error:
                print('REFUSED', error)
            """;
        var result = await RealClient.RunAsync("/usr/bin/python3", ["-c", script]);

        Assert.True(result.StdOut.Contains("REFUSED", StringComparison.Ordinal), Describe(result));
        Assert.Contains("invalidCredentials", result.StdOut, StringComparison.Ordinal);
        var bind = await decky.Sink.WaitForAsync("bind", e => e.Field("method") == "sicily");
        Assert.Equal(("alice", "CORP", "NTLMv2"), (bind.Field("username"), bind.Field("domain"), bind.Field("ntlm_version")));
        Assert.True(NtlmHashes.VerifiesNetNtlmV2(bind.Field("hash")!, "Winter2026!"), bind.Field("hash"));
        Assert.Equal(bind.Field("hash"), BountyOf.Credential(bind)["hash"]);
    }

    [Fact]
    public async Task Garbage_and_hostile_ber_leave_no_fault_and_ldapsearch_still_works()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new LdapHoneypotFactory());
        // A filter nested 200 deep: bounded, refused, the session ends cleanly.
        var deep = new List<byte>([0x87, 0x01, (byte)'x']);
        for (var i = 0; i < 200; i++)
        {
            deep = [0xA2, .. Length(deep.Count), .. deep];
        }
        byte[] search = [0x04, 0x00, 0x0A, 0x01, 0x02, 0x0A, 0x01, 0x00, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00, .. deep, 0x30, 0x00];
        byte[] op = [0x63, .. Length(search.Length), .. search];
        byte[] message = [0x02, 0x01, 0x05, .. op];
        await Robustness.SendGarbageAsync(hosted.EndPointOf("ldap", 389),
        [
            [0x30, 0x84, 0x7f, 0xff, 0xff, 0xff],
            [0x30, 0x05, 0x02, 0x01, 0x01, 0x60, 0x00],
            [0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x8b, 0x00],
            [0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x05, 0x80, 0x00],
            [0x30, 0x06, 0x02, 0x01, 0x01, 0x77, 0x01, 0x80],
            [0x30, .. Length(message.Length), .. message],
            [0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00],
            [0x30, 0x03, 0x02, 0x09, 0x01],
        ]);
        await decky.Sink.WaitForAsync("protocol_error", e => e.Field("error")!.Contains("too deep", StringComparison.Ordinal));

        var result = await Ldapsearch("-x", "-H", $"ldap://{decky.Address}", "-b", "", "-s", "base", "defaultNamingContext");
        Assert.Contains($"defaultNamingContext: {BaseDn}", result.StdOut, StringComparison.Ordinal);
        Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0, s.FaultedSessions));
    }

    private static byte[] Length(int length) =>
        length < 0x80 ? [(byte)length] : length < 0x100 ? [0x81, (byte)length] : [0x82, (byte)(length >> 8), (byte)length];
}
