using System.Globalization;

namespace Decnet.Web.Attackers.Pages;

/// <summary>Display helpers shared by the attacker pages.</summary>
internal static class AttackerFormat
{
    public static string Relative(DateTime utc, DateTimeOffset now)
    {
        var age = now.UtcDateTime - DateTime.SpecifyKind(utc, DateTimeKind.Utc);
        if (age < TimeSpan.Zero)
        {
            age = TimeSpan.Zero;
        }
        return age.TotalSeconds < 60 ? $"{(int)age.TotalSeconds}s ago"
            : age.TotalMinutes < 60 ? $"{(int)age.TotalMinutes}m ago"
            : age.TotalHours < 48 ? $"{(int)age.TotalHours}h ago"
            : $"{(int)age.TotalDays}d ago";
    }

    public static string Utc(DateTime value) => value.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static string Seconds(double? value) => value is null ? "–" : value.Value.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    public static string Number(double? value) => value is null ? "–" : value.Value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>The behaviour class as a colour, so a brute forcer stands out from a scanner at a glance.</summary>
    public static MudBlazor.Color ClassColor(string? behaviorClass) => behaviorClass switch
    {
        "brute_force" => MudBlazor.Color.Error,
        "interactive" => MudBlazor.Color.Warning,
        "beaconing" => MudBlazor.Color.Secondary,
        "scanner" => MudBlazor.Color.Info,
        _ => MudBlazor.Color.Default,
    };
}
