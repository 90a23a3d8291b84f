using System.Net;
using Decnet.Core.Deckies;
using Decnet.Core.Honeypots.Hosting;
using static Decnet.Tests.Deckies.IniAssert;

namespace Decnet.Tests.Deckies;

public sealed class DeploymentIniLoaderTests
{
    private const string General = """
        [general]
        net = 10.0.5.0/24
        gw = 10.0.5.1
        interface = eth0


        """;

    [Fact]
    public void Loads_the_general_section_and_a_decky_with_every_key()
    {
        var spec = DeploymentIniLoader.Load(General + """
            [web-01]
            ip = 10.0.5.40
            services = http, ssh
            nmap_os = bsd
            mutate_interval = 120
            """);

        Assert.Equal(IPNetwork.Parse("10.0.5.0/24"), spec.Network!.Subnet);
        Assert.Equal(IPAddress.Parse("10.0.5.1"), spec.Network.Gateway);
        Assert.Equal("eth0", spec.Network.Interface);
        Assert.Equal(1, spec.GeneralLine);
        var decky = Assert.Single(spec.Deckies);
        Assert.Equal("web-01", decky.Name);
        Assert.Equal(IPAddress.Parse("10.0.5.40"), decky.Ip);
        Assert.Equal(7, decky.IpLine);
        Assert.Equal(["http", "ssh"], decky.Services);
        Assert.Equal("bsd", decky.NmapOs);
        Assert.Equal(120, decky.MutateInterval);
    }

    [Fact]
    public void Accepts_hyphenated_spellings_of_nmap_os_and_mutate_interval()
    {
        var decky = Assert.Single(DeploymentIniLoader.Load("[d]\nnmap-os = windows\nmutate-interval = 15\n").Deckies);

        Assert.Equal("windows", decky.NmapOs);
        Assert.Equal(15, decky.MutateInterval);
    }

    [Fact]
    public void General_section_is_optional_and_carries_interval_and_ipvlan()
    {
        var withoutGeneral = DeploymentIniLoader.Load("[d]\nservices = ssh\n");
        var withGeneral = DeploymentIniLoader.Load("[general]\nmutate_interval = 45\nipvlan = yes\n[d]\n");

        Assert.Null(withoutGeneral.Network);
        Assert.Null(withoutGeneral.GeneralLine);
        Assert.Equal(45, withGeneral.MutateInterval);
        Assert.True(withGeneral.Ipvlan);
        Assert.Null(withGeneral.Network);
    }

    [Fact]
    public void Gateway_defaults_to_the_first_host_when_omitted()
    {
        var spec = DeploymentIniLoader.Load("[general]\nnet = 172.16.0.0/16\n[d]\n");

        Assert.Equal(IPAddress.Parse("172.16.0.1"), spec.Network!.Gateway);
        Assert.Null(spec.Network.Interface);
    }

    [Theory]
    [InlineData("10.0.5.0", "not a CIDR subnet")]
    [InlineData("10.0.5/24", "not an IPv4 address")]
    [InlineData("10.0.5.0/33", "prefix length")]
    [InlineData("10.0.5.7/24", "the network is 10.0.5.0/24")]
    [InlineData("10.0.5.0/31", "no room for deckies")]
    [InlineData("fe80::/64", "not an IPv4 address")]
    public void Bad_cidr_is_reported_at_the_net_line(string net, string reason)
    {
        var exception = Rejects($"[general]\nnet = {net}\n[d]\n");

        HasError(exception, 2, "general", "net", reason);
    }

    [Theory]
    [InlineData("10.0.6.1", "not a host address of 10.0.5.0/24")]
    [InlineData("10.0.5.255", "not a host address")]
    [InlineData("10.0.5.0", "not a host address")]
    [InlineData("gateway", "not an IPv4 address")]
    public void Gateway_outside_the_subnet_is_reported_at_the_gw_line(string gw, string reason)
    {
        var exception = Rejects($"[general]\nnet = 10.0.5.0/24\n\ngw = {gw}\n[d]\n");

        HasError(exception, 4, "general", "gw", reason);
    }

    [Fact]
    public void Gateway_or_interface_without_net_is_rejected()
    {
        var exception = Rejects("[general]\ngw = 10.0.0.1\ninterface = eth0\n[d]\n");

        HasError(exception, 2, "general", "gw", "needs 'net'");
        HasError(exception, 3, "general", "interface", "needs 'net'");
    }

    [Theory]
    [InlineData("eth0;rm")]
    [InlineData("a-name-that-is-too-long")]
    public void Interface_names_are_checked(string nic)
    {
        var exception = Rejects($"[general]\nnet = 10.0.0.0/24\ninterface = {nic}\n[d]\n");

        HasError(exception, 3, "general", "interface", "not a network interface name");
    }

    [Fact]
    public void Amount_expands_into_numbered_deckies_with_automatic_addresses()
    {
        var spec = DeploymentIniLoader.Load(General + """
            [workstations]
            archetype = windows-workstation
            amount = 3            ; becomes workstations-01..03
            """);

        Assert.Equal(["workstations-01", "workstations-02", "workstations-03"], spec.Deckies.Select(d => d.Name));
        Assert.All(spec.Deckies, d =>
        {
            Assert.Equal("workstations", d.Section);
            Assert.Equal(6, d.Line);
            Assert.Equal("windows-workstation", d.Archetype);
            Assert.Null(d.Ip);
        });
    }

    [Fact]
    public void Amount_of_100_uses_three_digit_suffixes()
    {
        var spec = DeploymentIniLoader.Load("[w]\namount = 100\n");

        Assert.Equal(100, spec.Deckies.Count);
        Assert.Equal("w-001", spec.Deckies[0].Name);
        Assert.Equal("w-100", spec.Deckies[^1].Name);
    }

    [Theory]
    [InlineData("0", "must be between 1 and 100")]
    [InlineData("-4", "must be between 1 and 100")]
    [InlineData("101", "exceeds maximum allowed (100)")]
    [InlineData("three", "must be an integer")]
    public void Amount_outside_1_to_100_is_rejected_at_its_line(string amount, string reason)
    {
        var exception = Rejects($"[general]\nnet = 10.0.0.0/16\n[fleet]\nservices = ssh\namount = {amount}\n");

        HasError(exception, 5, "fleet", "amount", reason);
    }

    [Fact]
    public void Ip_with_amount_above_one_is_rejected_at_the_ip_line()
    {
        var exception = Rejects(General + "[web]\nip = 10.0.5.9\namount = 2\n");

        HasError(exception, 7, "web", "ip", "cannot be combined with amount = 2");
    }

    [Fact]
    public void Ip_with_amount_one_is_allowed()
    {
        var decky = Assert.Single(DeploymentIniLoader.Load(General + "[web]\nip = 10.0.5.9\namount = 1\n").Deckies);

        Assert.Equal("web", decky.Name);
        Assert.Equal(IPAddress.Parse("10.0.5.9"), decky.Ip);
    }

    [Theory]
    [InlineData("mutate_interval", "soon")]
    [InlineData("mutate-interval", "1.5")]
    [InlineData("mutate_interval", "30m")]
    public void Non_integer_mutate_interval_is_rejected_at_its_line(string key, string value)
    {
        var exception = Rejects(General + $"[web-01]\nservices = http\n{key} = {value}\n");

        var error = HasError(exception, 8, "web-01", key, "must be an integer");
        Assert.Equal($"line 8 [web-01] {key}: must be an integer", error.ToString());
    }

    [Fact]
    public void Mutate_interval_below_one_is_rejected()
    {
        var exception = Rejects("[general]\nmutate_interval = 0\n[d]\nmutate_interval = -5\n");

        HasError(exception, 2, "general", "mutate_interval", "at least 1");
        HasError(exception, 4, "d", "mutate_interval", "at least 1");
    }

    [Fact]
    public void Unknown_service_is_rejected_with_the_valid_list()
    {
        var exception = Rejects(General + "[web-01]\nservices = http, gopher, finger\n");

        var error = HasError(exception, 7, "web-01", "services", "unknown service 'gopher', 'finger'");
        Assert.Contains("valid services: ssh, telnet, http", error.Message, StringComparison.Ordinal);
        Assert.Contains("conpot", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sniffer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fleet_singleton_cannot_be_assigned_to_a_decky()
    {
        var exception = Rejects("[d]\nservices = ssh, sniffer\n");

        HasError(exception, 2, "d", "services", "whole fleet");
    }

    [Fact]
    public void Services_are_trimmed_normalised_and_deduplicated()
    {
        var decky = Assert.Single(DeploymentIniLoader.Load("[d]\nservices =  SSH ,http,, ssh \n").Deckies);

        Assert.Equal(["ssh", "http"], decky.Services);
    }

    [Fact]
    public void Empty_service_list_is_rejected()
    {
        var exception = Rejects("[d]\nservices = , ,\n");

        HasError(exception, 2, "d", "services", "lists no services");
    }

    [Fact]
    public void Unknown_archetype_is_rejected_with_the_valid_list()
    {
        var exception = Rejects("[d]\narchetype = mainframe\n");

        var error = HasError(exception, 2, "d", "archetype", "unknown archetype 'mainframe'");
        Assert.Contains("windows-workstation", error.Message, StringComparison.Ordinal);
        Assert.Contains("deaddeck", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_nmap_os_is_rejected_with_the_valid_list()
    {
        var exception = Rejects("[d]\nnmap_os = amiga\n");

        HasError(exception, 2, "d", "nmap_os", "valid values: linux, windows, windows_server, bsd, embedded, cisco");
    }

    [Fact]
    public void Misspelt_keys_are_reported_instead_of_ignored()
    {
        var exception = Rejects("[d]\nservcies = ssh\n");

        HasError(exception, 2, "d", "servcies", "unknown key; valid keys: ip, hostname, services");
    }

    [Fact]
    public void Decky_keys_without_a_value_are_rejected()
    {
        var exception = Rejects("[d]\nservices\n");

        HasError(exception, 2, "d", "services", "needs a value");
    }

    [Theory]
    [InlineData("web 01")]
    [InlineData("web/01")]
    [InlineData("wéb")]
    public void Decky_names_outside_the_allowed_characters_are_rejected(string name)
    {
        var exception = Rejects($"[{name}]\nservices = ssh\n");

        HasError(exception, 1, name, null, "decky name must be");
    }

    [Fact]
    public void Decky_names_longer_than_128_characters_are_rejected()
    {
        var longName = new string('a', 129);

        var exception = Rejects($"[{longName}]\n");

        HasError(exception, 1, longName, null, "1 to 128");
        Assert.Single(DeploymentIniLoader.Load($"[{new string('a', 128)}]\n").Deckies);
    }

    [Fact]
    public void Duplicate_decky_sections_are_rejected_at_the_second_header()
    {
        var exception = Rejects("[web-01]\nservices = ssh\n\n[web-01]\nservices = http\n");

        HasError(exception, 4, "web-01", null, "duplicate decky name 'web-01' (already defined by [web-01] on line 1)");
    }

    [Fact]
    public void Duplicates_created_by_expansion_are_rejected()
    {
        var exception = Rejects("[web]\namount = 2\n[web-02]\nservices = ssh\n");

        HasError(exception, 3, "web-02", null, "duplicate decky name 'web-02' (already defined by [web] on line 1)");
    }

    [Fact]
    public void Duplicate_general_sections_are_rejected()
    {
        var exception = Rejects("[general]\n[d]\n[general]\n");

        HasError(exception, 3, "general", null, "appears twice");
    }

    [Fact]
    public void Explicit_ips_must_be_unique_inside_the_subnet_and_not_the_gateway()
    {
        var exception = Rejects(General + """
            [a]
            ip = 10.0.5.10
            [b]
            ip = 10.0.5.10
            [c]
            ip = 192.168.1.10
            [d]
            ip = 10.0.5.1
            [e]
            ip = 10.0.5
            [f]
            ip = 10.0.5.010
            """);

        HasError(exception, 9, "b", "ip", "already used by decky 'a' (line 7)");
        HasError(exception, 11, "c", "ip", "not a host address of the subnet 10.0.5.0/24");
        HasError(exception, 13, "d", "ip", "gateway");
        HasError(exception, 15, "e", "ip", "not an IPv4 address");
        HasError(exception, 17, "f", "ip", "not an IPv4 address");
    }

    [Fact]
    public void Service_subsection_applies_to_the_exact_decky()
    {
        var spec = DeploymentIniLoader.Load("""
            [web-01]
            services = http
            [web-01.http]
            server_header = nginx/1.18.0
            fake_app = wordpress
            [web-02]
            services = http
            """);

        var persona = spec.Deckies[0].ServiceConfig["http"];
        Assert.Equal("nginx/1.18.0", persona["server_header"]);
        Assert.Equal("wordpress", persona["FAKE_APP"]);
        Assert.Empty(spec.Deckies[1].ServiceConfig);
    }

    [Fact]
    public void Service_subsection_applies_to_every_expanded_copy()
    {
        var spec = DeploymentIniLoader.Load("[printer]\narchetype = printer\namount = 2\n[printer.ftp]\nbanner = 220 HP\n");

        Assert.All(spec.Deckies, d => Assert.Equal("220 HP", d.ServiceConfig["ftp"]["banner"]));
    }

    [Fact]
    public void Exact_name_wins_over_expanded_copies()
    {
        var spec = DeploymentIniLoader.Load("[web]\namount = 2\n[web-01.ssh]\npassword = x\n");

        Assert.Equal("x", spec.Deckies.Single(d => d.Name == "web-01").ServiceConfig["ssh"]["password"]);
        Assert.Empty(spec.Deckies.Single(d => d.Name == "web-02").ServiceConfig);
    }

    [Fact]
    public void Dotted_section_is_a_decky_unless_the_suffix_is_a_service()
    {
        var spec = DeploymentIniLoader.Load("[decky.webmail]\nservices = imap\n");

        Assert.Equal("decky.webmail", Assert.Single(spec.Deckies).Name);
    }

    [Fact]
    public void Service_subsection_matching_no_decky_is_reported()
    {
        var exception = Rejects("[web-01]\n[web-1.http]\nfake_app = wordpress\n");

        HasError(exception, 2, "web-1.http", null, "no decky named 'web-1'");
    }

    [Fact]
    public void Later_persona_values_override_earlier_ones_and_bare_keys_become_empty()
    {
        var spec = DeploymentIniLoader.Load("[d]\n[d.ssh]\npassword = a\npassword = b\n[d.ssh]\nhostname\n");

        var persona = Assert.Single(spec.Deckies).ServiceConfig["ssh"];
        Assert.Equal("b", persona["password"]);
        Assert.Equal("", persona["hostname"]);
    }

    [Fact]
    public void Custom_service_sections_become_custom_services_usable_by_deckies()
    {
        var spec = DeploymentIniLoader.Load("""
            [custom-honeyapi]
            binary = myorg/fake-api:1.2
            exec = /srv/api   --port 9000
            ports = 9000, 9001/udp
            [api]
            services = honeyapi, ssh
            """);

        var custom = Assert.Single(spec.CustomServices);
        Assert.Equal("honeyapi", custom.Name);
        Assert.Equal("myorg/fake-api:1.2", custom.Image);
        Assert.Equal(["/srv/api", "--port", "9000"], custom.Command);
        Assert.Equal([new ServicePort(9000), new ServicePort(9001, ServiceTransport.Udp)], custom.Ports);
        Assert.Equal(["honeyapi", "ssh"], Assert.Single(spec.Deckies).Services);
    }

    [Fact]
    public void Bad_custom_service_sections_are_reported()
    {
        var exception = Rejects("""
            [custom-ssh]
            binary = x
            [custom-api]
            ports = 70000, web
            [custom-bad name]
            binary = x
            [d]
            """);

        HasError(exception, 1, "custom-ssh", null, "built-in service");
        HasError(exception, 3, "custom-api", "binary", "is required");
        HasError(exception, 4, "custom-api", "ports", "'70000' is not a port");
        HasError(exception, 4, "custom-api", "ports", "'web' is not a port");
        HasError(exception, 5, "custom-bad name", null, "custom service name");
    }

    [Fact]
    public void A_broken_custom_service_is_reported_once_not_again_on_the_decky_using_it()
    {
        var exception = Rejects("[custom-api]\nexec = /srv/api\n[d]\nservices = api\n");

        var error = Assert.Single(exception.Errors);
        Assert.Equal((1, "custom-api", "binary"), (error.Line, error.Section, error.Key));
    }

    [Fact]
    public void An_ini_without_deckies_is_rejected()
    {
        var exception = Rejects("[general]\nnet = 10.0.0.0/24\n[custom-x]\nbinary = img\n");

        HasError(exception, null, null, null, "defines no decky");
    }

    [Fact]
    public void Garbage_text_is_rejected_with_its_line()
    {
        var exception = Rejects("GET / HTTP/1.1\nHost: example\n");

        HasError(exception, 1, null, "GET / HTTP/1.1", "outside of any section");
        HasError(exception, 2, null, "Host", "outside of any section");
        HasError(exception, null, null, null, "at least one section");
    }

    [Fact]
    public void Oversized_text_is_rejected_before_parsing()
    {
        var exception = Rejects("[d]\n" + new string(';', IniDocument.MaxBytes));

        HasError(exception, null, null, null, "512 KiB");
    }

    [Fact]
    public void Every_problem_is_reported_in_line_order_not_just_the_first()
    {
        var exception = Rejects("""
            [general]
            net = 10.0.0.0/24
            gw = 10.9.9.9
            [web-01]
            services = http, gopher
            mutate_interval = often
            [web-01]
            [db]
            archetype = nosql
            amount = 0
            """);

        Assert.Equal([3, 5, 6, 7, 9, 10], exception.Errors.Select(e => e.Line));
        Assert.StartsWith("6 errors", exception.Message, StringComparison.Ordinal);
        Assert.Contains("line 6 [web-01] mutate_interval: must be an integer", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_decky_has_one_host_name_from_its_section_or_its_ssh_settings()
    {
        var spec = DeploymentIniLoader.Load(General + """
            [web]
            ip = 10.0.5.40
            hostname = wp-prod-01
            services = ssh, http

            [web.ssh]
            hostname = WP-PROD-01

            [jump]
            ip = 10.0.5.41
            services = ssh, telnet

            [jump.ssh]
            hostname = bastion.corp.example
            """);

        Assert.Equal(["wp-prod-01", "bastion.corp.example"], spec.Deckies.Select(d => d.Hostname));
        var plan = new DeckyPlanner(TimeProvider.System, new Random(3)).Plan(spec);
        Assert.Equal(["wp-prod-01", "bastion.corp.example"], plan.Deckies.Select(d => d.Hostname));
        Assert.Equal("bastion.corp.example", plan.Deckies[1].PersonaFor("ssh")["hostname"]);
    }

    [Fact]
    public void Two_different_host_names_for_one_decky_are_refused_where_the_second_is_written()
    {
        var exception = Rejects(General + """
            [web]
            ip = 10.0.5.40
            hostname = wp-prod-01
            services = ssh, telnet

            [web.ssh]
            hostname = db-01

            [mail]
            ip = 10.0.5.41
            services = ssh, telnet

            [mail.ssh]
            hostname = mx1

            [mail.telnet]
            hostname = mx2
            """);

        HasError(exception, 12, "web.ssh", "hostname", "differs from the host name 'wp-prod-01'");
        HasError(exception, 22, "mail.telnet", "hostname", "'mx2' differs from the host name 'mx1'");
    }

    [Theory]
    [InlineData("-lead")]
    [InlineData("under_score")]
    [InlineData("a..b")]
    [InlineData("sp ace")]
    public void A_host_name_that_is_not_one_is_refused(string hostname)
    {
        var exception = Rejects(General + $"[web]\nip = 10.0.5.40\nhostname = {hostname}\nservices = http\n");

        HasError(exception, 8, "web", "hostname", "is not a host name");
    }
}
