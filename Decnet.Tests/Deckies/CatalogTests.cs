using Decnet.Core.Deckies;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Tests.Deckies;

public sealed class CatalogTests
{
    [Fact]
    public void There_are_fifteen_archetypes_whose_services_distros_and_os_all_exist()
    {
        Assert.Equal(15, Archetypes.All.Count);
        Assert.Equal(15, Archetypes.Slugs.Distinct().Count());
        Assert.All(Archetypes.All, a =>
        {
            Assert.False(string.IsNullOrWhiteSpace(a.DisplayName));
            Assert.False(string.IsNullOrWhiteSpace(a.Description));
            Assert.NotEmpty(a.Services);
            Assert.All(a.Services, s => Assert.True(ServiceCatalog.IsPerDeckyService(s), s));
            Assert.All(a.PreferredDistros, d => Assert.NotNull(Distros.Find(d)));
            Assert.NotNull(OsProfiles.Find(a.NmapOs));
        });
    }

    [Theory]
    [InlineData("domain-controller", new[] { "ldap", "smb", "rdp", "llmnr" }, "windows")]
    [InlineData("devops-host", new[] { "docker_api", "ssh", "k8s" }, "linux")]
    [InlineData("iot-device", new[] { "mqtt", "snmp", "telnet" }, "embedded")]
    [InlineData("DEADDECK", new[] { "ssh" }, "linux")]
    public void Archetype_lookup_is_case_insensitive_and_returns_the_preset(string slug, string[] services, string os)
    {
        var archetype = Archetypes.Get(slug);

        Assert.Equal(services, archetype.Services);
        Assert.Equal(os, archetype.NmapOs);
    }

    [Fact]
    public void Unknown_archetype_lookup_lists_the_valid_slugs()
    {
        var exception = Assert.Throws<KeyNotFoundException>(() => Archetypes.Get("toaster"));

        Assert.Contains("'toaster'", exception.Message, StringComparison.Ordinal);
        Assert.All(Archetypes.Slugs, slug => Assert.Contains(slug, exception.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Random_archetype_pick_is_repeatable_for_a_seed()
    {
        Assert.Equal(Archetypes.PickRandom(new Random(5)), Archetypes.PickRandom(new Random(5)));
    }

    [Fact]
    public void There_are_nine_distros_and_non_apt_ones_build_on_debian()
    {
        Assert.Equal(["debian", "ubuntu22", "ubuntu20", "rocky9", "centos7", "alpine", "fedora", "kali", "arch"], Distros.Slugs);
        Assert.Equal("debian:bookworm-slim", Distros.Get("alpine").BuildBase);
        Assert.Equal("kalilinux/kali-rolling", Distros.Get("kali").BuildBase);
        Assert.Equal("ubuntu:22.04", Distros.Get("ubuntu22").BuildBase);
        Assert.Throws<KeyNotFoundException>(() => Distros.Get("gentoo"));
    }

    [Fact]
    public void Hostname_word_list_has_twenty_five_distinct_lowercase_words()
    {
        Assert.Equal(25, Distros.HostnameWords.Distinct().Count());
        Assert.All(Distros.HostnameWords, w => Assert.Matches("^[a-z]+$", w));
    }

    [Theory]
    [InlineData(HostnameStyle.Generic, "^SRV-[A-Z]+-[1-9][0-9]$")]
    [InlineData(HostnameStyle.Rhel, "^[a-z]+[1-9][0-9]\\.localdomain$")]
    [InlineData(HostnameStyle.Minimal, "^[a-z]+-[1-9][0-9]$")]
    [InlineData(HostnameStyle.Rolling, "^[a-z]+-[a-z]+$")]
    public void Hostnames_follow_the_distro_style(HostnameStyle style, string pattern)
    {
        for (var seed = 0; seed < 100; seed++)
        {
            var hostname = Distros.GenerateHostname(style, new Random(seed));

            Assert.Matches(pattern, hostname);
            Assert.Equal(hostname, Distros.GenerateHostname(style, new Random(seed)));
        }
    }

    [Fact]
    public void Rolling_hostnames_never_repeat_a_word()
    {
        for (var seed = 0; seed < 500; seed++)
        {
            var parts = Distros.GenerateHostname(HostnameStyle.Rolling, new Random(seed)).Split('-');

            Assert.NotEqual(parts[0], parts[1]);
        }
    }

    [Fact]
    public void Os_profiles_set_the_ten_ipv4_sysctls()
    {
        Assert.Equal(["linux", "windows", "windows_server", "bsd", "embedded", "cisco"], OsProfiles.Slugs);
        Assert.All(OsProfiles.All, p =>
        {
            Assert.Equal(10, p.Sysctls.Count);
            Assert.All(p.Sysctls.Keys, k => Assert.StartsWith("net.ipv4.", k, StringComparison.Ordinal));
        });
    }

    [Theory]
    [InlineData("linux", "64", "6", "1", "2", "1000")]
    [InlineData("windows", "128", "2", "1", "0", "0")]
    [InlineData("bsd", "64", "6", "1", "0", "250")]
    [InlineData("embedded", "255", "3", "0", "0", "0")]
    [InlineData("cisco", "255", "2", "0", "0", "0")]
    public void Os_profiles_carry_the_family_values(string slug, string ttl, string synRetries, string timestamps, string ecn, string icmpRateLimit)
    {
        var sysctls = OsProfiles.Get(slug).Sysctls;

        Assert.Equal(ttl, sysctls["net.ipv4.ip_default_ttl"]);
        Assert.Equal(synRetries, sysctls["net.ipv4.tcp_syn_retries"]);
        Assert.Equal(timestamps, sysctls["net.ipv4.tcp_timestamps"]);
        Assert.Equal(ecn, sysctls["net.ipv4.tcp_ecn"]);
        Assert.Equal(icmpRateLimit, sysctls["net.ipv4.icmp_ratelimit"]);
    }

    [Fact]
    public void Windows_server_uses_the_windows_values()
    {
        Assert.Equal(OsProfiles.Windows.Sysctls, OsProfiles.Get("windows_server").Sysctls);
        Assert.Equal("windows_server", OsProfiles.Get("windows-server").Slug);
    }

    [Theory]
    [InlineData("amiga")]
    [InlineData("")]
    [InlineData(null)]
    public void Unknown_os_slug_falls_back_to_linux(string? slug)
    {
        Assert.Same(OsProfiles.Linux, OsProfiles.Get(slug));
        Assert.Null(OsProfiles.Find(slug));
    }

    [Fact]
    public void Catalog_has_27_per_decky_services_and_the_sniffer_singleton()
    {
        Assert.Equal(28, ServiceCatalog.All.Count);
        Assert.Equal(27, ServiceCatalog.PerDeckyServiceNames.Count);
        Assert.DoesNotContain("sniffer", ServiceCatalog.PerDeckyServiceNames);
        var sniffer = ServiceCatalog.Get("sniffer");
        Assert.True(sniffer.FleetSingleton);
        Assert.Empty(sniffer.Ports);
        Assert.All(ServiceCatalog.All.Where(s => !s.FleetSingleton), s => Assert.NotEmpty(s.Ports));
    }

    [Theory]
    [InlineData("ssh", "22/tcp")]
    [InlineData("smb", "445/tcp,139/tcp")]
    [InlineData("snmp", "161/udp")]
    [InlineData("sip", "5060/udp,5060/tcp")]
    [InlineData("llmnr", "5355/udp,5353/udp,137/udp")]
    [InlineData("conpot", "502/tcp,102/tcp")]
    [InlineData("docker_api", "2375/tcp,2376/tcp")]
    public void Services_declare_their_ports_and_transports(string name, string ports)
    {
        Assert.Equal(ports, string.Join(",", ServiceCatalog.Get(name).Ports));
    }

    [Theory]
    [InlineData("http", "server_header,response_code,fake_app,extra_headers,custom_body,files")]
    [InlineData("https", "server_header,response_code,fake_app,extra_headers,custom_body,files,tls_cert,tls_key,tls_cn")]
    [InlineData("ssh", "password,hostname,users,failure_delay_ms,max_auth_tries,openssh_version")]
    [InlineData("telnet", "password,hostname")]
    [InlineData("smtp", "banner,mta")]
    [InlineData("smtp_relay", "banner,mta")]
    [InlineData("mysql", "version")]
    [InlineData("redis", "version,os_string")]
    [InlineData("postgres", "version,auth,users,databases")]
    [InlineData("mongodb", "version,auth,users")]
    [InlineData("elasticsearch", "version,cluster_name,auth,users")]
    [InlineData("imap", "users,domain,banner,tls_cert,tls_key,tls_cn")]
    [InlineData("pop3", "users,domain,banner,tls_cert,tls_key,tls_cn")]
    [InlineData("snmp", "community,write_community,persona,sys_descr,sys_object_id,sys_contact,sys_location,sys_name")]
    [InlineData("ftp", "")]
    [InlineData("smb", "domain,netbios_domain,share,share_comment")]
    [InlineData("mssql", "version,domain,netbios_domain")]
    [InlineData("rdp", "domain,netbios_domain,tls_cert,tls_key,tls_cn")]
    [InlineData("llmnr", "domain,netbios_domain")]
    [InlineData("ldap", "domain,netbios_domain,users,accept_binds,anonymous_search,tls_cert,tls_key,tls_cn")]
    public void Services_list_the_persona_keys_they_read(string name, string keys)
    {
        var service = ServiceCatalog.Get(name);

        Assert.Equal(keys, string.Join(",", service.PersonaKeys));
        Assert.All(service.PersonaKeys, k => Assert.True(service.ReadsPersonaKey(k.ToUpperInvariant())));
    }

    [Fact]
    public void Unknown_service_lookup_lists_the_valid_names()
    {
        var exception = Assert.Throws<KeyNotFoundException>(() => ServiceCatalog.Get("gopher"));

        Assert.Contains("valid services: ssh,", exception.Message, StringComparison.Ordinal);
        Assert.Equal(new ServicePort(22, ServiceTransport.Tcp), ServiceCatalog.Get("SSH").Ports[0]);
    }
}
