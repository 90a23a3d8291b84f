using System.Globalization;
using System.Security.Cryptography;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Ftp;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Tests.Honeypots.Ftp;

/// <summary>Uploads with curl against the real FTP listener: the data connection is bounded like the session.</summary>
[Trait("Category", "Integration")]
public sealed class FtpUploadBoundsTests
{
    [Fact]
    public async Task A_40_MiB_curl_upload_is_cut_at_the_session_byte_cap()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new FtpHoneypotFactory());
        var cap = new SessionLimits().MaxBytesPerSession;
        var payload = new byte[40 * 1024 * 1024];
        new Random(40).NextBytes(payload);
        var local = Path.Combine(decky.Root, "big.bin");
        await File.WriteAllBytesAsync(local, payload, TestContext.Current.CancellationToken);

        var upload = await RealClient.RunAsync("curl", ["-sS", "--max-time", "90", "--user", "root:toor", "-T", local, $"ftp://{decky.Address}/upload/big.bin"], timeout: TimeSpan.FromMinutes(2));

        Assert.NotEqual(0, upload.ExitCode);
        var captured = await decky.Sink.WaitForAsync("file_captured");
        Assert.Equal("true", captured.Field("truncated"));
        Assert.Equal("true", captured.Field("session_byte_cap"));
        var size = long.Parse(captured.Field("size")!, CultureInfo.InvariantCulture);
        Assert.InRange(size, cap - 4096, cap);
        var stored = await File.ReadAllBytesAsync(Path.Combine(decky.ArtifactsDirectory, decky.Name, "ftp", captured.Field("stored_as")!), TestContext.Current.CancellationToken);
        Assert.Equal(size, stored.Length);
        // What was kept is exactly the beginning of what curl sent.
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(payload.AsSpan(0, stored.Length))), Convert.ToHexStringLower(SHA256.HashData(stored)));

        var disconnect = await decky.Sink.WaitForAsync("disconnect");
        Assert.Equal("byte_cap", disconnect.Field("reason"));
        Assert.True(long.Parse(disconnect.Field("bytes_in")!, CultureInfo.InvariantCulture) <= cap);
    }

    [Fact]
    public async Task An_upload_over_the_decky_quota_is_reported_but_not_kept()
    {
        await using var decky = TestDecky.Create();
        decky.UseArtifactQuota(new ArtifactQuotaOptions { MaxBytesPerDecky = 64 * 1024, MaxBytesTotal = 1024 * 1024 });
        await decky.StartAsync(new FtpHoneypotFactory());
        var payload = RandomNumberGenerator.GetBytes(300_000);
        var local = Path.Combine(decky.Root, "kit.tgz");
        await File.WriteAllBytesAsync(local, payload, TestContext.Current.CancellationToken);

        var upload = await RealClient.RunAsync("curl", ["-sS", "--max-time", "30", "--user", "root:toor", "-T", local, $"ftp://{decky.Address}/upload/kit.tgz"]);

        Assert.Equal(70, upload.ExitCode); // curl's code for the server's 552 "Exceeded storage allocation"
        var skipped = await decky.Sink.WaitForAsync("file_skipped");
        Assert.Equal("decky_quota", skipped.Field("reason"));
        Assert.Equal("300000", skipped.Field("size"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(payload)), skipped.Field("sha256"));
        Assert.Equal("/upload/kit.tgz", skipped.Field("orig_path"));
        Assert.Equal("root", skipped.Field("username"));
        Assert.Empty(decky.Sink.OfType("file_captured"));
        var folder = Path.Combine(decky.ArtifactsDirectory, decky.Name, "ftp");
        Assert.False(Directory.Exists(folder) && Directory.EnumerateFiles(folder).Any(), "nothing, not even a partial file, stays on disk");
        Assert.Equal(0, decky.Artifacts.UsedBy(decky.Name));

        // A file that fits is still stored.
        var small = Path.Combine(decky.Root, "note.txt");
        await File.WriteAllTextAsync(small, "fits", TestContext.Current.CancellationToken);
        Assert.Equal(0, (await RealClient.RunAsync("curl", ["-sS", "--max-time", "30", "--user", "root:toor", "-T", small, $"ftp://{decky.Address}/upload/note.txt"])).ExitCode);
        await decky.Sink.WaitForAsync("file_captured");
    }

    [Fact]
    public async Task Uploads_of_two_deckies_each_under_its_quota_stop_at_the_host_total()
    {
        await using var first = TestDecky.Create();
        await using var second = TestDecky.Create();
        // Each decky may hold 256 KiB, the host 300 KiB: one 200 KB upload fits, a second on another decky does not.
        var quota = new ArtifactQuota(Path.Combine(first.Root, "host-artifacts"), new ArtifactQuotaOptions { MaxBytesPerDecky = 256 * 1024, MaxBytesTotal = 300 * 1024 });
        first.UseArtifactQuota(quota);
        second.UseArtifactQuota(quota);
        await first.StartAsync(new FtpHoneypotFactory());
        await second.StartAsync(new FtpHoneypotFactory());
        var kept = RandomNumberGenerator.GetBytes(200_000);
        var refused = RandomNumberGenerator.GetBytes(200_000);
        var keptFile = Path.Combine(first.Root, "a.bin");
        var refusedFile = Path.Combine(first.Root, "b.bin");
        await File.WriteAllBytesAsync(keptFile, kept, TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(refusedFile, refused, TestContext.Current.CancellationToken);

        var stored = await RealClient.RunAsync("curl", ["-sS", "--max-time", "30", "--user", "root:toor", "-T", keptFile, $"ftp://{first.Address}/upload/a.bin"]);
        var skippedUpload = await RealClient.RunAsync("curl", ["-sS", "--max-time", "30", "--user", "root:toor", "-T", refusedFile, $"ftp://{second.Address}/upload/b.bin"]);

        Assert.True(stored.ExitCode == 0, stored.StdErr);
        var captured = await first.Sink.WaitForAsync("file_captured");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(kept)), captured.Field("sha256"));
        Assert.Equal(70, skippedUpload.ExitCode); // 552 "Exceeded storage allocation"
        var skipped = await second.Sink.WaitForAsync("file_skipped");
        Assert.Equal("total_quota", skipped.Field("reason"));
        Assert.Equal((300 * 1024).ToString(CultureInfo.InvariantCulture), skipped.Field("limit"));
        Assert.Equal("200000", skipped.Field("size"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(refused)), skipped.Field("sha256"));
        Assert.Empty(second.Sink.OfType("file_captured"));
        var secondFolder = Path.Combine(quota.Root, second.Name);
        Assert.False(Directory.Exists(secondFolder) && Directory.EnumerateFiles(secondFolder, "*", SearchOption.AllDirectories).Any(), "nothing of the refused upload stays on disk");
        Assert.Equal(0, quota.UsedBy(second.Name));
        Assert.Equal(quota.UsedBy(first.Name), quota.Used);
        Assert.Equal(200_000 + ArtifactQuota.FileOverhead, quota.Used);
    }
}
