using Decnet.Core.Attackers;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Attackers;

/// <summary>C2 beacon signatures per (decky, service) stream and tool guesses from client evidence and timing.</summary>
public sealed class BeaconAndToolDetectionTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static BehaviorEvent E(double second, string type = "connect", string decky = "d1", string service = "http") =>
        new(T0.AddSeconds(second), decky, service, type);

    /// <summary>Connections whose gaps alternate between two values: mean (a + b) / 2, CV |a - b| / (a + b).</summary>
    private static List<BehaviorEvent> Stream(int connections, double a, double b, string type = "request", string decky = "d1", string service = "http", double start = 0)
    {
        var events = new List<BehaviorEvent>();
        var t = start;
        for (var i = 0; i < connections; i++)
        {
            events.Add(E(t, type, decky, service));
            t += i % 2 == 0 ? a : b;
        }
        return events;
    }

    [Theory]
    [InlineData(48, 72, "cobalt_strike", 60, 20)]
    [InlineData(42, 78, "sliver", 60, 30)]
    [InlineData(40.5, 49.5, "havoc", 45, 10)]
    [InlineData(25.5, 34.5, "mythic", 30, 15)]
    public void A_periodic_stream_is_a_beacon_whose_timing_names_the_c2_framework(double a, double b, string family, double interval, double jitterPct)
    {
        var profile = BehaviorAnalyzer.Analyze(Stream(9, a, b), ClientEvidence.None);

        Assert.Equal(BehaviorAnalyzer.Beaconing, profile.BehaviorClass);
        Assert.Equal(interval, profile.BeaconIntervalSeconds);
        Assert.Equal(jitterPct, profile.BeaconJitterPct!.Value, 1);
        Assert.Equal([family], profile.Beacon!.C2Families);
        Assert.Contains(family, profile.ToolGuesses);
        Assert.Equal(("d1", "http", 9), (profile.Beacon.Decky, profile.Beacon.Service, profile.Beacon.Connections));
    }

    [Fact]
    public void A_beacon_among_other_traffic_is_found_on_its_own_decky_and_service()
    {
        // The implant calls d2/ssh every 60 s while the operator pokes d1/http at random moments in between.
        var events = Stream(7, 59, 61, "connect", "d2", "ssh");
        double[] noise = [3, 4, 17, 18, 19, 95, 96, 200, 201, 202, 203, 290];
        events.AddRange(noise.Select(s => E(s, "request", "d1", "http")));

        var profile = BehaviorAnalyzer.Analyze(events, ClientEvidence.None);

        Assert.Equal(("d2", "ssh"), (profile.Beacon!.Decky, profile.Beacon.Service));
        Assert.Equal(60, profile.BeaconIntervalSeconds);
        Assert.Equal(1.7, profile.BeaconJitterPct!.Value, 1);
        Assert.True(profile.Timing.Cv > BehaviorAnalyzer.MaxBeaconCv, "the mixed traffic as a whole is not periodic");
        Assert.Equal(BehaviorAnalyzer.Beaconing, profile.BehaviorClass);
        Assert.Empty(profile.Beacon.C2Families);
    }

    [Fact]
    public void A_beacon_keeps_its_interval_when_the_same_address_also_scans()
    {
        var events = Stream(4, 60, 60, "connect", "d1", "smb");
        string[] services = ["ftp", "ssh", "telnet", "smtp", "mysql", "redis", "rdp", "vnc"];
        events.AddRange(services.Select((s, i) => E(10 + i, "connect", "d3", s)));

        var profile = BehaviorAnalyzer.Analyze(events, ClientEvidence.None);

        Assert.Equal(BehaviorAnalyzer.Scanner, profile.BehaviorClass);
        Assert.Equal(60, profile.BeaconIntervalSeconds);
        Assert.Equal(0, profile.BeaconJitterPct);
    }

    [Theory]
    [InlineData(new double[] { 0, 5, 65, 72, 190, 191 })]          // irregular: CV far above 0.35
    [InlineData(new double[] { 0, 60, 120 })]                      // three connections are too few
    [InlineData(new double[] { 0, 2, 4, 6, 8, 10, 12 })]           // regular but every 2 s: reconnecting, not sleeping
    public void Streams_that_are_irregular_short_or_fast_are_no_beacon(double[] at)
    {
        var profile = BehaviorAnalyzer.Analyze(at.Select(s => E(s)).ToList(), ClientEvidence.None);
        Assert.Null(profile.Beacon);
        Assert.Null(profile.BeaconIntervalSeconds);
        Assert.Null(profile.BeaconJitterPct);
        Assert.NotEqual(BehaviorAnalyzer.Beaconing, profile.BehaviorClass);
    }

    [Fact]
    public void A_paced_shallow_sweep_is_a_slow_scan_and_no_single_pattern_is_mixed()
    {
        string[] services = ["ftp", "ssh", "telnet", "smtp", "mysql"];
        var slow = services.Select((s, i) => E(i * 90, "connect", "d1", s)).ToList();
        Assert.Equal(BehaviorAnalyzer.SlowScan, BehaviorAnalyzer.Analyze(slow, ClientEvidence.None).BehaviorClass);

        double[] at = [0, 1, 9, 30, 31];
        var mixed = at.Select(s => E(s, "auth_attempt", "d1", "ssh")).ToList();
        Assert.Equal(BehaviorAnalyzer.Mixed, BehaviorAnalyzer.Analyze(mixed, ClientEvidence.None).BehaviorClass);
    }

    [Theory]
    [InlineData("Mozilla/5.0 (compatible; Metasploit RSPEC)", "metasploit")]
    [InlineData("SSH-2.0-Ruby/Net::SSH_7.2.0 x86_64-linux", "metasploit")]
    [InlineData("DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)", "dirbuster")]
    [InlineData("Wfuzz/3.1.0", "wfuzz")]
    [InlineData("sqlmap/1.7.2#stable (https://sqlmap.org)", "sqlmap")]
    [InlineData("SSH-2.0-libssh2_1.10.0", "libssh2")]
    [InlineData("SSH-2.0-libssh_0.10.6", "libssh")]
    [InlineData("SSH-2.0-Nmap-SSH2-Hostkey", "nmap")]
    public void More_client_strings_name_their_tool(string client, string tool) =>
        Assert.Equal([tool], BehaviorAnalyzer.GuessTools([client]));

    [Fact]
    public void Hydra_is_named_from_its_ssh_library_hassh_and_brute_force_timing()
    {
        // be31134219a24899a8a0c29c7797ba94: the HASSH of Debian 12's hydra (libssh 0.10.6), captured here.
        var evidence = new ClientEvidence([], Hasshes: ["be31134219a24899a8a0c29c7797ba94"]);
        var attempts = Enumerable.Range(0, 20).Select(i => E(i * 0.3, "auth_attempt", "d1", "ssh")).ToList();

        var brute = BehaviorAnalyzer.Analyze(attempts, evidence);
        Assert.Equal(BehaviorAnalyzer.BruteForce, brute.BehaviorClass);
        Assert.Equal(["libssh", "hydra"], brute.ToolGuesses);

        // The same library logging in once is not hydra.
        Assert.Equal(["libssh"], BehaviorAnalyzer.Analyze([E(0, "auth_attempt", "d1", "ssh")], evidence).ToolGuesses);
    }

    [Fact]
    public void Gophish_is_named_from_x_mailer_and_a_passive_nmap_label_leads_the_list()
    {
        var evidence = new ClientEvidence(["curl/8.5.0"], Mailers: ["gophish"], OsLabels: ["Linux 3.x", "nmap"]);
        Assert.Equal(["nmap", "curl", "gophish"], BehaviorAnalyzer.Analyze([E(0)], evidence).ToolGuesses);
    }

    [Fact]
    public async Task The_profiler_stores_beacon_interval_jitter_and_tools_from_headers()
    {
        await using var bed = await CoreTestBed.StartAsync();
        const string ip = "198.51.100.60";
        var rows = new List<Decnet.Core.Events.LogEntry>();
        var t = 0;
        for (var i = 0; i < 9; i++)
        {
            rows.Add(AttackerSeed.Log(t, "decky-07", "http", "request", ip,
                """{"method":"GET","path":"/jquery-3.3.1.min.js","headers":"{\"user-agent\":\"Mozilla/5.0 (Windows NT 6.1)\",\"X-Mailer\":\"gophish\"}"}"""));
            t += i % 2 == 0 ? 48 : 72;
        }
        await AttackerSeed.AddAsync(bed.Services, [.. rows]);

        await bed.Services.GetRequiredService<AttackerProfiler>().RunOnceAsync(CancellationToken.None);

        var page = await bed.Services.GetRequiredService<AttackerDirectory>().ListAsync(new AttackerQuery(Search: ip), CancellationToken.None);
        var behavior = Assert.Single(page.Data).Behavior!;
        Assert.Equal(BehaviorAnalyzer.Beaconing, behavior.BehaviorClass);
        Assert.Equal(60, behavior.BeaconIntervalSeconds);
        Assert.Equal(20, behavior.BeaconJitterPct!.Value, 1);
        Assert.Equal(["gophish", "cobalt_strike"], AttackerJson.ReadList<string>(behavior.ToolGuesses));
    }
}
