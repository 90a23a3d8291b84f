namespace Decnet.Web.Swarm.Pages;

/// <summary>Ages as the swarm pages show them: seconds matter for heartbeats (one every 30 s).</summary>
internal static class SwarmTime
{
    public static string Ago(TimeProvider time, DateTime? when)
    {
        if (when is not { } at)
        {
            return "never";
        }
        var age = time.GetUtcNow().UtcDateTime - DateTime.SpecifyKind(at, DateTimeKind.Utc);
        if (age < TimeSpan.Zero)
        {
            age = TimeSpan.Zero;
        }
        return age.TotalMinutes < 1 ? $"{(int)age.TotalSeconds} s ago"
            : age.TotalHours < 1 ? $"{(int)age.TotalMinutes} min {age.Seconds} s ago"
            : age.TotalDays < 1 ? $"{(int)age.TotalHours} h {age.Minutes} min ago"
            : $"{(int)age.TotalDays} d ago";
    }
}
