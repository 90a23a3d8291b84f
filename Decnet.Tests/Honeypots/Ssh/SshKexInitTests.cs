using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Decnet.Core.Honeypots.Ssh;
using Decnet.Tests.Benchmarks;

namespace Decnet.Tests.Honeypots.Ssh;

/// <summary>
/// The server KEXINIT is the persona's OpenSSH build's: HASSH-server equals Debian's real sshd, and
/// every algorithm a persona advertises works with the stock client when forced.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SshKexInitTests
{
    [Fact]
    public async Task Hassh_server_of_the_debian_persona_equals_debian_sshd()
    {
        Assert.True(OpenSshServer.Installed, "openssh-server is not installed (apt-get install openssh-server)");
        await using var host = await SshTestHost.StartAsync();
        await using var sshd = await OpenSshServer.StartAsync(IPAddress.Loopback, defaultHostKeys: true);

        var (ourBanner, ours) = await CaptureKexInitAsync(new IPEndPoint(IPAddress.Loopback, host.Port));
        var (realBanner, real) = await CaptureKexInitAsync(sshd.EndPoint);

        Assert.StartsWith("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u", realBanner);
        Assert.StartsWith("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u", ourBanner);
        var ourHassh = SshAlgorithmProfile.HasshAlgorithms(ours);
        Assert.Equal(SshAlgorithmProfile.HasshAlgorithms(real), ourHassh);
        Assert.Contains("sntrup761x25519-sha512@openssh.com", ourHassh);
        Assert.Contains("umac-64-etm@openssh.com", ourHassh);
        Assert.EndsWith(";none,zlib@openssh.com", ourHassh);
        Assert.Equal(NameLists(real), NameLists(ours));
    }

    [Fact]
    public async Task Nmap_algorithm_enumeration_and_version_detection_see_the_same_as_on_debian_sshd()
    {
        Assert.True(OpenSshServer.Installed, "openssh-server is not installed (apt-get install openssh-server)");
        Assert.True(ClientProcess.Exists("nmap"), "nmap is not installed (apt-get install nmap)");
        await using var host = await SshTestHost.StartAsync();
        await using var sshd = await OpenSshServer.StartAsync(IPAddress.Loopback, defaultHostKeys: true);

        var ours = await NmapAsync(host.Port);
        var real = await NmapAsync(sshd.EndPoint.Port);

        Assert.Contains("kex_algorithms: (12)", real);
        Assert.Equal(real, ours);
        Assert.Empty(host.Errors);
    }

    [Fact]
    public async Task Stock_client_with_default_settings_negotiates_what_it_would_with_debian_sshd()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();

        var result = await host.SshAsync("admin", "echo default-ok", null, "root", "-v");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("default-ok\n", result.Stdout);
        // Debian's client prefers the post-quantum hybrid, and chacha20-poly1305 (which needs no MAC).
        Assert.Contains("kex: algorithm: sntrup761x25519-sha512", result.Stderr);
        Assert.Contains("kex: server->client cipher: chacha20-poly1305@openssh.com MAC: <implicit> compression: none", result.Stderr);
    }

    [Theory]
    [InlineData("debian", "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,")]
    [InlineData("ubuntu22", "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,sntrup761x25519-sha512@openssh.com,")]
    [InlineData("ubuntu20", "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,")]
    [InlineData("centos7", "curve25519-sha256,")]
    [InlineData("rocky9", "curve25519-sha256,")]
    [InlineData("alpine", "sntrup761x25519-sha512@openssh.com,curve25519-sha256,")]
    [InlineData("fedora", "curve25519-sha256,")]
    public async Task Each_distro_persona_advertises_its_openssh_builds_lists(string distro, string kexPrefix)
    {
        await using var host = await SshTestHost.StartAsync(distro: distro);

        var (banner, kexInit) = await CaptureKexInitAsync(new IPEndPoint(IPAddress.Loopback, host.Port));

        Assert.Equal(SshPersona.DefaultVersionFor(distro), banner);
        var lists = NameLists(kexInit);
        Assert.StartsWith(kexPrefix, lists[0]);
        var profile = SshAlgorithmProfile.For(banner, distro);
        Assert.Equal(string.Join(',', [.. profile.KeyExchange, .. profile.KexMarkers]), lists[0]);
        Assert.Equal(string.Join(',', profile.Ciphers), lists[3]);
        Assert.Equal(string.Join(',', profile.Macs), lists[5]);
        if (distro == "centos7")
        {
            Assert.EndsWith(",diffie-hellman-group14-sha1", lists[0]);
            Assert.StartsWith("ssh-rsa,", lists[1]);
        }
        if (distro == "rocky9")
        {
            Assert.StartsWith("aes256-gcm@openssh.com,", lists[3]);
            Assert.DoesNotContain("umac-64", lists[5]);
        }

        // And the stock client logs in to every one of them with its default settings.
        var login = await host.SshAsync("admin", "echo profile-ok");
        Assert.True(login.ExitCode == 0, login.Stderr);
        Assert.Equal("profile-ok\n", login.Stdout);
        Assert.Empty(host.Errors);
    }

    [Fact]
    public void Every_algorithm_any_profile_advertises_is_implemented()
    {
        foreach (var profile in SshAlgorithmProfile.All)
        {
            Assert.All(profile.KeyExchange, a => Assert.Contains(a, SshAlgorithms.KeyExchange));
            Assert.All(profile.KexMarkers, a => Assert.Contains(a, SshAlgorithms.KexMarkers));
            Assert.All(profile.HostKeys, a => Assert.Contains(a, SshAlgorithms.HostKeys));
            Assert.All(profile.Ciphers, a => Assert.Contains(a, SshAlgorithms.Ciphers));
            Assert.All(profile.Macs, a => Assert.Contains(a, SshAlgorithms.Macs));
            Assert.All(profile.Compression, a => Assert.Contains(a, SshAlgorithms.Compression));
        }
    }

    [Theory]
    [InlineData("KexAlgorithms=diffie-hellman-group14-sha1")]
    [InlineData("HostKeyAlgorithms=ssh-rsa")]
    public async Task Centos7_persona_serves_its_sha1_algorithms_to_the_stock_client(string option)
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync(distro: "centos7");

        var result = await host.SshAsync("admin", "echo negotiated-ok", null, "root", ["-o", option]);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("negotiated-ok\n", result.Stdout);
        Assert.Empty(host.Errors);
    }

    [Theory]
    [InlineData("Ciphers=aes128-ctr", "MACs=umac-64-etm@openssh.com")]
    [InlineData("Ciphers=chacha20-poly1305@openssh.com", "KexAlgorithms=sntrup761x25519-sha512@openssh.com")]
    [InlineData("Ciphers=aes256-ctr", "RekeyLimit=16K")]
    public async Task Delayed_zlib_compression_carries_a_large_output_and_a_large_upload_across_rekeys(string first, string second)
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();
        // ~300 KB each way: many compressed packets, several window adjusts, repetitive enough to shrink.
        var script = string.Concat(Enumerable.Range(0, 3000).Select(i => $"echo row-{i:0000}-{new string('z', 80)}\n"));

        var result = await host.SshAsync("admin", null, script, "root", "-o", "Compression=yes", "-o", first, "-o", second, "-v");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(3000, result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains($"row-2999-{new string('z', 80)}", result.Stdout);
        // ssh -v reports the negotiated compression and, at the end, how much it saved.
        Assert.Contains("compression: zlib@openssh.com", result.Stderr);
        Assert.Matches(@"compress outgoing: raw data \d+, compressed \d+", result.Stderr);
        var disconnect = await host.Sink.WaitForAsync("disconnect");
        Assert.True(long.Parse(disconnect.Field("bytes_in")!, CultureInfo.InvariantCulture) < script.Length / 4, $"bytes_in {disconnect.Field("bytes_in")} for {script.Length} bytes of input");
        Assert.Empty(host.Errors);
    }

    /// <summary>The version column and the ssh2-enum-algos block of an nmap scan of one loopback port.</summary>
    private static async Task<string> NmapAsync(int port)
    {
        var result = await ClientProcess.RunAsync("nmap", ["-sV", "--version-light", "-Pn", "-n", "-p", port.ToString(CultureInfo.InvariantCulture), "--script", "ssh2-enum-algos", "127.0.0.1"], timeoutMs: 180_000);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n');
        var version = lines.Single(l => l.StartsWith($"{port}/tcp", StringComparison.Ordinal));
        return string.Join('\n', [version[version.IndexOf("open", StringComparison.Ordinal)..], .. lines.Where(l => l.StartsWith('|'))]);
    }

    /// <summary>A bare TCP client: sends an identification line, returns the server's and its first packet (KEXINIT).</summary>
    private static async Task<(string Banner, byte[] KexInit)> CaptureKexInitAsync(IPEndPoint endPoint)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(endPoint, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        var line = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one, TestContext.Current.CancellationToken) == 1 && one[0] != '\n')
        {
            line.Add(one[0]);
        }
        var header = new byte[5];
        await stream.ReadExactlyAsync(header, TestContext.Current.CancellationToken);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header);
        var rest = new byte[length - 1];
        await stream.ReadExactlyAsync(rest, TestContext.Current.CancellationToken);
        var payload = rest[..^header[4]];
        Assert.Equal(SshMessage.KexInit, payload[0]);
        return (Encoding.ASCII.GetString([.. line]).TrimEnd('\r'), payload);
    }

    private static string[] NameLists(byte[] kexInit)
    {
        var result = new string[10];
        var offset = 17;
        for (var i = 0; i < 10; i++)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(kexInit.AsSpan(offset));
            result[i] = Encoding.ASCII.GetString(kexInit, offset + 4, length);
            offset += 4 + length;
        }
        return result;
    }
}
