using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Ftp;

namespace Decnet.Tests.Honeypots.Ftp;

public sealed class FtpHoneypotTests
{
    private static Task<RealClient.Result> Curl(params string[] args) => RealClient.RunAsync("curl", ["-sS", "--max-time", "20", .. args]);

    [Theory]
    [Trait("Category", "Integration")]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Curl_lists_and_downloads_bait_files_over_epsv_and_pasv(bool pasvOnly)
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new FtpHoneypotFactory());
        string[] mode = pasvOnly ? ["--disable-epsv"] : [];

        var listing = await Curl([.. mode, "--user", "admin:Passw0rd!", $"ftp://{decky.Address}/backup/"]);
        Assert.Equal(0, listing.ExitCode);
        Assert.Contains("credentials.txt", listing.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"-rw-r--r--\s+1 ftp\s+ftp\s+\d+ Mar 02 10:15 db_backup_2026-02-28.sql", listing.StdOut);

        var download = await Curl([.. mode, "--user", "admin:Passw0rd!", $"ftp://{decky.Address}/backup/credentials.txt"]);
        Assert.StartsWith("vpn gateway:", download.StdOut, StringComparison.Ordinal);

        var auth = await decky.Sink.WaitForAsync("auth_attempt");
        Assert.Equal("admin", auth.Field("username"));
        Assert.Equal("Passw0rd!", auth.Field("password"));
        Assert.NotNull(auth.Field("src_ip"));
        Assert.Equal("admin", (await decky.Sink.WaitForAsync("user")).Field("username"));
        var retrieved = await decky.Sink.WaitForAsync("download_attempt");
        Assert.Equal("/backup/credentials.txt", retrieved.Field("path"));
        Assert.Equal("true", retrieved.Field("found"));
        await decky.Sink.WaitForAsync("command", e => e.Field("cmd") == (pasvOnly ? "PASV" : "EPSV"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task An_upload_is_stored_as_an_artifact_with_its_hash()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new FtpHoneypotFactory());
        var payload = new byte[300_000];
        new Random(7).NextBytes(payload);
        var local = Path.Combine(decky.Root, "x m r i g.sh");
        await File.WriteAllBytesAsync(local, payload);

        var upload = await Curl("--user", "root:toor", "-T", local, $"ftp://{decky.Address}/upload/../upload/miner%20drop.sh");
        Assert.Equal(0, upload.ExitCode);

        var captured = await decky.Sink.WaitForAsync("file_captured");
        var sha = Convert.ToHexStringLower(SHA256.HashData(payload));
        Assert.Equal(sha, captured.Field("sha256"));
        Assert.Equal("300000", captured.Field("size"));
        Assert.Equal("/upload/miner drop.sh", captured.Field("orig_path"));
        var storedAs = captured.Field("stored_as")!;
        Assert.Matches($@"^\d{{8}}T\d{{6}}Z_{sha[..12]}_miner_drop\.sh$", storedAs);
        var stored = Path.Combine(decky.ArtifactsDirectory, decky.Name, "ftp", storedAs);
        Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(stored))));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Lftp_logs_in_and_mirrors_a_directory_in_passive_mode()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new FtpHoneypotFactory());
        var target = Path.Combine(decky.Root, "loot");
        var result = await RealClient.RunAsync("lftp", ["-c", $"set net:max-retries 1; set net:timeout 10; set ftp:passive-mode on; open -u guest,guest {decky.Address}; mirror /pub {target}"]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("Ask Dave", await File.ReadAllTextAsync(Path.Combine(target, "notes.txt")), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Commands_before_login_are_refused_and_active_mode_is_never_used()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new FtpHoneypotFactory());
        using var client = new TcpClient();
        await client.ConnectAsync(hosted.EndPointOf("ftp", 21));
        var reader = new StreamReader(client.GetStream());
        var writer = new StreamWriter(client.GetStream()) { AutoFlush = true, NewLine = "\r\n" };
        Assert.Equal("220 (vsFTPd 3.0.3)", await reader.ReadLineAsync());
        await writer.WriteLineAsync("LIST");
        Assert.Equal("530 Please login with USER and PASS.", await reader.ReadLineAsync());
        await writer.WriteLineAsync("USER anonymous");
        Assert.StartsWith("331", await reader.ReadLineAsync(), StringComparison.Ordinal);
        await writer.WriteLineAsync("PASS mozilla@example.com");
        Assert.StartsWith("230", await reader.ReadLineAsync(), StringComparison.Ordinal);
        await writer.WriteLineAsync("PORT 10,0,0,1,4,1");
        Assert.Equal("500 Illegal PORT command.", await reader.ReadLineAsync());
        await writer.WriteLineAsync("CWD ../../etc");
        Assert.Equal("550 Failed to change directory.", await reader.ReadLineAsync());
        await writer.WriteLineAsync("RETR /etc/shadow");
        Assert.Equal("550 Failed to open file.", await reader.ReadLineAsync());
        await writer.WriteLineAsync("QUIT");
        Assert.Equal("221 Goodbye.", await reader.ReadLineAsync());
        Assert.Equal("10,0,0,1,4,1", (await decky.Sink.WaitForAsync("port_command")).Field("target"));
        Assert.Equal("false", (await decky.Sink.WaitForAsync("download_attempt")).Field("found"));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Garbage_never_breaks_the_listener()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new FtpHoneypotFactory());
        await Robustness.SendGarbageAsync(hosted.EndPointOf("ftp", 21),
        [
            "USER a\r\nPASS b\r\nPASV\r\nSTOR x\r\n"u8.ToArray(),
            "USER a\r\nPASS b\r\nLIST\r\nRETR\r\nSIZE\r\nCWD\r\nTYPE\r\nEPSV\r\nRETR README.txt\r\n"u8.ToArray(),
            Encoding.ASCII.GetBytes("USER " + new string('x', 50_000) + "\r\n"),
            "\0\0\0\xff\xfe\r\n\r\n"u8.ToArray(),
        ]);
        var listing = await Curl("--user", "a:b", $"ftp://{decky.Address}/");
        Assert.Contains("README.txt", listing.StdOut, StringComparison.Ordinal);
        await decky.AssertNoSessionFaultsAsync();
    }

    [Theory]
    [Trait("Category", "Unit")]
    [InlineData("/pub", "../../../etc/passwd", "/etc/passwd")]
    [InlineData("/", "pub/./notes.txt", "/pub/notes.txt")]
    [InlineData("/pub", "/backup/", "/backup")]
    [InlineData("/pub", "", "/pub")]
    public void Paths_resolve_without_climbing_above_the_root(string cwd, string argument, string expected) =>
        Assert.Equal(expected, FtpBaitFileSystem.Resolve(cwd, argument));

    [Theory]
    [Trait("Category", "Unit")]
    [InlineData("/upload/../../etc/cron.d/x", "x")]
    [InlineData("..\\..\\evil.exe", "evil.exe")]
    [InlineData("...", "unnamed")]
    [InlineData("a b;rm -rf $(x).sh", "a_b_rm_-rf___x_.sh")]
    public void Artifact_names_keep_only_a_safe_basename(string original, string expected) =>
        Assert.Equal(expected, ArtifactStore.SanitiseBaseName(original));
}
