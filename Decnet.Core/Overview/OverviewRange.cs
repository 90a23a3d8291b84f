namespace Decnet.Core.Overview;

/// <summary>
/// A time window of the dashboard: its top-N panels and its chart cover the same window. Buckets are sized
/// so every window draws 12 to 30 bars.
/// </summary>
public sealed record OverviewRange(string Key, string Label, TimeSpan Window, int BucketMinutes)
{
    public static readonly OverviewRange Hour = new("1h", "last hour", TimeSpan.FromHours(1), 5);
    public static readonly OverviewRange Day = new("24h", "last 24 hours", TimeSpan.FromHours(24), 60);
    public static readonly OverviewRange Week = new("7d", "last 7 days", TimeSpan.FromDays(7), 360);
    public static readonly OverviewRange Month = new("30d", "last 30 days", TimeSpan.FromDays(30), 1440);

    public static readonly IReadOnlyList<OverviewRange> All = [Hour, Day, Week, Month];

    public static OverviewRange Default => Day;

    /// <summary>The range with this key, or null (keys are what the URL carries: 1h, 24h, 7d, 30d).</summary>
    public static OverviewRange? Find(string? key) => All.FirstOrDefault(r => string.Equals(r.Key, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>The start of the bucket holding <paramref name="time"/> (buckets are aligned to the Unix epoch, as the histogram's).</summary>
    public DateTime BucketStart(DateTime time)
    {
        var width = TimeSpan.FromMinutes(BucketMinutes).Ticks;
        var sinceEpoch = time.Ticks - DateTime.UnixEpoch.Ticks;
        return new DateTime(DateTime.UnixEpoch.Ticks + sinceEpoch / width * width, DateTimeKind.Utc);
    }
}
