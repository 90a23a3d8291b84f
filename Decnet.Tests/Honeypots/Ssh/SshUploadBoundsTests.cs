using System.Globalization;
using System.Security.Cryptography;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Ssh;

namespace Decnet.Tests.Honeypots.Ssh;

/// <summary>
/// Hostile uploads over SSH against the real listener: SFTP writes at huge offsets, loops of
/// OPEN/WRITE/CLOSE, and scp trees of empty files. Nothing they do may grow memory or disk past the bounds.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SshUploadBoundsTests
{
    private const long DefaultCap = 50L * 1024 * 1024;

    private static long FolderBytes(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;

    private static int FolderFiles(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count() : 0;

    [Fact]
    public async Task An_sftp_write_at_offset_cap_minus_one_is_refused_and_stores_no_hole()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();
        await using (var sftp = await SftpWire.OpenAsync(host))
        {
            var (handle, status) = await sftp.OpenForWriteAsync("/tmp/hole.bin");
            Assert.Equal(SftpWire.Ok, status);

            Assert.Equal(SftpWire.Failure, await sftp.WriteAsync(handle!, DefaultCap - 1, [0x41]));
            Assert.Equal(SftpWire.Failure, await sftp.WriteAsync(handle!, ulong.MaxValue, [0x41]));
            // Writes that continue the data are fine; one byte past its end is a hole again.
            Assert.Equal(SftpWire.Ok, await sftp.WriteAsync(handle!, 0, "abc"u8.ToArray()));
            Assert.Equal(SftpWire.Ok, await sftp.WriteAsync(handle!, 3, "def"u8.ToArray()));
            Assert.Equal(SftpWire.Failure, await sftp.WriteAsync(handle!, 7, "g"u8.ToArray()));
            Assert.Equal(SftpWire.Ok, await sftp.CloseAsync(handle!));
        }

        var captured = await host.Sink.WaitForAsync("file_captured");
        Assert.Equal("6", captured.Field("size"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("abcdef"u8)), captured.Field("sha256"));
        Assert.Equal(6, FolderBytes(host.ArtifactsDirectory));
        Assert.Empty(host.Errors);
    }

    [Fact]
    public async Task A_thousand_open_write_close_rounds_keep_the_artifacts_folder_under_its_quota()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        const long quota = 256 * 1024;
        await using var host = await SshTestHost.StartAsync(artifacts: new ArtifactQuotaOptions { MaxBytesPerDecky = quota, MaxBytesTotal = 4 * quota, MaxFilesPerSession = 1000 });
        var payload = RandomNumberGenerator.GetBytes(2048);
        await using (var sftp = await SftpWire.OpenAsync(host))
        {
            for (var round = 0; round < 1000; round++)
            {
                var (handle, status) = await sftp.OpenForWriteAsync($"/tmp/drop-{round}.bin");
                Assert.Equal(SftpWire.Ok, status);
                Assert.Equal(SftpWire.Failure, await sftp.WriteAsync(handle!, DefaultCap - 1, [0x41]));
                Assert.Equal(SftpWire.Ok, await sftp.WriteAsync(handle!, 0, payload));
                Assert.Equal(SftpWire.Ok, await sftp.CloseAsync(handle!));
            }
        }

        var stored = FolderFiles(host.ArtifactsDirectory);
        Assert.InRange(stored, 1, (int)(quota / (payload.Length + ArtifactQuota.FileOverhead)));
        Assert.True(FolderBytes(host.ArtifactsDirectory) + (stored * ArtifactQuota.FileOverhead) <= quota, $"{FolderBytes(host.ArtifactsDirectory)} bytes in {stored} files");
        Assert.True(host.Artifacts.UsedBy("decky-01") <= quota);
        Assert.Equal(stored, host.Sink.OfType("file_captured").Count);
        var skipped = host.Sink.OfType("file_skipped");
        Assert.Equal(1000 - stored, skipped.Count);
        Assert.All(skipped, e =>
        {
            Assert.Equal("decky_quota", e.Field("reason"));
            Assert.Equal("2048", e.Field("size"));
            Assert.Equal(quota.ToString(CultureInfo.InvariantCulture), e.Field("limit"));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(payload)), e.Field("sha256"));
        });
        Assert.Empty(host.Errors);
        var shell = await host.SshAsync("admin", "echo still-serving");
        Assert.Equal("still-serving\n", shell.Stdout);
    }

    [Fact]
    public async Task Sftp_opens_beyond_the_session_file_slots_are_refused_with_one_event()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync(artifacts: new ArtifactQuotaOptions { MaxFilesPerSession = 10 });
        var refused = 0;
        await using (var sftp = await SftpWire.OpenAsync(host))
        {
            for (var round = 0; round < 50; round++)
            {
                var (handle, status) = await sftp.OpenForWriteAsync($"/tmp/f{round}");
                if (handle is null)
                {
                    Assert.Equal(SftpWire.Failure, status);
                    refused++;
                    continue;
                }
                Assert.Equal(SftpWire.Ok, await sftp.WriteAsync(handle, 0, [1, 2, 3]));
                Assert.Equal(SftpWire.Ok, await sftp.CloseAsync(handle));
            }
        }

        Assert.Equal(40, refused);
        Assert.Equal(10, FolderFiles(host.ArtifactsDirectory));
        var skipped = Assert.Single(host.Sink.OfType("file_skipped"));
        Assert.Equal("files_per_session", skipped.Field("reason"));
        Assert.Equal("10", skipped.Field("limit"));
        Assert.Equal("/tmp/f10", skipped.Field("orig_path"));
    }

    [Fact]
    public async Task An_scp_tree_of_empty_files_stops_at_the_session_file_slots()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();
        var tree = Directory.CreateDirectory(Path.Combine(host.Root, "empties"));
        for (var i = 0; i < 300; i++)
        {
            await File.WriteAllBytesAsync(Path.Combine(tree.FullName, $"e{i:D3}"), [], TestContext.Current.CancellationToken);
        }

        // Legacy scp sends one "C0644 0 eNNN" record per file.
        var result = await ClientProcess.RunAsync("sshpass", ["-p", "admin", "scp", "-O", "-r", .. host.SshOptions(), "-P", host.Port.ToString(CultureInfo.InvariantCulture), tree.FullName, "root@127.0.0.1:/tmp/"]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Disk quota exceeded", result.Stderr, StringComparison.Ordinal);
        var slots = new ArtifactQuotaOptions().MaxFilesPerSession;
        Assert.Equal(slots, FolderFiles(host.ArtifactsDirectory));
        Assert.Equal(slots, host.Sink.OfType("file_captured").Count);
        var skipped = Assert.Single(host.Sink.OfType("file_skipped"));
        Assert.Equal("files_per_session", skipped.Field("reason"));
        Assert.Equal("scp", skipped.Field("method"));
        Assert.Empty(host.Errors);
        var shell = await host.SshAsync("admin", "echo still-serving");
        Assert.Equal("still-serving\n", shell.Stdout);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void A_bounded_upload_counts_only_received_bytes_and_refuses_holes()
    {
        var budget = new UploadBudget(1024);
        var upload = new BoundedUpload(DefaultCap, budget);

        Assert.False(upload.Write(DefaultCap - 1, [1]));
        Assert.Equal(0, upload.Size);
        Assert.True(upload.Write(0, [1, 2, 3]));
        Assert.True(upload.Write(1, [9]));
        Assert.False(upload.Write(4, [4]));
        Assert.Equal(3, upload.Size);
        Assert.Equal(4, upload.Received);
        Assert.Equal([1, 9, 3], upload.ToArray());
        // The connection's budget was charged for three bytes only.
        Assert.True(budget.TryReserve(1021));
        Assert.False(budget.TryReserve(1));
    }
}
