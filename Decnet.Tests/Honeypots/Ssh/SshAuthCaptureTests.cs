using System.Diagnostics;

namespace Decnet.Tests.Honeypots.Ssh;

[Trait("Category", "Integration")]
public sealed class SshAuthCaptureTests
{
    [Fact]
    public async Task Every_wrong_password_is_captured_and_answered_after_the_failure_delay()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync(new() { ["failure_delay_ms"] = "700" });
        var watch = Stopwatch.StartNew();

        var result = await host.SshAskpassAsync("hunter2", "id", "oracle", "-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=3");

        watch.Stop();
        Assert.NotEqual(0, result.ExitCode);
        var attempts = host.Sink.OfType("auth_attempt");
        Assert.Equal(3, attempts.Count);
        Assert.All(attempts, a => Assert.Equal(("oracle", "hunter2", "password", "failure"), (a.Field("username"), a.Field("password"), a.Field("method"), a.Field("result"))));
        Assert.True(watch.ElapsedMilliseconds >= 3 * 700, $"three failures took only {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Failure_delay_runs_on_the_time_provider_without_holding_the_session()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await SshTestHost.StartAsync(new() { ["failure_delay_ms"] = "60000" }, time: time);

        var client = host.SshAskpassAsync("wrong", "id", "root", "-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=1");
        // A loaded machine can take a while to get ssh through the key exchange; a client that gave up says why.
        var attempt = host.Sink.WaitForAsync("auth_attempt", timeoutMs: 60_000);
        if (await Task.WhenAny(attempt, client) == client && !attempt.IsCompleted)
        {
            var ended = await client;
            Assert.Fail($"ssh ended (exit {ended.ExitCode}) before its first password: {ended.Stderr}");
        }
        await attempt;
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.False(client.IsCompleted, "the failure was answered before the delay elapsed");

        // Other connections are served while the first one waits.
        var second = await host.SshAsync("admin", "echo meanwhile");
        Assert.Equal("meanwhile\n", second.Stdout);

        time.Advance(TimeSpan.FromSeconds(70));
        var result = await client.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.NotEqual(0, result.ExitCode);
    }

    [Fact]
    public async Task Keyboard_interactive_answers_are_captured_like_passwords()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync(new() { ["users"] = "deploy:Summer2024!" });

        var ok = await host.SshAsync("Summer2024!", "whoami", null, "deploy", "-o", "PreferredAuthentications=keyboard-interactive");
        var bad = await host.SshAsync("admin", "whoami", null, "root", "-o", "PreferredAuthentications=keyboard-interactive", "-o", "NumberOfPasswordPrompts=1");

        Assert.Equal("deploy\n", ok.Stdout);
        Assert.NotEqual(0, bad.ExitCode);
        var attempts = host.Sink.OfType("auth_attempt");
        Assert.Contains(attempts, a => a.Field("username") == "deploy" && a.Field("password") == "Summer2024!" && a.Field("method") == "keyboard-interactive" && a.Field("result") == "success");
        Assert.Contains(attempts, a => a.Field("username") == "root" && a.Field("password") == "admin" && a.Field("result") == "failure");
    }

    [Fact]
    public async Task Connection_is_cut_after_max_auth_tries_with_openssh_message()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        await using var host = await SshTestHost.StartAsync(new() { ["max_auth_tries"] = "3", ["failure_delay_ms"] = "0" });

        var result = await host.SshAskpassAsync("wrong", "id", "root", "-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=10", "-o", "LogLevel=INFO");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Too many authentication failures", result.Stderr);
        Assert.Equal(3, host.Sink.OfType("auth_attempt").Count);
    }

    [Fact]
    public async Task Offered_public_keys_are_recorded_with_openssh_fingerprint_and_refused()
    {
        Assert.True(SshTestHost.ClientsInstalled && ClientProcess.Exists("ssh-keygen"), "openssh-client is not installed");
        await using var host = await SshTestHost.StartAsync();
        var key = Path.Combine(host.Root, "id_ed25519");
        await ClientProcess.RunAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
        var fingerprint = (await ClientProcess.RunAsync("ssh-keygen", ["-l", "-E", "sha256", "-f", key + ".pub"])).Stdout.Split(' ')[1];

        var result = await ClientProcess.RunAsync("ssh", [.. host.SshOptions("-o", "PubkeyAuthentication=yes", "-o", "PreferredAuthentications=publickey", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", key),
            "-p", host.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "admin@127.0.0.1", "id"]);

        Assert.NotEqual(0, result.ExitCode);
        var offered = await host.Sink.WaitForAsync("auth_publickey");
        Assert.Equal(("admin", "ssh-ed25519", fingerprint, "failure"), (offered.Field("username"), offered.Field("key_type"), offered.Field("fingerprint"), offered.Field("result")));
    }
}
