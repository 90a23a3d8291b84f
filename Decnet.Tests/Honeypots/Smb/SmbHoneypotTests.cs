using Decnet.Core.Honeypots.Smb;
using Decnet.Tests.Honeypots.Ntlm;

namespace Decnet.Tests.Honeypots.Smb;

[Trait("Category", "Integration")]
public sealed class SmbHoneypotTests
{
    private static Task<RealClient.Result> Smbclient(params string[] args) =>
        RealClient.RunAsync("smbclient", [.. args, "--option=client min protocol=SMB2"], timeout: TimeSpan.FromSeconds(60));

    private static string Describe(RealClient.Result result) => $"exit {result.ExitCode}\nstdout:\n{result.StdOut}\nstderr:\n{result.StdErr}";

    [Fact]
    public async Task Smbclient_lists_the_shares_anonymously()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmbHoneypotFactory());

        var result = await Smbclient("-L", $"//{decky.Address}", "-N");

        Assert.Matches(@"Shared\s+Disk\s+Department files", result.StdOut);
        Assert.Matches(@"IPC\$\s+IPC\s+Remote IPC", result.StdOut);
        Assert.Matches(@"ADMIN\$\s+Disk\s+Remote Admin", result.StdOut);
        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.True(auth.Field("status") == "anonymous", string.Join(";", auth.Fields.Select(f => f.Key + "=" + f.Value)));
        await decky.Sink.WaitForAsync("rpc_call", e => e.Field("operation") == "NetrShareEnum");
        Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0, s.FaultedSessions));
    }

    [Fact]
    public async Task A_login_is_captured_as_a_crackable_netntlmv2_line_and_the_share_lists_its_bait()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmbHoneypotFactory());

        var result = await Smbclient($"//{decky.Address}/Shared", "-U", "CORP\\alice%Summer2026!", "-c", "ls; cd IT; get passwords.txt /dev/null");

        Assert.True(result.StdOut.Contains("Finance", StringComparison.Ordinal), Describe(result));
        Assert.Matches(@"readme\.txt\s+A\s+\d+", result.StdOut);
        Assert.Contains("blocks of size", result.StdOut, StringComparison.Ordinal);
        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.Equal("alice", auth.Field("username"));
        Assert.Equal("CORP", auth.Field("domain"));
        Assert.Equal("NTLMv2", auth.Field("ntlm_version"));
        Assert.Equal("5600", auth.Field("hashcat_mode"));
        Assert.StartsWith("alice::CORP:", auth.Field("hash"), StringComparison.Ordinal);
        Assert.True(NtlmHashes.VerifiesNetNtlmV2(auth.Field("hash")!, "Summer2026!"), auth.Field("hash"));
        Assert.False(NtlmHashes.VerifiesNetNtlmV2(auth.Field("hash")!, "Summer2025!"));
        Assert.Equal(auth.Field("hash"), BountyOf.Credential(auth)["hash"]);
        var read = await decky.Sink.WaitForAsync("file_read");
        Assert.Equal("IT\\passwords.txt", read.Field("path"));
        Assert.Contains(decky.Sink.OfType("tree_connect"), e => e.Field("share") == "Shared" && e.Field("status") == "success");
    }

    [Fact]
    public async Task Smbclient_over_netbios_port_139_opens_a_session_and_lists_the_shares()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmbHoneypotFactory());

        var result = await Smbclient("-p", "139", "-L", $"//{decky.Address}", "-N");

        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(result.StdOut, @"Shared\s+Disk\s+Department files"), Describe(result));
        var session = await decky.Sink.WaitForAsync("netbios_session");
        Assert.False(string.IsNullOrEmpty(session.Field("called_name")));
        Assert.DoesNotContain(decky.Sink.OfType("protocol_error"), e => e.Field("error")!.Contains("NetBIOS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_and_admin_shares_are_refused()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new SmbHoneypotFactory());

        var admin = await Smbclient($"//{decky.Address}/C$", "-U", "administrator%Passw0rd", "-c", "ls");
        Assert.Contains("NT_STATUS_ACCESS_DENIED", admin.StdOut + admin.StdErr, StringComparison.Ordinal);
        var missing = await Smbclient($"//{decky.Address}/nosuch", "-N", "-c", "ls");
        Assert.Contains("NT_STATUS_BAD_NETWORK_NAME", missing.StdOut + missing.StdErr, StringComparison.Ordinal);
    }
}
