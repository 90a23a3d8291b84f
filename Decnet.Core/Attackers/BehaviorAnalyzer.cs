using System.Text.RegularExpressions;

namespace Decnet.Core.Attackers;

/// <summary>What the behaviour rules need of one event: when, where and what kind.</summary>
public readonly record struct BehaviorEvent(DateTime Timestamp, string Decky, string Service, string EventType);

/// <summary>The outcome of <see cref="BehaviorAnalyzer.Analyze"/>.</summary>
public sealed record BehaviorProfile(
    string BehaviorClass,
    double? BeaconIntervalSeconds,
    double? BeaconJitterPct,
    TimingStats Timing,
    IReadOnlyList<string> ToolGuesses,
    PhaseSequence Phases);

/// <summary>
/// Simple, explainable rules that turn an attacker's event timing and client strings into a class,
/// tool guesses and a kill-chain phase sequence. Rules are checked in a fixed order, first match wins:
/// <list type="number">
/// <item><c>unknown</c>: fewer than <see cref="MinEvents"/> events (no timing to judge).</item>
/// <item><c>scanner</c>: 3+ services or 3+ deckies, at most 3 events per (decky, service) on average,
/// all within <see cref="ScanWindow"/> — wide and shallow, as nmap/masscan sweeps look.</item>
/// <item><c>brute_force</c>: 8+ credential attempts making up at least half the events.</item>
/// <item><c>interactive</c>: 3+ commands and irregular gaps (CV ≥ 0.5) with a mean of at least 1 s — a human typing.</item>
/// <item><c>beaconing</c>: 4+ events, mean gap ≥ 5 s and CV ≤ 0.2 — an implant calling home on a timer;
/// the mean is the interval and the CV × 100 the jitter percentage.</item>
/// <item>otherwise <c>unknown</c>.</item>
/// </list>
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
        (new Regex(@"^curl/", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "curl"),
        (new Regex(@"^Wget/", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "wget"),
        (new Regex(@"python-requests", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "python-requests"),
        (new Regex(@"Go-http-client", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "Go-http-client"),
        (new Regex(@"^SSH-2\.0-libssh", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "libssh"),
        (new Regex(@"^SSH-2\.0-paramiko", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "paramiko"),
        (new Regex(@"^SSH-2\.0-Go\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "go-ssh"),
        (new Regex(@"^SSH-2\.0-PuTTY", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "putty"),
        (new Regex(@"^SSH-2\.0-OpenSSH", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "openssh"),
    ];

    /// <param name="events">The attacker's events, any order.</param>
    /// <param name="clientStrings">SSH client versions and HTTP User-Agents seen for the attacker.</param>
    public static BehaviorProfile Analyze(IReadOnlyList<BehaviorEvent> events, IEnumerable<string> clientStrings)
    {
        var ordered = events.OrderBy(e => e.Timestamp).ToList();
        var timing = Timing(ordered);
        var (behaviorClass, interval, jitter) = Classify(ordered, timing);
        return new BehaviorProfile(behaviorClass, interval, jitter, timing, GuessTools(clientStrings), Phases(ordered));
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

    private static (string Class, double? Interval, double? Jitter) Classify(IReadOnlyList<BehaviorEvent> ordered, TimingStats timing)
    {
        if (ordered.Count < MinEvents || timing.MeanIatS is null)
        {
            return (Unknown, null, null);
        }
        var services = ordered.Select(e => e.Service).Distinct(StringComparer.Ordinal).Count();
        var deckies = ordered.Select(e => e.Decky).Distinct(StringComparer.Ordinal).Count();
        var pairs = ordered.Select(e => (e.Decky, e.Service)).Distinct().Count();
        if ((services >= 3 || deckies >= 3) && (double)ordered.Count / pairs <= 3 && timing.DurationS <= ScanWindow.TotalSeconds)
        {
            return (Scanner, null, null);
        }
        var credentials = ordered.Count(e => CredentialTypes.Contains(e.EventType));
        if (credentials >= 8 && credentials * 2 >= ordered.Count)
        {
            return (BruteForce, null, null);
        }
        var commands = ordered.Count(e => ExecutionTypes.Contains(e.EventType));
        var mean = timing.MeanIatS.Value;
        var cv = timing.Cv ?? 0;
        if (commands >= 3 && cv >= 0.5 && mean >= 1)
        {
            return (Interactive, null, null);
        }
        if (ordered.Count >= 4 && mean >= 5 && cv <= 0.2)
        {
            return (Beaconing, Round(mean), Round(cv * 100));
        }
        return (Unknown, null, null);
    }

    /// <summary>Distinct tool names in pattern order (scanners first), from every client string seen.</summary>
    public static IReadOnlyList<string> GuessTools(IEnumerable<string> clientStrings)
    {
        var values = clientStrings.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToList();
        return ToolPatterns.Where(p => values.Any(v => p.Pattern.IsMatch(v))).Select(p => p.Tool).Distinct(StringComparer.Ordinal).ToList();
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
        var reconEnd = spans.FirstOrDefault(s => s.Phase == Recon)?.LastSeen;
        var exfilStart = spans.FirstOrDefault(s => s.Phase == Exfiltration)?.FirstSeen;
        double? latency = reconEnd is not null && exfilStart is not null ? Round((exfilStart.Value - reconEnd.Value).TotalSeconds) : null;
        return new PhaseSequence(spans, reconEnd, exfilStart, latency);
    }

    private static double Round(double value) => Math.Round(value, 3);
}
