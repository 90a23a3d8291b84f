using System.Globalization;
using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Tests.Honeypots.Hosting;

/// <summary>
/// Version detection by the real nmap against the Windows / directory family on one decky: each port must
/// be reported as the Microsoft (or VNC) product it imitates, the way a scanning intruder would see it.
/// </summary>
[Trait("Category", "Integration")]
public sealed class NmapWindowsServiceDetectionTests
{
    public static TheoryData<string, int, string> Services => new()
    {
        { "smb", 445, @"445/tcp\s+open\s+microsoft-ds\s+Microsoft Windows 7 - 10 microsoft-ds" },
        { "smb", 139, @"139/tcp\s+open\s+netbios-ssn\s+Microsoft Windows netbios-ssn" },
        { "mssql", 1433, @"1433/tcp\s+open\s+ms-sql-s\s+Microsoft SQL Server 2019 15\.00\.4153" },
        { "ldap", 389, @"389/tcp\s+open\s+ldap\s+Microsoft Windows Active Directory LDAP \(Domain: corp\.local, Site: Default-First-Site-Name\)" },
        { "rdp", 3389, @"3389/tcp\s+open\s+ms-wbt-server\s+Microsoft Terminal Services" },
        { "vnc", 5900, @"5900/tcp\s+open\s+vnc\s+VNC \(protocol 3\.8\)" },
    };

    [Fact]
    public async Task Nmap_udp_version_detection_names_the_netbios_name_service_with_its_workgroup()
    {
        await using var decky = TestDecky.Create();
        var registry = new HoneypotServiceRegistry(BuiltInFactories.All());
        await decky.StartAsync(registry.CreateBinding("llmnr", decky.Context(hostname: "fs01"), decky.Address));

        var scan = await RealClient.RunAsync("nmap", ["-sU", "-sV", "-Pn", "-n", "-p", "137", decky.Address.ToString()], timeout: TimeSpan.FromMinutes(4));

        Assert.True(scan.ExitCode == 0, scan.StdErr);
        Assert.True(Regex.IsMatch(scan.StdOut, @"137/udp\s+open\s+netbios-ns\s+Microsoft Windows netbios-ssn \(workgroup: CORP\)"), scan.StdOut);
        Assert.Contains("Host: FS01", scan.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Nmap_version_detection_names_the_microsoft_product(string service, int port, string expected)
    {
        await using var decky = TestDecky.Create();
        var registry = new HoneypotServiceRegistry(BuiltInFactories.All());
        await decky.StartAsync(registry.CreateBinding(service, decky.Context(), decky.Address));

        var scan = await RealClient.RunAsync("nmap", ["-sT", "-sV", "-Pn", "-n", "-p", port.ToString(CultureInfo.InvariantCulture), decky.Address.ToString()],
            timeout: TimeSpan.FromMinutes(4));

        Assert.True(scan.ExitCode == 0, scan.StdErr);
        Assert.True(Regex.IsMatch(scan.StdOut, expected), $"'{expected}' not in nmap output:\n{scan.StdOut}");
        Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0, s.FaultedSessions));
    }
}
