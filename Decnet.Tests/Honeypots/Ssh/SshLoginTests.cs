namespace Decnet.Tests.Honeypots.Ssh;

[Trait("Category", "Integration")]
public sealed class SshLoginTests
{
    [Fact]
    public async Task Stock_openssh_client_logs_in_with_default_weak_password_and_exec_runs()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed (apt-get install openssh-client sshpass)");
        await using var host = await SshTestHost.StartAsync();

        var result = await host.SshAsync("admin", "id; hostname; cat /etc/os-release | head -n 1");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("uid=0(root) gid=0(root)", result.Stdout);
        Assert.Contains("srv-files-42", result.Stdout);
        Assert.Contains("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"", result.Stdout);

        var connect = await host.Sink.WaitForAsync("connect");
        Assert.StartsWith("SSH-2.0-OpenSSH_", connect.Field("client_version"));
        Assert.Matches("^[0-9a-f]{32}$", connect.Field("hassh"));
        Assert.Contains("curve25519-sha256", connect.Field("hassh_algorithms"));
        // The Debian client asks for strict kex (Terrapin fix), so sequence-number resets are exercised.
        Assert.Contains("kex-strict-c-v00@openssh.com", connect.Field("hassh_algorithms"));
        var auth = await host.Sink.WaitForAsync("auth_attempt");
        // The stock client tries keyboard-interactive before password; both are captured the same way.
        Assert.Equal(("root", "admin", "success"), (auth.Field("username"), auth.Field("password"), auth.Field("result")));
        Assert.Contains(auth.Field("method"), new[] { "keyboard-interactive", "password" });
        Assert.Equal("127.0.0.1", auth.Field("src_ip"));
        var command = await host.Sink.WaitForAsync("command");
        Assert.Equal("id; hostname; cat /etc/os-release | head -n 1", command.Field("cmd"));
        Assert.Equal("/root", command.Field("cwd"));
        Assert.Equal("root", command.Field("user"));
        var disconnect = await host.Sink.WaitForAsync("disconnect");
        Assert.NotNull(disconnect.Field("duration_ms"));
        Assert.Equal("root", disconnect.Field("username"));
        // One connection, one connect (ours, with the client's fingerprint and the port) and one disconnect.
        Assert.Equal(host.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(host.Sink.OfType("connect")).Field("dst_port"));
        Assert.Single(host.Sink.OfType("disconnect"));
        Assert.Empty(host.Errors);
    }

    [Fact]
    public async Task Exec_returns_the_exit_status_of_the_emulated_command()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();

        var result = await host.SshAsync("admin", "nosuchtool --now");

        Assert.Equal(127, result.ExitCode);
        Assert.Contains("bash: nosuchtool: command not found", result.Stderr + result.Stdout);
    }

    [Fact]
    public async Task Shell_without_pty_runs_each_line_from_stdin()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();

        var result = await host.SshAsync("admin", null, "cd /tmp\npwd\necho hello > note.txt\ncat /tmp/note.txt\nwhoami\n");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("/tmp\nhello\nroot\n", result.Stdout);
        var commands = host.Sink.OfType("command").Select(e => e.Field("cmd")).ToList();
        Assert.Equal(["cd /tmp", "pwd", "echo hello > note.txt", "cat /tmp/note.txt", "whoami"], commands);
    }
}
