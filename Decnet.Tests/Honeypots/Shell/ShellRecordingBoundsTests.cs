using System.Globalization;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Shell;
using Decnet.Core.Honeypots.Telnet;
using Decnet.Tests.Honeypots.Ssh;

namespace Decnet.Tests.Honeypots.Shell;

/// <summary>
/// Shell recordings count against the artifact quota: attackers logging in again and again with real
/// clients cannot fill the disk with asciicast files, and every session past the quota is still served.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ShellRecordingBoundsTests
{
    private const long Quota = 40 * 1024;

    private static string[] Recordings(string stateDirectory)
    {
        var folder = Path.Combine(stateDirectory, "recordings");
        return Directory.Exists(folder) ? Directory.GetFiles(folder) : [];
    }

    /// <summary>The recordings folder, charged as the quota charges it: bytes plus one block per file.</summary>
    private static long Charged(string[] files) => files.Sum(f => new FileInfo(f).Length + ArtifactQuota.FileOverhead);

    [Fact]
    public async Task Repeated_ssh_shells_stop_being_recorded_at_the_decky_quota_but_are_still_served()
    {
        Assert.True(SshTestHost.ClientsInstalled, "openssh-client and sshpass are not installed");
        var options = new ArtifactQuotaOptions { MaxBytesPerDecky = Quota, MaxBytesTotal = 4 * Quota };
        await using var host = await SshTestHost.StartAsync(new() { ["max_recording_bytes"] = "8192" }, artifacts: options);

        const int sessions = 20;
        for (var i = 0; i < sessions; i++)
        {
            var result = await host.SshAsync("admin", null, $"echo round-{i}\ncat /etc/passwd\nexit\n", "root", "-tt");
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.Contains($"round-{i}", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("root:x:0:0", result.Stdout, StringComparison.Ordinal);
            await WaitForCountAsync(() => host.Sink.OfType("session_recorded").Count + host.Sink.OfType("session_not_recorded").Count, i + 1);
        }

        var files = Recordings(host.StateDirectory);
        Assert.True(Charged(files) <= Quota, $"{files.Length} recordings charged {Charged(files)} bytes over a {Quota}-byte quota");
        Assert.InRange(files.Length, 2, (int)(Quota / ArtifactQuota.FileOverhead));
        Assert.True(host.Artifacts.UsedBy("decky-01") <= Quota);
        Assert.Equal(Charged(files), host.Artifacts.UsedBy("decky-01"));
        var recorded = host.Sink.OfType("session_recorded");
        var refused = host.Sink.OfType("session_not_recorded");
        Assert.Equal(files.Length, recorded.Count);
        Assert.Equal(sessions - files.Length, refused.Count);
        Assert.All(refused, e =>
        {
            Assert.Equal("decky_quota", e.Field("reason"));
            Assert.Equal(Quota.ToString(CultureInfo.InvariantCulture), e.Field("limit"));
            Assert.Equal("root", e.Field("username"));
        });
        // Every recording kept is whole or says the quota stopped it.
        Assert.All(recorded, e => Assert.True(e.Field("truncated") == "false" || e.Field("reason") == "decky_quota", e.Field("reason")));
        Assert.Empty(host.Errors);

        // After a restart the recordings already on disk still count: the next shell is served unrecorded.
        await using var restarted = await SshTestHost.StartAsync(new() { ["max_recording_bytes"] = "8192" }, stateDirectory: host.StateDirectory, artifacts: options);
        var again = await restarted.SshAsync("admin", null, "echo after-restart\nexit\n", "root", "-tt");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("after-restart", again.Stdout, StringComparison.Ordinal);
        Assert.Equal("decky_quota", (await restarted.Sink.WaitForAsync("session_not_recorded")).Field("reason"));
        Assert.Equal(files.Length, Recordings(host.StateDirectory).Length);
    }

    [Fact]
    public async Task Repeated_telnet_shells_stop_being_recorded_at_the_quota_and_the_recorder_gives_back_what_it_did_not_use()
    {
        Assert.True(ClientProcess.Exists("curl"), "curl is not installed");
        using var decky = new HoneypotTestContext(new Dictionary<string, string> { ["failure_delay_ms"] = "0", ["max_recording_bytes"] = "16384" },
            artifacts: new ArtifactQuotaOptions { MaxBytesPerDecky = Quota, MaxBytesTotal = 4 * Quota });
        await using var listener = await HostedTestService.StartAsync(new TelnetServiceFactory(), decky);

        const int sessions = 15;
        for (var i = 0; i < sessions; i++)
        {
            // curl speaks Telnet and sends its stdin as the keystrokes.
            var result = await ClientProcess.RunAsync("curl", ["-sS", "--max-time", "15", $"telnet://127.0.0.1:{listener.Port}"],
                $"root\r\nadmin\r\necho telnet-round-{i}\r\nexit\r\n");
            Assert.Contains($"telnet-round-{i}", result.Stdout, StringComparison.Ordinal);
            await WaitForCountAsync(() => decky.Sink.OfType("session_recorded").Count + decky.Sink.OfType("session_not_recorded").Count, i + 1);
        }

        var files = Recordings(decky.Context.StateDirectory);
        Assert.True(Charged(files) <= Quota, $"{files.Length} recordings charged {Charged(files)} bytes over a {Quota}-byte quota");
        // Each shell reserves a 16 KiB step while it runs; finished ones keep only what they wrote, so more
        // than two small sessions fit in 40 KiB.
        Assert.InRange(files.Length, 3, (int)(Quota / ArtifactQuota.FileOverhead));
        Assert.Equal(Charged(files), decky.Artifacts.UsedBy("decky-01"));
        Assert.Equal(files.Length, decky.Sink.OfType("session_recorded").Count);
        var refused = decky.Sink.OfType("session_not_recorded");
        Assert.Equal(sessions - files.Length, refused.Count);
        Assert.All(refused, e => Assert.Equal("decky_quota", e.Field("reason")));
        Assert.Empty(listener.Errors);
    }

    [Fact]
    public async Task A_recording_that_reaches_the_total_quota_mid_session_stops_there_and_says_which_quota()
    {
        using var decky = new HoneypotTestContext(artifacts: new ArtifactQuotaOptions { MaxBytesPerDecky = 1024 * 1024, MaxBytesTotal = ArtifactQuota.FileOverhead + (2 * AsciicastRecorder.ReservationStep) });
        var quota = decky.Artifacts;
        var connection = new Decnet.Core.Honeypots.Hosting.HoneypotConnection(decky.Context, "ssh", Stream.Null,
            new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 40000), new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 22));

        var recorder = await AsciicastRecorder.TryStartAsync(connection, 0, 80, 24, "xterm", "/bin/bash", 1024 * 1024, "root", TestContext.Current.CancellationToken);
        Assert.NotNull(recorder);
        var chunk = new string('x', 10_000);
        for (var i = 0; i < 40; i++)
        {
            await recorder.OutputAsync(chunk, TestContext.Current.CancellationToken);
        }
        await recorder.DisposeAsync();

        Assert.True(recorder.Truncated);
        Assert.Equal(ArtifactRefusal.TotalQuota, recorder.StoppedBy);
        var onDisk = new FileInfo(recorder.Path).Length;
        Assert.Equal(recorder.Bytes, onDisk);
        Assert.InRange(onDisk, AsciicastRecorder.ReservationStep, 2 * AsciicastRecorder.ReservationStep);
        Assert.Equal(onDisk + ArtifactQuota.FileOverhead, quota.Used);
        var fields = recorder.RecordedFields("root", connection.SessionId).ToDictionary(f => f.Key, f => f.Value);
        Assert.Equal("true", fields["truncated"]);
        Assert.Equal("total_quota", fields["reason"]);

        // The next shell finds the total used up and is not recorded at all.
        Assert.Null(await AsciicastRecorder.TryStartAsync(connection, 1, 80, 24, "xterm", "/bin/bash", 1024 * 1024, "root", TestContext.Current.CancellationToken));
        var refused = await decky.Sink.WaitForAsync("session_not_recorded");
        Assert.Equal("total_quota", refused.Field("reason"));
        Assert.Single(Directory.GetFiles(Path.Combine(decky.Context.StateDirectory, "recordings")));
    }

    private static async Task WaitForCountAsync(Func<int> count, int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (count() < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(25);
        }
        Assert.Equal(expected, count());
    }
}
