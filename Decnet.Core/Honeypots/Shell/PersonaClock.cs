using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Decnet.Core.Honeypots.Shell;

/// <summary>
/// The times a decky's shell shows, all derived from the current clock: when the machine booted, how long
/// it has been up, and how <c>ls -l</c> and <c>ps</c> print a time. Nothing is a fixed date, so a session
/// next year still sees a machine that was installed, booted and used recently, as a real one would be.
/// </summary>
public static class PersonaClock
{
    /// <summary>A decky "reboots" once per cycle at its own seeded moment, so its uptime grows between sessions.</summary>
    public static readonly TimeSpan RebootCycle = TimeSpan.FromDays(90);

    /// <summary>A box rebooted minutes ago looks staged: the boot is always at least this old.</summary>
    public static readonly TimeSpan MinimumUptime = TimeSpan.FromDays(3);

    /// <summary>GNU ls prints the year instead of the time for files older than about six months (or in the future).</summary>
    public static readonly TimeSpan RecentFile = TimeSpan.FromDays(365.2425 / 2);

    public static DateTimeOffset BootTime(string hostname, DateTimeOffset now)
    {
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes("decnet-boot:" + hostname));
        var offset = TimeSpan.FromSeconds(BitConverter.ToUInt32(seed, 0) % (uint)RebootCycle.TotalSeconds);
        var sinceAnchor = now - (DateTimeOffset.UnixEpoch + offset);
        var cycles = Math.Floor(sinceAnchor / RebootCycle);
        var boot = DateTimeOffset.UnixEpoch + offset + RebootCycle * cycles;
        return now - boot < MinimumUptime ? boot - RebootCycle : boot;
    }

    /// <summary>The "up ..." part of <c>uptime</c> and <c>w</c>, as procps prints it.</summary>
    public static string Uptime(TimeSpan up)
    {
        var days = (int)up.TotalDays;
        var clock = up.Hours > 0 ? $"{up.Hours,2}:{up.Minutes:00}" : $"{up.Minutes} min";
        return days switch
        {
            0 => $"up {clock}",
            1 => $"up 1 day, {clock}",
            _ => $"up {days} days, {clock}",
        };
    }

    /// <summary><c>ls -l</c>'s time column (GNU coreutils, C locale): "Mar  7 14:02" when recent, "Mar  7  2025" otherwise.</summary>
    public static string LsTime(DateTimeOffset modified, DateTimeOffset now)
    {
        var age = now - modified;
        var month = modified.ToString("MMM", CultureInfo.InvariantCulture);
        var day = modified.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2);
        return age >= TimeSpan.Zero && age < RecentFile
            ? $"{month} {day} {modified:HH:mm}"
            : $"{month} {day}  {modified.Year.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary><c>ps</c>'s START column (procps): the time within a day, the date within a year, else the year.</summary>
    public static string PsStart(DateTimeOffset started, DateTimeOffset now)
    {
        var age = now - started;
        return age < TimeSpan.FromDays(1) ? started.ToString("HH:mm", CultureInfo.InvariantCulture)
            : age < TimeSpan.FromDays(365) ? started.ToString("MMMdd", CultureInfo.InvariantCulture)
            : started.Year.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A point between <paramref name="from"/> and <paramref name="to"/> chosen by <paramref name="key"/> (a path), stable for the decky.</summary>
    public static DateTimeOffset Between(string hostname, string key, DateTimeOffset from, DateTimeOffset to)
    {
        if (to <= from)
        {
            return from;
        }
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes("decnet-mtime:" + hostname + ":" + key));
        var fraction = BitConverter.ToUInt32(seed, 0) / (double)uint.MaxValue;
        var at = from + (to - from) * fraction;
        // Whole seconds, as a filesystem shows them.
        return new DateTimeOffset(at.Ticks - at.Ticks % TimeSpan.TicksPerSecond, at.Offset);
    }
}
