namespace Decnet.Tests.Honeypots.Ssh;

/// <summary>Every algorithm the server advertises works with the stock OpenSSH client when forced.</summary>
[Trait("Category", "Integration")]
public sealed class SshAlgorithmTests
{
    [Theory]
    [InlineData("Ciphers=chacha20-poly1305@openssh.com")]
    [InlineData("Ciphers=aes128-gcm@openssh.com")]
    [InlineData("Ciphers=aes256-gcm@openssh.com")]
    [InlineData("Ciphers=aes128-ctr")]
    [InlineData("Ciphers=aes192-ctr")]
    [InlineData("Ciphers=aes256-ctr")]
    [InlineData("MACs=hmac-sha2-256")]
    [InlineData("MACs=hmac-sha2-512")]
    [InlineData("MACs=hmac-sha2-256-etm@openssh.com")]
    [InlineData("MACs=hmac-sha2-512-etm@openssh.com")]
    [InlineData("MACs=umac-64-etm@openssh.com")]
    [InlineData("MACs=umac-128-etm@openssh.com")]
    [InlineData("MACs=umac-64@openssh.com")]
    [InlineData("MACs=umac-128@openssh.com")]
    [InlineData("MACs=hmac-sha1")]
    [InlineData("MACs=hmac-sha1-etm@openssh.com")]
    [InlineData("KexAlgorithms=sntrup761x25519-sha512@openssh.com")]
    [InlineData("KexAlgorithms=sntrup761x25519-sha512")]
    [InlineData("KexAlgorithms=curve25519-sha256")]
    [InlineData("KexAlgorithms=curve25519-sha256@libssh.org")]
    [InlineData("KexAlgorithms=ecdh-sha2-nistp256")]
    [InlineData("KexAlgorithms=ecdh-sha2-nistp384")]
    [InlineData("KexAlgorithms=ecdh-sha2-nistp521")]
    [InlineData("KexAlgorithms=diffie-hellman-group14-sha256")]
    [InlineData("KexAlgorithms=diffie-hellman-group16-sha512")]
    [InlineData("KexAlgorithms=diffie-hellman-group18-sha512")]
    [InlineData("KexAlgorithms=diffie-hellman-group-exchange-sha256")]
    [InlineData("HostKeyAlgorithms=ssh-ed25519")]
    [InlineData("HostKeyAlgorithms=ecdsa-sha2-nistp256")]
    [InlineData("HostKeyAlgorithms=rsa-sha2-512")]
    [InlineData("HostKeyAlgorithms=rsa-sha2-256")]
    public async Task Forced_algorithm_negotiates_and_carries_a_session(string option)
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();
        // MACs only matter with a non-AEAD cipher.
        string[] extra = option.StartsWith("MACs=", StringComparison.Ordinal) ? ["-o", "Ciphers=aes128-ctr"] : [];

        var result = await host.SshAsync("admin", "echo negotiated-ok; cat /proc/cpuinfo | wc -l", null, "root", ["-o", option, .. extra]);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.StartsWith("negotiated-ok\n", result.Stdout);
        Assert.Empty(host.Errors);
    }

    [Fact]
    public async Task Rekeying_requested_by_the_client_keeps_the_session_working()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();
        var script = string.Concat(Enumerable.Range(0, 200).Select(i => $"echo line-{i}-{new string('x', 100)}\n"));

        // RekeyLimit makes the client start a new key exchange every 4 KiB of traffic.
        var result = await host.SshAsync("admin", null, script, "root", "-o", "RekeyLimit=4K");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("line-199-", result.Stdout);
        Assert.Equal(200, result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Host_keys_are_stable_across_connections_and_restarts_and_stored_private()
    {
        Assert.True(ClientProcess.Exists("ssh-keyscan"), "openssh-client is not installed");
        var state = Directory.CreateTempSubdirectory("decnet-ssh-state-").FullName;
        try
        {
            string first, second, third;
            await using (var host = await SshTestHost.StartAsync(stateDirectory: state))
            {
                // Key generation (RSA-3072) runs in the background; on a loaded CI box it can outlast keyscan's timeout.
                await host.Service.HostKeysAsync.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
                first = await ScanAsync(host.Port);
                second = await ScanAsync(host.Port);
            }
            await using (var restarted = await SshTestHost.StartAsync(stateDirectory: state))
            {
                third = await ScanAsync(restarted.Port);
            }
            Assert.Contains("ssh-ed25519 ", first);
            Assert.Contains("ecdsa-sha2-nistp256 ", first);
            Assert.Contains("ssh-rsa ", first);
            Assert.Equal(first, second);
            Assert.Equal(first, third);
            foreach (var file in OperatingSystem.IsWindows() ? [] : Directory.GetFiles(state, "ssh_host_*"))
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(file));
            }
        }
        finally
        {
            Directory.Delete(state, true);
        }
    }

    private static async Task<string> ScanAsync(int port)
    {
        var result = await ClientProcess.RunAsync("ssh-keyscan", ["-T", "30", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", "rsa,ecdsa,ed25519", "127.0.0.1"]);
        // Drop the "[127.0.0.1]:port" host column: ports differ between runs, keys must not.
        return string.Join('\n', result.Stdout.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l[(l.IndexOf(' ', StringComparison.Ordinal) + 1)..]).Order(StringComparer.Ordinal));
    }
}
