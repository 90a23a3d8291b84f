using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Hosting;

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

    /// <summary>
    /// nmap 7.93 has no signature for a kube-apiserver newer than 1.19 (its two entries are a 2016 build and the
    /// removed basic-auth realm), so a real one scans as an unrecognised service whose printed fingerprint is
    /// the apiserver's answer. Ours must scan the same way: HTTP answers with the apiserver's headers and API paths.
    /// </summary>
    [Theory]
    [InlineData("8080", "")]
    [InlineData("6443", "T=SSL")]
    public async Task Nmap_prints_the_kube_apiserver_answers_a_real_cluster_gives(string port, string transportMark)
    {
        await using var decky = TestDecky.Create();
        var registry = new HoneypotServiceRegistry(BuiltInFactories.All());
        await decky.StartAsync(registry.CreateBinding("k8s", decky.Context(), decky.Address));

        var scan = await RealClient.RunAsync("nmap", ["-sT", "-sV", "-Pn", "-n", "-p", port, decky.Address.ToString()], timeout: TimeSpan.FromMinutes(4));

        Assert.True(scan.ExitCode == 0, scan.StdErr);
        Assert.Matches($@"{port}/tcp\s+open\s", scan.StdOut);
        // The fingerprint nmap prints is wrapped over "SF:" lines; joined, it is the raw answers of each probe.
        var fingerprint = string.Concat(scan.StdOut.Split('\n').Where(l => l.StartsWith("SF", StringComparison.Ordinal)).Select(l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..]));
        string[] expected =
        [
            transportMark,
            "r(GetRequest,",
            "X-Kubernetes-Pf-Flowschema-Uid:",
            @"/apis/rbac\.authorization\.k8s\.io",
            // Go's net/http answers a bare CRLF pair (nmap's GenericLines probe) with its plain 400.
            @"r(GenericLines,67,""HTTP/1\.1\x20400\x20Bad\x20Request\r\nContent-Type:\x20text/plain;\x20charset=utf-8\r\nConnection:\x20close\r\n\r\n400\x20Bad\x20Request"")",
        ];
        foreach (var part in expected)
        {
            Assert.True(fingerprint.Contains(part, StringComparison.Ordinal), $"'{part}' not in nmap's fingerprint:\n{scan.StdOut}");
        }
    }
}
