using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Decnet.Core.Deckies;

/// <summary>
/// A service-rotation interval written as <c>&lt;n&gt;&lt;unit&gt;</c>: <c>m</c> minutes, <c>d</c> days,
/// <c>M</c> 30-day months, <c>y</c> or <c>Y</c> 365-day years. Rotation runs on a minute clock, so
/// seconds are deliberately not a unit. The unit letter is case-sensitive because <c>m</c> and
/// <c>M</c> mean different things.
/// </summary>
public readonly record struct MutationInterval
{
    public const int MinutesPerDay = 1440;
    public const int MinutesPerMonth = 43200;
    public const int MinutesPerYear = 525600;

    private MutationInterval(int count, char unit, int totalMinutes)
    {
        Count = count;
        Unit = unit;
        TotalMinutes = totalMinutes;
    }

    /// <summary>The number before the unit, at least 1.</summary>
    public int Count { get; }

    /// <summary>The unit letter as written: m, d, M, y or Y.</summary>
    public char Unit { get; }

    public int TotalMinutes { get; }

    public TimeSpan Duration => TimeSpan.FromMinutes(TotalMinutes);

    /// <exception cref="FormatException">The text is not a valid interval; the message says why.</exception>
    public static MutationInterval Parse(string? text) =>
        TryParse(text, out var interval, out var error) ? interval : throw new FormatException(error);

    public static bool TryParse(string? text, out MutationInterval interval) => TryParse(text, out interval, out _);

    public static bool TryParse(string? text, out MutationInterval interval, [NotNullWhen(false)] out string? error)
    {
        interval = default;
        var trimmed = text?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            error = "mutation interval is empty; write a number and a unit, e.g. 30m, 2d, 1M or 1y";
            return false;
        }

        var unit = trimmed[^1];
        var digits = trimmed[..^1];
        if (char.IsDigit(unit))
        {
            error = $"mutation interval '{trimmed}' has no unit; add m (minutes), d (days), M (30 days) or y (365 days)";
            return false;
        }

        if (MinutesPer(unit) is not { } unitMinutes)
        {
            error = unit is 's' or 'S'
                ? $"mutation interval '{trimmed}' is in seconds; the shortest unit is m (minutes)"
                : $"mutation interval '{trimmed}' has unknown unit '{unit}'; use m (minutes), d (days), M (30 days) or y (365 days)";
            return false;
        }

        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit)
            || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            error = $"mutation interval '{trimmed}' must start with a whole number, e.g. 30m";
            return false;
        }

        if (count < 1)
        {
            error = $"mutation interval '{trimmed}' must be at least 1{unit}";
            return false;
        }

        if (count * unitMinutes > int.MaxValue)
        {
            error = $"mutation interval '{trimmed}' is too long";
            return false;
        }

        interval = new MutationInterval((int)count, unit, (int)(count * unitMinutes));
        error = null;
        return true;
    }

    /// <summary>
    /// The interval for a number of minutes, written in the largest unit that divides it exactly
    /// (1440 → "1d", 90 → "90m"), so values read back the way an operator would have typed them.
    /// </summary>
    public static MutationInterval FromMinutes(int minutes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minutes, 1);
        foreach (var (unit, size) in new[] { ('y', MinutesPerYear), ('M', MinutesPerMonth), ('d', MinutesPerDay) })
        {
            if (minutes % size == 0)
            {
                return new MutationInterval(minutes / size, unit, minutes);
            }
        }

        return new MutationInterval(minutes, 'm', minutes);
    }

    /// <summary>Minutes rendered as an interval string, e.g. 43200 → "1M".</summary>
    public static string Format(int minutes) => FromMinutes(minutes).ToString();

    public override string ToString() => Count.ToString(CultureInfo.InvariantCulture) + Unit;

    private static long? MinutesPer(char unit) => unit switch
    {
        'm' => 1,
        'd' => MinutesPerDay,
        'M' => MinutesPerMonth,
        'y' or 'Y' => MinutesPerYear,
        _ => null,
    };
}
