using System.Globalization;
using Decnet.Core.Events;

namespace Decnet.Core.Ingest.Collection;

/// <summary>
/// The engine's log timestamps (RFC 3339 with up to nine fraction digits, "2026-04-18T10:00:00.123456789Z")
/// as Unix nanoseconds, which a <c>long</c> holds until 2262 and which keeps the full precision the
/// engine gives (a <see cref="DateTime"/> would round to 100 ns and make distinct lines look equal).
/// </summary>
public static class DockerTimestamp
{
    private const long NanosPerSecond = 1_000_000_000;

    public static bool TryParse(ReadOnlySpan<char> text, out long unixNanos)
    {
        unixNanos = 0;
        if (text.Length < 20 || text[10] != 'T'
            || !DateTime.TryParseExact(text[..19], "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var seconds))
        {
            return false;
        }
        var rest = text[19..];
        long fraction = 0;
        if (rest.Length > 0 && rest[0] == '.')
        {
            var digits = 0;
            rest = rest[1..];
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            {
                digits++;
            }
            if (digits is 0 or > 9)
            {
                return false;
            }
            fraction = long.Parse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture);
            for (var i = digits; i < 9; i++)
            {
                fraction *= 10;
            }
            rest = rest[digits..];
        }
        TimeSpan offset;
        if (rest is "Z" or "z")
        {
            offset = TimeSpan.Zero;
        }
        else if (rest.Length == 6 && rest[0] is '+' or '-' && TimeSpan.TryParseExact(rest[1..], @"hh\:mm", CultureInfo.InvariantCulture, out var magnitude))
        {
            offset = rest[0] == '-' ? -magnitude : magnitude;
        }
        else
        {
            return false;
        }
        var wholeSeconds = new DateTimeOffset(DateTime.SpecifyKind(seconds, DateTimeKind.Unspecified), offset).ToUnixTimeSeconds();
        unixNanos = wholeSeconds * NanosPerSecond + fraction;
        return true;
    }

    /// <summary>The engine's <c>since</c> parameter ("seconds.nanoseconds"); lines at exactly this time are included.</summary>
    public static string ToSince(long unixNanos) =>
        string.Create(CultureInfo.InvariantCulture, $"{unixNanos / NanosPerSecond}.{unixNanos % NanosPerSecond:D9}");
}
