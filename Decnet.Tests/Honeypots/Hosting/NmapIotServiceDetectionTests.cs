using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Tftp;

namespace Decnet.Tests.Honeypots.Hosting;

/// <summary>
/// nmap's version detection (the first thing a scanner runs) names each VoIP, IoT, cloud and ICS service as
/// the product it imitates, from the match lines of Debian's nmap-service-probes.
/// </summary>
[Trait("Category", "Integration")]
public sealed class NmapIotServiceDetectionTests
{
    [Theory]
    // mqtt-subscribe (a version script) reads $SYS/broker/version.
    [InlineData("mqtt", "1883", @"1883/tcp\s+open\s+mosquitto\s+version 2\.0\.18")]
    [InlineData("sip", "5060", @"5060/tcp\s+open\s+sip(-proxy)?\s+Asterisk( PBX)? 18\.20\.0")]
    // docker-version (a version script) reads GET /version.
    [InlineData("docker_api", "2375", @"2375/tcp\s+open\s+docker\s+Docker 24\.0\.7 \(API 1\.43\)")]
    [InlineData("docker_api", "2376", @"2376/tcp\s+open\s+ssl/docker\s+Docker 24\.0\.7 \(API 1\.43\)")]
    // A caller without credentials gets kube-apiserver's basic-auth challenge, which nmap knows.
    [InlineData("k8s", "8080", @"8080/tcp\s+open\s+http\s+Kubernetes master node httpd")]
    [InlineData("k8s", "6443", @"6443/tcp\s+open\s+ssl/http\s+Kubernetes master node httpd")]
    [InlineData("conpot", "502", @"502/tcp\s+open\s+modbus\s+Modbus TCP")]
    [InlineData("conpot", "102", @"102/tcp\s+open\s+iso-tsap\s+Siemens S7 PLC")]
    public async Task Nmap_version_detection_names_the_imitated_product(string service, string port, string expected)
    {
        await using var decky = TestDecky.Create();
        var registry = new HoneypotServiceRegistry(BuiltInFactories.All());
        await decky.StartAsync(registry.CreateBinding(service, decky.Context(), decky.Address));

        var scan = await RealClient.RunAsync("nmap", ["-sT", "-sV", "-Pn", "-n", "-p", port, decky.Address.ToString()], timeout: TimeSpan.FromMinutes(4));

        Assert.True(scan.ExitCode == 0, scan.StdErr);
        Assert.True(Regex.IsMatch(scan.StdOut, expected), $"'{expected}' not in nmap output:\n{scan.StdOut}");
    }

    [Theory]
    // tftpd-hpa answers only read and write requests, and answers them from a new port (the transfer id):
    // nmap, hearing nothing from port 69, reports what it reports for the real Debian daemon.
    [InlineData("linux", @"69/udp\s+open\|filtered\s+tftp\s*\n")]
    [InlineData("cisco", @"69/udp\s+open\s+tftp\s+Cisco router tftpd")]
    [InlineData("windows_server", @"69/udp\s+open\s+tftp\s+Microsoft Windows Deployment Services tftpd")]
    public async Task Nmap_udp_version_detection_names_tftp_as_the_tftpd_of_the_os_persona(string osFamily, string expected)
    {
        await using var decky = TestDecky.Create();
        var context = decky.Context();
        var factory = new TftpHoneypotFactory();
        var service = factory.Create(new ServiceContext
        {
            DeckyName = context.DeckyName, Hostname = context.Hostname, OsFamily = osFamily, StateDirectory = context.StateDirectory,
            ArtifactsDirectory = context.ArtifactsDirectory, Artifacts = context.Artifacts, Events = context.Events, Limits = context.Limits,
            LoggerFactory = context.LoggerFactory,
        });
        await decky.StartAsync(new HostedServiceBinding(factory.Name, service, decky.Address, factory.DefaultPorts));

        var scan = await RealClient.RunAsync("nmap", ["-sU", "-sV", "--version-intensity", "0", "-Pn", "-n", "-p", "69", decky.Address.ToString()], timeout: TimeSpan.FromMinutes(4));

        Assert.True(scan.ExitCode == 0, scan.StdErr);
        Assert.True(Regex.IsMatch(scan.StdOut, expected), $"'{expected}' not in nmap output:\n{scan.StdOut}");
        Assert.DoesNotContain("Plan 9", scan.StdOut, StringComparison.Ordinal);
        // Silent or not, every probe is on record: the scan's read request and its version probes.
        await decky.Sink.WaitForAsync("download", e => e.Field("filename") == "r7tftp.txt" && e.Field("found") == "false");
        await decky.Sink.WaitForAsync("unknown_opcode", e => e.Field("opcode") == "0");
    }
}
