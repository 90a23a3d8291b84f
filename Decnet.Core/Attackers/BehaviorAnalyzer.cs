using System.Text.RegularExpressions;

namespace Decnet.Core.Attackers;

/// <summary>What the behaviour rules need of one event: when, where and what kind.</summary>
public readonly record struct BehaviorEvent(DateTime Timestamp, string Decky, string Service, string EventType);

/// <summary>The outcome of <see cref="BehaviorAnalyzer.Analyze(IReadOnlyList{BehaviorEvent}, ClientEvidence)"/>.</summary>
public sealed record BehaviorProfile(
    string BehaviorClass,
    double? BeaconIntervalSeconds,
    double? BeaconJitterPct,
    TimingStats Timing,
    IReadOnlyList<string> ToolGuesses,
    PhaseSequence Phases,
    BeaconSignature? Beacon = null);

/// <summary>What the attacker's clients said about themselves, gathered from its events' fields.</summary>
/// <param name="ClientStrings">SSH client versions and HTTP User-Agents.</param>
/// <param name="Hasshes">HASSH hashes of the attacker's SSH client key exchanges.</param>
/// <param name="Mailers">X-Mailer header values.</param>
/// <param name="OsLabels">Passive OS labels (p0f style); p0f labels an nmap SYN probe "nmap".</param>
public sealed record ClientEvidence(
    IReadOnlyCollection<string> ClientStrings,
    IReadOnlyCollection<string>? Hasshes = null,
    IReadOnlyCollection<string>? Mailers = null,
    IReadOnlyCollection<string>? OsLabels = null)
{
    public static readonly ClientEvidence None = new([]);
}

/// <summary>
/// A periodic connection stream: one decky and service the attacker reconnects to on a timer, as an implant
/// calling home does. <see cref="C2Families"/> are the C2 frameworks whose default sleep and jitter fit.
/// </summary>
public sealed record BeaconSignature(string Decky, string Service, int Connections, double IntervalSeconds, double JitterPct, IReadOnlyList<string> C2Families);

/// <summary>
/// Simple, explainable rules that turn an attacker's event timing and client strings into a class,
/// tool guesses and a kill-chain phase sequence. Rules are checked in a fixed order, first match wins:
/// <list type="number">
/// <item><c>unknown</c>: fewer than <see cref="MinEvents"/> events (no timing to judge).</item>
/// <item><c>scanner</c>: 3+ services or 3+ deckies, at most 3 events per (decky, service) on average,
/// all within <see cref="ScanWindow"/> — wide and shallow, as nmap/masscan sweeps look.</item>
/// <item><c>slow_scan</c>: 2+ services or deckies, still shallow, 4+ events, mean gap ≥ 10 s — a sweep paced
/// to stay under rate alarms (upstream's rule).</item>
/// <item><c>brute_force</c>: 8+ credential attempts making up at least half the events.</item>
/// <item><c>interactive</c>: 3+ commands and irregular gaps (CV ≥ 0.5) with a mean of at least 1 s — a human typing.</item>
/// <item><c>beaconing</c>: a periodic stream (<see cref="FindBeacon"/>), or all events together at least
/// 4 with mean gap ≥ 5 s and CV &lt; 0.35 (upstream's thresholds).</item>
/// <item><c>mixed</c>: enough events, no single pattern.</item>
/// </list>
/// The beacon interval and jitter (CV × 100) come from the periodic stream whenever one exists, whatever
/// the class: an implant keeps calling home while its operator scans from the same address.
/// </summary>
public static class BehaviorAnalyzer
{
    public const int MinEvents = 3;
    public static readonly TimeSpan ScanWindow = TimeSpan.FromMinutes(5);

    public const string Unknown = "unknown";
    public const string Scanner = "scanner";
    public const string BruteForce = "brute_force";
    public const string Interactive = "interactive";
    public const string Beaconing = "beaconing";
    public const string SlowScan = "slow_scan";
    public const string Mixed = "mixed";

    /// <summary>Upstream's beacon thresholds: at least this many connections, mean gap and CV bound.</summary>
    public const int MinBeaconConnections = 4;
    public const double MinBeaconIntervalSeconds = 5;
    public const double MaxBeaconCv = 0.35;

    /// <summary>Event types that mark one new contact: a connection, or an HTTP request (HTTP implants poll).</summary>
    private static readonly HashSet<string> ConnectionTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "connect", "connection", "accept", "session_start", "new_connection", "request",
    };

    /// <summary>
    /// Default sleep/jitter profiles of common C2 frameworks (upstream's table): a match needs the mean
    /// within the interval tolerance and the CV within the jitter tolerance.
    /// </summary>
    private static readonly C2Profile[] C2Profiles =
    [
        new("cobalt_strike", 60, 8, 0.20, 0.05),
        new("sliver", 60, 10, 0.30, 0.08),
        new("havoc", 45, 8, 0.10, 0.03),
        new("mythic", 30, 6, 0.15, 0.03),
    ];

    /// <summary>
    /// HASSH of client libraries, measured here against a KEXINIT capture: Debian 12's hydra (libssh 0.10.6)
    /// and OpenSSH 9.2p1. A HASSH names the SSH library, which a tool may share with others.
    /// </summary>
    private static readonly Dictionary<string, string> KnownHassh = new(StringComparer.OrdinalIgnoreCase)
    {
        ["be31134219a24899a8a0c29c7797ba94"] = "libssh",
        ["472b5de333ad665af5cbf10ff892c4df"] = "openssh",
    };

    public const string Recon = "recon";
    public const string CredentialAccess = "credential_access";
    public const string Execution = "execution";
    public const string Exfiltration = "exfiltration";

    private static readonly HashSet<string> CredentialTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "auth_attempt", "login_attempt", "auth", "auth_failure", "user",
    };

    private static readonly HashSet<string> ExecutionTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "command", "exec", "execute", "run", "query", "sql_query", "redis_command", "shell_input", "input",
    };

    private static readonly HashSet<string> ExfilTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "file_captured", "download", "download_attempt", "upload", "file_transfer", "data_exfil", "message_accepted",
    };

    /// <summary>Client strings that name a tool: matched against SSH client versions and HTTP User-Agents.</summary>
    private static readonly (Regex Pattern, string Tool)[] ToolPatterns =
    [
        (new Regex(@"Nmap Scripting Engine|\bnmap\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "nmap"),
        (new Regex(@"masscan", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "masscan"),
        (new Regex(@"zgrab", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "zgrab"),
        (new Regex(@"hydra", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "hydra"),
        (new Regex(@"nikto", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "nikto"),
        (new Regex(@"sqlmap", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "sqlmap"),
        (new Regex(@"nuclei", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "nuclei"),
        (new Regex(@"gobuster", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "gobuster"),
        (new Regex(@"DirBuster", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "dirbuster"),
        (new Regex(@"Wfuzz", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "wfuzz"),
        (new Regex(@"Metasploit|^SSH-2\.0-Ruby/Net::SSH", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "metasploit"),
        (new Regex(@"^curl/", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "curl"),
        (new Regex(@"^Wget/", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "wget"),
        (new Regex(@"python-requests", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "python-requests"),
        (new Regex(@"Go-http-client", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "Go-http-client"),
        (new Regex(@"^SSH-2\.0-libssh(?!2)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "libssh"),
        (new Regex(@"^SSH-2\.0-libssh2", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "libssh2"),
        (new Regex(@"^SSH-2\.0-paramiko", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "paramiko"),
        (new Regex(@"^SSH-2\.0-Go\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "go-ssh"),
        (new Regex(@"^SSH-2\.0-PuTTY", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "putty"),
        (new Regex(@"^SSH-2\.0-OpenSSH", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "openssh"),
    ];

    /// <param name="events">The attacker's events, any order.</param>
    /// <param name="clientStrings">SSH client versions and HTTP User-Agents seen for the attacker.</param>
    public static BehaviorProfile Analyze(IReadOnlyList<BehaviorEvent> events, IEnumerable<string> clientStrings) =>
        Analyze(events, new ClientEvidence([.. clientStrings]));

    /// <param name="events">The attacker's events, any order.</param>
    /// <param name="evidence">What the attacker's clients said about themselves.</param>
    public static BehaviorProfile Analyze(IReadOnlyList<BehaviorEvent> events, ClientEvidence evidence)
    {
        var ordered = events.OrderBy(e => e.Timestamp).ToList();
        var timing = Timing(ordered);
        var beacon = FindBeacon(ordered);
        var (behaviorClass, interval, jitter) = Classify(ordered, timing, beacon);
        return new BehaviorProfile(behaviorClass, interval, jitter, timing, GuessTools(evidence, behaviorClass, beacon), Phases(ordered), beacon);
    }

    public static TimingStats Timing(IReadOnlyList<BehaviorEvent> ordered)
    {
        if (ordered.Count == 0)
        {
            return new TimingStats(0, 0, null, null, null, null, null, null);
        }
        var duration = (ordered[^1].Timestamp - ordered[0].Timestamp).TotalSeconds;
        var gaps = new List<double>(Math.Max(0, ordered.Count - 1));
        for (var i = 1; i < ordered.Count; i++)
        {
            gaps.Add((ordered[i].Timestamp - ordered[i - 1].Timestamp).TotalSeconds);
        }
        if (gaps.Count == 0)
        {
            return new TimingStats(ordered.Count, duration, null, null, null, null, null, null);
        }
        var mean = gaps.Average();
        var sorted = gaps.Order().ToList();
        var median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        // Population stdev: the gaps are all of the attacker's gaps, not a sample of them.
        var stdev = Math.Sqrt(gaps.Sum(g => (g - mean) * (g - mean)) / gaps.Count);
        double? cv = mean > 0 ? stdev / mean : null;
        return new TimingStats(ordered.Count, Round(duration), Round(mean), Round(median), Round(stdev), Round(sorted[0]), Round(sorted[^1]), cv is null ? null : Round(cv.Value));
    }

    private static (string Class, double? Interval, double? Jitter) Classify(IReadOnlyList<BehaviorEvent> ordered, TimingStats timing, BeaconSignature? beacon)
    {
        double? interval = beacon?.IntervalSeconds;
        double? jitter = beacon?.JitterPct;
        if (ordered.Count < MinEvents || timing.MeanIatS is null)
        {
            return (Unknown, interval, jitter);
        }
        var services = ordered.Select(e => e.Service).Distinct(StringComparer.Ordinal).Count();
        var deckies = ordered.Select(e => e.Decky).Distinct(StringComparer.Ordinal).Count();
        var pairs = ordered.Select(e => (e.Decky, e.Service)).Distinct().Count();
        var shallow = (double)ordered.Count / pairs <= 3;
        var mean = timing.MeanIatS.Value;
        var cv = timing.Cv ?? 0;
        if ((services >= 3 || deckies >= 3) && shallow && timing.DurationS <= ScanWindow.TotalSeconds)
        {
            return (Scanner, interval, jitter);
        }
        if ((services >= 2 || deckies >= 2) && shallow && ordered.Count >= 4 && mean >= 10)
        {
            return (SlowScan, interval, jitter);
        }
        var credentials = ordered.Count(e => CredentialTypes.Contains(e.EventType));
        if (credentials >= 8 && credentials * 2 >= ordered.Count)
        {
            return (BruteForce, interval, jitter);
        }
        var commands = ordered.Count(e => ExecutionTypes.Contains(e.EventType));
        if (commands >= 3 && cv >= 0.5 && mean >= 1)
        {
            return (Interactive, interval, jitter);
        }
        if (beacon is not null)
        {
            return (Beaconing, interval, jitter);
        }
        if (ordered.Count >= MinBeaconConnections && mean >= MinBeaconIntervalSeconds && cv < MaxBeaconCv)
        {
            return (Beaconing, Round(mean), Round(cv * 100));
        }
        return (Mixed, interval, jitter);
    }

    /// <summary>
    /// The attacker's most regular reconnecting stream: its connections to each (decky, service), taken
    /// apart, with at least <see cref="MinBeaconConnections"/> connections, a mean gap of at least
    /// <see cref="MinBeaconIntervalSeconds"/> and a CV under <see cref="MaxBeaconCv"/>. The stream with the
    /// most connections wins (then the steadier one). Null when no stream is periodic.
    /// </summary>
    public static BeaconSignature? FindBeacon(IReadOnlyList<BehaviorEvent> ordered)
    {
        BeaconSignature? best = null;
        double bestCv = double.MaxValue;
        foreach (var stream in ordered.Where(e => ConnectionTypes.Contains(e.EventType)).GroupBy(e => (e.Decky, e.Service)))
        {
            var times = stream.Select(e => e.Timestamp).Order().ToList();
            if (times.Count < MinBeaconConnections)
            {
                continue;
            }
            var gaps = new double[times.Count - 1];
            for (var i = 1; i < times.Count; i++)
            {
                gaps[i - 1] = (times[i] - times[i - 1]).TotalSeconds;
            }
            var mean = gaps.Average();
            if (mean < MinBeaconIntervalSeconds)
            {
                continue;
            }
            var cv = Math.Sqrt(gaps.Sum(g => (g - mean) * (g - mean)) / gaps.Length) / mean;
            if (cv >= MaxBeaconCv)
            {
                continue;
            }
            if (best is null || times.Count > best.Connections || (times.Count == best.Connections && cv < bestCv))
            {
                best = new BeaconSignature(stream.Key.Decky, stream.Key.Service, times.Count, Round(mean), Round(cv * 100), MatchC2(mean, cv));
                bestCv = cv;
            }
        }
        return best;
    }

    /// <summary>C2 frameworks whose default sleep and jitter fit, the closest first.</summary>
    public static IReadOnlyList<string> MatchC2(double intervalSeconds, double cv) =>
        [.. C2Profiles
            .Where(p => Math.Abs(intervalSeconds - p.IntervalSeconds) <= p.IntervalTolerance && Math.Abs(cv - p.Cv) <= p.CvTolerance)
            .OrderBy(p => (Math.Abs(intervalSeconds - p.IntervalSeconds) / p.IntervalTolerance) + (Math.Abs(cv - p.Cv) / p.CvTolerance))
            .Select(p => p.Name)];

    /// <summary>Distinct tool names in pattern order (scanners first), from every client string seen.</summary>
    public static IReadOnlyList<string> GuessTools(IEnumerable<string> clientStrings)
    {
        var values = clientStrings.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToList();
        return ToolPatterns.Where(p => values.Any(v => p.Pattern.IsMatch(v))).Select(p => p.Tool).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Every tool guess: client strings (User-Agent, SSH client version), known HASSH libraries, X-Mailer
    /// (gophish), the C2 frameworks a beacon's timing fits, and timing combined with the client library
    /// (libssh brute forcing at machine speed is hydra's SSH module). A passive "nmap" OS label leads.
    /// </summary>
    public static IReadOnlyList<string> GuessTools(ClientEvidence evidence, string behaviorClass, BeaconSignature? beacon)
    {
        var tools = new List<string>();
        if (evidence.OsLabels?.Any(l => l.Contains("nmap", StringComparison.OrdinalIgnoreCase)) == true)
        {
            tools.Add("nmap");
        }
        tools.AddRange(GuessTools(evidence.ClientStrings));
        foreach (var hassh in evidence.Hasshes ?? [])
        {
            if (KnownHassh.TryGetValue(hassh.Trim(), out var library))
            {
                tools.Add(library);
            }
        }
        if (evidence.Mailers?.Any(m => m.Contains("gophish", StringComparison.OrdinalIgnoreCase)) == true)
        {
            tools.Add("gophish");
        }
        if (behaviorClass == BruteForce && tools.Contains("libssh"))
        {
            tools.Add("hydra");
        }
        if (beacon is not null)
        {
            tools.AddRange(beacon.C2Families);
        }
        return [.. tools.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The phase an event type belongs to; every other type (connect, request, banner ...) is reconnaissance.</summary>
    public static string PhaseOf(string eventType) =>
        CredentialTypes.Contains(eventType) ? CredentialAccess
        : ExecutionTypes.Contains(eventType) ? Execution
        : ExfilTypes.Contains(eventType) ? Exfiltration
        : Recon;

    public static bool IsCredentialEvent(string eventType) => CredentialTypes.Contains(eventType);

    public static PhaseSequence Phases(IReadOnlyList<BehaviorEvent> ordered)
    {
        var spans = new List<PhaseSpan>();
        foreach (var group in ordered.GroupBy(e => PhaseOf(e.EventType)))
        {
            spans.Add(new PhaseSpan(group.Key, group.Min(e => e.Timestamp), group.Max(e => e.Timestamp), group.Count()));
        }
        spans.Sort((a, b) => a.FirstSeen.CompareTo(b.FirstSeen));
        var exfilStart = spans.FirstOrDefault(s => s.Phase == Exfiltration)?.FirstSeen;
        // Recon ends where exfiltration begins: every event type we do not classify counts as recon,
        // including the disconnect that closes the very session that exfiltrated, so the last recon
        // event overall can come after the exfiltration and the latency would turn negative.
        var reconEvents = ordered.Where(e => PhaseOf(e.EventType) == Recon && (exfilStart is null || e.Timestamp <= exfilStart.Value)).ToList();
        DateTime? reconEnd = reconEvents.Count == 0 ? null : reconEvents.Max(e => e.Timestamp);
        double? latency = reconEnd is not null && exfilStart is not null ? Round((exfilStart.Value - reconEnd.Value).TotalSeconds) : null;
        return new PhaseSequence(spans, reconEnd, exfilStart, latency);
    }

    private static double Round(double value) => Math.Round(value, 3);

    private sealed record C2Profile(string Name, double IntervalSeconds, double IntervalTolerance, double Cv, double CvTolerance);
}
