using System.Globalization;

namespace Decnet.Core.Settings;

/// <summary>
/// Mutation intervals as operators write them: <c>&lt;n&gt;&lt;unit&gt;</c> with m = minutes, d = days,
/// M = months (30 days), y/Y = years (365 days). Seconds are deliberately not allowed.
/// </summary>
public static class MutationInterval
{
    private const int MinutesPerDay = 1440;
    private const int MinutesPerMonth = 43_200;
    private const int MinutesPerYear = 525_600;

    public static bool TryParse(string? text, out int minutes, out string? error)
    {
        minutes = 0;
        error = null;
        var value = text?.Trim() ?? "";
        if (value.Length < 2)
        {
            error = "Interval must look like 30m, 2d, 1M or 1y (a whole number and a unit).";
            return false;
        }
        var unit = value[^1];
        if (char.IsAsciiDigit(unit))
        {
            error = "Interval must look like 30m, 2d, 1M or 1y: the unit is missing.";
            return false;
        }
        var multiplier = unit switch
        {
            'm' => 1,
            'd' => MinutesPerDay,
            'M' => MinutesPerMonth,
            'y' or 'Y' => MinutesPerYear,
            _ => 0,
        };
        if (multiplier == 0)
        {
            error = $"Unknown interval unit '{unit}': use m (minutes), d (days), M (months) or y (years).";
            return false;
        }
        var number = value[..^1];
        if (number.Length == 0 || number[0] == '0' || !number.All(char.IsAsciiDigit)
            || !long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            error = "Interval must start with a whole number of at least 1.";
            return false;
        }
        var total = count * multiplier;
        if (total > int.MaxValue)
        {
            error = "Interval is too long.";
            return false;
        }
        minutes = (int)total;
        return true;
    }

    /// <summary>Formats minutes in the largest unit that divides them exactly.</summary>
    public static string Format(int minutes) => minutes switch
    {
        <= 0 => throw new ArgumentOutOfRangeException(nameof(minutes)),
        _ when minutes % MinutesPerYear == 0 => $"{minutes / MinutesPerYear}y",
        _ when minutes % MinutesPerMonth == 0 => $"{minutes / MinutesPerMonth}M",
        _ when minutes % MinutesPerDay == 0 => $"{minutes / MinutesPerDay}d",
        _ => $"{minutes}m",
    };
}
