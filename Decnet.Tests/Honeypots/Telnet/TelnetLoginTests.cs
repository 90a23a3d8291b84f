using System.Net.Sockets;
using System.Text;
using Decnet.Core.Honeypots.Telnet;

namespace Decnet.Tests.Honeypots.Telnet;

/// <summary>A scripted Telnet client over TcpClient that speaks IAC like a real one.</summary>
internal sealed class TelnetDialogue : IAsyncDisposable
{
    private readonly TcpClient _client = new();
    private readonly StringBuilder _text = new();
    private readonly List<byte> _raw = [];
    private NetworkStream? _stream;

    public string Text => _text.ToString();
    public IReadOnlyList<byte> Raw => _raw;

    public async Task ConnectAsync(int port)
    {
        await _client.ConnectAsync("127.0.0.1", port, TestContext.Current.CancellationToken);
        _stream = _client.GetStream();
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _stream!.WriteAsync(bytes, TestContext.Current.CancellationToken);

    /// <summary>
    /// Reads until the visible text (IAC sequences removed) contains <paramref name="marker"/> at or after
    /// <paramref name="from"/>; returns the position just past it.
    /// </summary>
    public async Task<int> ExpectAsync(string marker, int from = 0, int timeoutMs = 10_000)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(timeoutMs);
        var buffer = new byte[4096];
        while (_text.ToString().IndexOf(marker, from, StringComparison.Ordinal) < 0)
        {
            int read;
            try
            {
                read = await _stream!.ReadAsync(buffer, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no '{marker}' in: {_text}");
            }
            if (read == 0)
            {
                throw new EndOfStreamException($"closed before '{marker}': {_text}");
            }
            for (var i = 0; i < read; i++)
            {
                _raw.Add(buffer[i]);
            }
            _text.Append(Encoding.UTF8.GetString(StripIac(buffer.AsSpan(0, read))));
        }
        return _text.ToString().IndexOf(marker, from, StringComparison.Ordinal) + marker.Length;
    }

    public async Task<bool> ClosedAsync(int timeoutMs = 10_000)
    {
        using var timeout = new CancellationTokenSource(timeoutMs);
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var read = await _stream!.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    return true;
                }
                _text.Append(Encoding.UTF8.GetString(StripIac(buffer.AsSpan(0, read))));
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static byte[] StripIac(ReadOnlySpan<byte> data)
    {
        var output = new List<byte>();
        for (var i = 0; i < data.Length; i++)
        {
            if (data[i] == TelnetStream.Iac && i + 1 < data.Length)
            {
                i += data[i + 1] is >= TelnetStream.Will and <= TelnetStream.Dont ? 2 : 1;
                continue;
            }
            output.Add(data[i]);
        }
        return [.. output];
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}

[Trait("Category", "Integration")]
public sealed class TelnetLoginTests
{
    [Fact]
    public async Task Scripted_login_captures_credentials_and_runs_a_command_in_the_emulated_shell()
    {
        using var decky = new HoneypotTestContext(new Dictionary<string, string> { ["failure_delay_ms"] = "300" });
        await using var listener = await HostedTestService.StartAsync(new TelnetServiceFactory(), decky);
        await using var client = new TelnetDialogue();
        await client.ConnectAsync(listener.Port);

        await client.ExpectAsync("srv-files-42 login: ");
        Assert.Equal([TelnetStream.Iac, TelnetStream.Will, TelnetStream.Echo], client.Raw.Take(3));
        // Accept the options and report a 100x40 window, as a real client does.
        await client.SendAsync([TelnetStream.Iac, TelnetStream.Do, TelnetStream.Echo, TelnetStream.Iac, TelnetStream.Do, TelnetStream.SuppressGoAhead,
            TelnetStream.Iac, TelnetStream.Will, TelnetStream.WindowSize, TelnetStream.Iac, TelnetStream.Sb, TelnetStream.WindowSize, 0, 100, 0, 40, TelnetStream.Iac, TelnetStream.Se]);
        await client.SendAsync("root\r\n");
        await client.ExpectAsync("Password: ");
        await client.SendAsync("letmein\r\n");
        var afterFailure = await client.ExpectAsync("Login incorrect");
        var secondPrompt = await client.ExpectAsync("login: ", afterFailure);
        await client.SendAsync("root\r\0");
        await client.ExpectAsync("Password: ", secondPrompt);
        await client.SendAsync("admin\r\n");
        var afterLogin = await client.ExpectAsync("root@srv-files-42:~# ");
        Assert.DoesNotContain("admin", client.Text);
        Assert.DoesNotContain("letmein", client.Text);
        await client.SendAsync("cat /etc/hostname; echo telnet-ok\r\n");
        await client.ExpectAsync("telnet-ok\r\n", afterLogin);
        await client.SendAsync("exit\r\n");
        Assert.True(await client.ClosedAsync());

        var attempts = decky.Sink.OfType("auth_attempt");
        Assert.Equal(2, attempts.Count);
        Assert.Equal(("root", "letmein", "failure"), (attempts[0].Field("username"), attempts[0].Field("password"), attempts[0].Field("result")));
        Assert.Equal(("root", "admin", "success"), (attempts[1].Field("username"), attempts[1].Field("password"), attempts[1].Field("result")));
        var command = await decky.Sink.WaitForAsync("command");
        Assert.Equal("cat /etc/hostname; echo telnet-ok", command.Field("cmd"));
        Assert.Contains("srv-files-42\r\ntelnet-ok", client.Text);
        var recorded = await decky.Sink.WaitForAsync("session_recorded");
        Assert.Contains("\"width\":100", File.ReadAllLines(recorded.Field("path")!)[0]);
        await decky.Sink.WaitForAsync("disconnect");
        Assert.Empty(listener.Errors);
    }

    [Fact]
    public async Task Three_wrong_logins_disconnect_after_delays()
    {
        using var decky = new HoneypotTestContext(new Dictionary<string, string> { ["failure_delay_ms"] = "200", ["users"] = "admin:admin" });
        await using var listener = await HostedTestService.StartAsync(new TelnetServiceFactory(), decky);
        await using var client = new TelnetDialogue();
        await client.ConnectAsync(listener.Port);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var seen = 0;
        foreach (var (user, password) in new[] { ("root", "root"), ("admin", "1234"), ("support", "support") })
        {
            seen = await client.ExpectAsync("login: ", seen);
            await client.SendAsync(user + "\r\n");
            seen = await client.ExpectAsync("Password: ", seen);
            await client.SendAsync(password + "\r\n");
            seen = await client.ExpectAsync("Login incorrect", seen);
        }

        Assert.True(await client.ClosedAsync());
        Assert.True(watch.ElapsedMilliseconds >= 600);
        Assert.Equal(["root", "admin", "support"], decky.Sink.OfType("auth_attempt").Select(a => a.Field("username")));
        Assert.All(decky.Sink.OfType("auth_attempt"), a => Assert.Equal("failure", a.Field("result")));
        var disconnect = await decky.Sink.WaitForAsync("disconnect");
        Assert.Equal("too many login failures", disconnect.Field("detail"));
        Assert.Equal("closed", disconnect.Field("reason"));
        Assert.Single(decky.Sink.OfType("connect"));
        Assert.Single(decky.Sink.OfType("disconnect"));
    }
}

[Trait("Category", "Integration")]
public sealed class TelnetScanTests
{
    [Fact]
    public async Task Nmap_service_detection_sees_a_telnet_login()
    {
        Assert.True(ClientProcess.Exists("nmap"), "nmap is not installed (apt-get install nmap)");
        using var decky = new HoneypotTestContext();
        await using var listener = await HostedTestService.StartAsync(new TelnetServiceFactory(), decky);

        var result = await ClientProcess.RunAsync("nmap", ["-sV", "--version-light", "-Pn", "-n", "-p", listener.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "127.0.0.1"], timeoutMs: 180_000);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Matches(@"open\s+telnet", result.Stdout);
        Assert.Empty(listener.Errors);
    }
}
