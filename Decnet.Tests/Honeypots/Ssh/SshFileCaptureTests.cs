using System.Globalization;
using System.Security.Cryptography;

namespace Decnet.Tests.Honeypots.Ssh;

[Trait("Category", "Integration")]
public sealed class SshFileCaptureTests
{
    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static string MakePayload(string root, int size)
    {
        var path = Path.Combine(root, "x m r i g.sh");
        File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(size));
        return path;
    }

    private static void AssertCaptured(SshTestHost host, string local, string method, string origPath)
    {
        var captured = host.Sink.OfType("file_captured").Single();
        var hash = Sha256(local);
        Assert.Equal(hash, captured.Field("sha256"));
        Assert.Equal(method, captured.Field("method"));
        Assert.Equal(origPath, captured.Field("orig_path"));
        Assert.Equal("root", captured.Field("ssh_user"));
        Assert.Equal(new FileInfo(local).Length.ToString(CultureInfo.InvariantCulture), captured.Field("size"));
        Assert.Equal("127.0.0.1", captured.Field("src_ip"));
        var storedAs = captured.Field("stored_as")!;
        Assert.Matches($"^[0-9]{{8}}T[0-9]{{6}}Z_{hash[..12]}_x_m_r_i_g\\.sh$", storedAs);
        Assert.Equal(hash, Sha256(Path.Combine(host.ArtifactsDirectory, storedAs)));
    }

    [Fact]
    public async Task Legacy_scp_upload_becomes_an_artifact_with_matching_sha256()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();
        var local = MakePayload(host.Root, 300_000);

        var result = await ClientProcess.RunAsync("sshpass", ["-p", "admin", "scp", "-O", .. host.SshOptions(), "-P", host.Port.ToString(CultureInfo.InvariantCulture), local, "root@127.0.0.1:/tmp/"]);

        Assert.True(result.ExitCode == 0, result.Stderr);
        AssertCaptured(host, local, "scp", "/tmp/x m r i g.sh");
        var listing = await host.SshAsync("admin", "ls /tmp");
        Assert.True(listing.ExitCode == 0, listing.Stderr);
    }

    [Fact]
    public async Task Legacy_recursive_scp_captures_every_file_of_the_tree()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();
        var tree = Directory.CreateDirectory(Path.Combine(host.Root, "kit"));
        Directory.CreateDirectory(Path.Combine(tree.FullName, "bin"));
        await File.WriteAllTextAsync(Path.Combine(tree.FullName, "run.sh"), "#!/bin/sh\n./bin/miner\n", TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(tree.FullName, "bin", "miner"), RandomNumberGenerator.GetBytes(4096), TestContext.Current.CancellationToken);

        var result = await ClientProcess.RunAsync("sshpass", ["-p", "admin", "scp", "-O", "-r", "-p", .. host.SshOptions(), "-P", host.Port.ToString(CultureInfo.InvariantCulture), tree.FullName, "root@127.0.0.1:/tmp/"]);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var captured = host.Sink.OfType("file_captured").ToDictionary(e => e.Field("orig_path")!, e => e.Field("sha256"));
        Assert.Equal(Sha256(Path.Combine(tree.FullName, "run.sh")), captured["/tmp/kit/run.sh"]);
        Assert.Equal(Sha256(Path.Combine(tree.FullName, "bin", "miner")), captured["/tmp/kit/bin/miner"]);
    }

    [Fact]
    public async Task Sftp_mode_scp_upload_becomes_an_artifact()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();
        var local = MakePayload(host.Root, 70_000);

        var result = await ClientProcess.RunAsync("sshpass", ["-p", "admin", "scp", "-s", .. host.SshOptions(), "-P", host.Port.ToString(CultureInfo.InvariantCulture), local, "root@127.0.0.1:/var/tmp/payload.bin"]);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var captured = host.Sink.OfType("file_captured").Single();
        Assert.Equal(Sha256(local), captured.Field("sha256"));
        Assert.Equal("/var/tmp/payload.bin", captured.Field("orig_path"));
    }

    [Fact]
    public async Task Sftp_put_becomes_an_artifact_and_shows_in_the_listing()
    {
        Assert.True(SshTestHost.ClientsInstalled && ClientProcess.Exists("sftp"), "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();
        var local = MakePayload(host.Root, 1_000_000);
        var batch = $"cd /tmp\nput \"{local}\"\nls -l\nmkdir stash\nrename \"x m r i g.sh\" stash/k.sh\nls stash\nget /etc/hostname {host.Root}/hostname.txt\n";

        var result = await ClientProcess.RunAsync("sshpass", ["-p", "admin", "sftp", .. host.SshOptions(), "-P", host.Port.ToString(CultureInfo.InvariantCulture), "-b", "-", "root@127.0.0.1"], batch);

        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        AssertCaptured(host, local, "sftp", "/tmp/x m r i g.sh");
        Assert.Contains("x m r i g.sh", result.Stdout);
        Assert.Contains("stash/k.sh", result.Stdout);
        Assert.Equal("srv-files-42\n", File.ReadAllText(Path.Combine(host.Root, "hostname.txt")));
    }

    [Fact]
    public async Task Upload_over_the_size_cap_is_skipped_and_reported()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync(new() { ["max_upload_bytes"] = "1000" });
        var local = MakePayload(host.Root, 5000);

        var result = await ClientProcess.RunAsync("sshpass", ["-p", "admin", "scp", "-O", .. host.SshOptions(), "-P", host.Port.ToString(CultureInfo.InvariantCulture), local, "root@127.0.0.1:/tmp/big"]);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var skipped = await host.Sink.WaitForAsync("file_skipped");
        Assert.Equal("5000", skipped.Field("size"));
        Assert.Empty(host.Sink.OfType("file_captured"));
        Assert.False(Directory.Exists(host.ArtifactsDirectory) && Directory.EnumerateFiles(host.ArtifactsDirectory).Any());
    }
}
