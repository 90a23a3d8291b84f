using Decnet.Core.Honeypots.Mssql;
using Decnet.Tests.Honeypots.Ntlm;

namespace Decnet.Tests.Honeypots.Mssql;

[Trait("Category", "Integration")]
public sealed class MssqlHoneypotTests
{
    [Fact]
    public async Task Tsql_login_is_refused_with_18456_and_its_password_is_decoded()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MssqlHoneypotFactory());

        var result = await RealClient.RunAsync("tsql", ["-H", decky.Address.ToString(), "-p", "1433", "-U", "sa", "-P", "Pr0d#Sql!2019", "-D", "payroll"], stdin: "quit\n");

        Assert.Contains("Login failed for user 'sa'", result.StdOut + result.StdErr, StringComparison.Ordinal);
        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.Equal("sa", auth.Field("username"));
        Assert.Equal("Pr0d#Sql!2019", auth.Field("password"));
        Assert.Equal("payroll", auth.Field("database"));
        Assert.Equal("TSQL", auth.Field("app_name"));
        Assert.Equal(("sa", "Pr0d#Sql!2019"), (BountyOf.Credential(auth)["username"], BountyOf.Credential(auth)["password"]));
        Assert.NotNull((await decky.Sink.WaitForAsync("prelogin")).Field("client_version"));
    }

    [Fact]
    public async Task A_windows_login_is_captured_as_a_crackable_netntlmv2_line()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new MssqlHoneypotFactory());

        var result = await RealClient.RunAsync("tsql", ["-H", decky.Address.ToString(), "-p", "1433", "-U", "CORP\\svc_backup", "-P", "Backup#2026"], stdin: "quit\n");

        Assert.Contains("Login failed for user 'CORP\\svc_backup'", result.StdOut + result.StdErr, StringComparison.Ordinal);
        var auth = await decky.Sink.WaitForAsync("auth");
        Assert.Equal("svc_backup", auth.Field("username"));
        Assert.Equal("CORP", auth.Field("domain"));
        Assert.Equal("true", auth.Field("integrated_auth"));
        Assert.Null(auth.Field("password"));
        var hash = auth.Field("hash")!;
        Assert.Equal("5600", auth.Field("hashcat_mode"));
        Assert.True(NtlmHashes.VerifiesNetNtlmV2(hash, "Backup#2026"), hash);
        Assert.False(NtlmHashes.VerifiesNetNtlmV2(hash, "Backup#2025"));
        Assert.Equal(hash, BountyOf.Credential(auth)["hash"]);
    }

    /// <summary>A LOGIN7 packet whose SSPI field carries an NTLM NEGOTIATE and nothing else.</summary>
    private static byte[] IntegratedLogin()
    {
        var login = new byte[94 + 16];
        BitConverter.GetBytes((uint)login.Length).CopyTo(login, 0);
        BitConverter.GetBytes((ushort)94).CopyTo(login, 78);
        BitConverter.GetBytes((ushort)16).CopyTo(login, 80);
        "NTLMSSP\0"u8.CopyTo(login.AsSpan(94));
        login[102] = 1;
        return [0x10, 0x01, 0x00, (byte)(login.Length + 8), 0, 0, 1, 0, .. login];
    }

    [Fact]
    public async Task Garbage_and_truncated_packets_leave_no_fault_and_tsql_still_gets_its_answer()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new MssqlHoneypotFactory());
        await Robustness.SendGarbageAsync(hosted.EndPointOf("mssql", 1433),
        [
            [0x12, 0x01, 0x00, 0x10, 0, 0, 1, 0, 0x00, 0xff, 0xff, 0x00, 0x06, 0xff, 0, 0],
            [0x10, 0x01, 0x00, 0x20, 0, 0, 1, 0, .. new byte[24]],
            [0x10, 0x00, 0xff, 0xff, 0, 0, 1, 0],
            [0x10, 0x01, 0x00, 0x66, 0, 0, 1, 0, .. Enumerable.Repeat((byte)0xff, 94)],
            [0x99, 0x01, 0x00, 0x08, 0, 0, 1, 0],
            [.. IntegratedLogin(), 0x11, 0x01, 0x00, 0x1c, 0, 0, 1, 0, .. "NTLMSSP\0"u8.ToArray(), 3, 0, 0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff, 0xff, 0x7f],
            [.. IntegratedLogin(), 0x12, 0x01, 0x00, 0x08, 0, 0, 1, 0],
        ]);
        await decky.Sink.WaitForAsync("unknown_packet");
        await decky.Sink.WaitForAsync("protocol_error", e => e.Field("error") == "malformed NTLM authenticate");
        await decky.Sink.WaitForAsync("protocol_error", e => e.Field("error") == "no SSPI answer to the NTLM challenge");

        var result = await RealClient.RunAsync("tsql", ["-H", decky.Address.ToString(), "-p", "1433", "-U", "after", "-P", "garbage"], stdin: "quit\n");
        Assert.Contains("Login failed for user 'after'", result.StdOut + result.StdErr, StringComparison.Ordinal);
        Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0, s.FaultedSessions));
    }
}
