namespace Decnet.Core.Search;

/// <summary>The time windows Live Logs offers, by the key its URL carries; each ends now.</summary>
public static class LogRanges
{
    public const string Default = "24h";

    public static readonly IReadOnlyList<string> All = ["15m", "1h", "24h", "7d", "30d", "all"];

    public static bool IsKnown(string? key) => key is not null && All.Contains(key, StringComparer.Ordinal);

    /// <summary>Where the window starts (UTC); null for "all".</summary>
    public static DateTime? Start(string range, DateTime nowUtc) => range switch
    {
        "15m" => nowUtc.AddMinutes(-15),
        "1h" => nowUtc.AddHours(-1),
        "24h" => nowUtc.AddDays(-1),
        "7d" => nowUtc.AddDays(-7),
        "30d" => nowUtc.AddDays(-30),
        _ => null,
    };
}
