using Decnet.Core.Attackers;

namespace Decnet.Tests.Attackers;

public sealed class BehaviorAnalyzerTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static BehaviorEvent E(double second, string type = "connect", string decky = "d1", string service = "ssh") =>
        new(T0.AddSeconds(second), decky, service, type);

    [Fact]
    public void Fewer_than_three_events_are_unknown()
    {
        var profile = BehaviorAnalyzer.Analyze([E(0), E(1)], []);
        Assert.Equal(BehaviorAnalyzer.Unknown, profile.BehaviorClass);
        Assert.Equal(2, profile.Timing.EventCount);
    }

    [Fact]
    public void Wide_shallow_and_fast_is_a_scanner()
    {
        var services = new[] { "ssh", "http", "ftp", "smtp", "redis" };
        var events = services.Select((s, i) => E(i * 0.5, "connect", "d1", s)).ToList();
        Assert.Equal(BehaviorAnalyzer.Scanner, BehaviorAnalyzer.Analyze(events, []).BehaviorClass);
    }

    [Fact]
    public void Many_credential_attempts_are_brute_force()
    {
        var events = Enumerable.Range(0, 12).Select(i => E(i * 1.5, "auth_attempt")).ToList();
        Assert.Equal(BehaviorAnalyzer.BruteForce, BehaviorAnalyzer.Analyze(events, []).BehaviorClass);
    }

    [Fact]
    public void Commands_with_irregular_human_gaps_are_interactive()
    {
        double[] at = [0, 2, 3, 15, 17, 60, 61];
        var events = at.Select(s => E(s, "command")).ToList();
        Assert.Equal(BehaviorAnalyzer.Interactive, BehaviorAnalyzer.Analyze(events, []).BehaviorClass);
    }

    [Fact]
    public void Regular_intervals_with_low_jitter_are_beaconing_with_interval_and_jitter()
    {
        double[] at = [0, 60, 121, 180, 241, 300];
        var profile = BehaviorAnalyzer.Analyze(at.Select(s => E(s, "request", "d1", "http")).ToList(), []);
        Assert.Equal(BehaviorAnalyzer.Beaconing, profile.BehaviorClass);
        Assert.Equal(60, profile.BeaconIntervalSeconds);
        Assert.NotNull(profile.BeaconJitterPct);
        Assert.InRange(profile.BeaconJitterPct.Value, 0.1, 5);
    }

    [Fact]
    public void Timing_stats_are_population_statistics_of_the_gaps()
    {
        var timing = BehaviorAnalyzer.Timing([E(0), E(2), E(6)]);
        Assert.Equal(3, timing.EventCount);
        Assert.Equal(6, timing.DurationS);
        Assert.Equal(3, timing.MeanIatS);
        Assert.Equal(3, timing.MedianIatS);
        Assert.Equal(1, timing.StdevIatS);
        Assert.Equal(2, timing.MinIatS);
        Assert.Equal(4, timing.MaxIatS);
        Assert.Equal(0.333, timing.Cv);
    }

    [Theory]
    [InlineData("SSH-2.0-libssh_0.9.6", "libssh")]
    [InlineData("SSH-2.0-paramiko_3.4.0", "paramiko")]
    [InlineData("SSH-2.0-Go", "go-ssh")]
    [InlineData("curl/8.5.0", "curl")]
    [InlineData("python-requests/2.31.0", "python-requests")]
    [InlineData("Go-http-client/1.1", "Go-http-client")]
    [InlineData("Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)", "nmap")]
    [InlineData("masscan/1.3 (https://github.com/robertdavidgraham/masscan)", "masscan")]
    [InlineData("Mozilla/4.0 (Hydra)", "hydra")]
    public void Client_strings_name_their_tool(string client, string tool) =>
        Assert.Equal([tool], BehaviorAnalyzer.GuessTools([client]));

    [Fact]
    public void A_browser_names_no_tool() =>
        Assert.Empty(BehaviorAnalyzer.GuessTools(["Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0", ""]));

    [Fact]
    public void Phases_follow_first_appearance_with_exfil_latency()
    {
        var phases = BehaviorAnalyzer.Phases([E(0, "connect"), E(3, "auth_attempt"), E(5, "connect"), E(8, "command"), E(20, "file_captured")]);
        Assert.Equal(["recon", "credential_access", "execution", "exfiltration"], phases.Phases.Select(p => p.Phase));
        Assert.Equal(T0.AddSeconds(5), phases.ReconEnd);
        Assert.Equal(T0.AddSeconds(20), phases.ExfilStart);
        Assert.Equal(15, phases.ExfilLatencyS);
    }

    [Fact]
    public void Recon_ends_before_the_exfiltration_even_when_the_session_closes_after_it()
    {
        // An SSH session: banner, logins, commands, an upload, then the disconnect 41 s later. The disconnect
        // is not classified, so it used to end "recon" after the upload: "Recon end to exfiltration: -40.993 s".
        var phases = BehaviorAnalyzer.Phases([E(0, "connect"), E(2, "auth_attempt"), E(4, "command"), E(9, "file_captured"), E(50, "disconnect")]);

        Assert.Equal(T0, phases.ReconEnd);
        Assert.Equal(T0.AddSeconds(9), phases.ExfilStart);
        Assert.Equal(9, phases.ExfilLatencyS);
    }

    [Fact]
    public void Without_recon_before_the_exfiltration_there_is_no_latency()
    {
        var phases = BehaviorAnalyzer.Phases([E(0, "file_captured"), E(5, "disconnect")]);

        Assert.Null(phases.ReconEnd);
        Assert.Null(phases.ExfilLatencyS);
    }
}
