using System.Globalization;
using System.Text;
using Decnet.Core.Honeypots.Events;

namespace Decnet.Tests.Events.Collection;

/// <summary>Distinct, realistic RFC 5424 lines as a decky writes them, numbered by a "seq" field.</summary>
internal static class SpoolLines
{
    // Yesterday at 10:00, fixed for the test run: recent enough that the master's log retention
    // (90 days by default) keeps every row while a test counts them.
    private static readonly DateTimeOffset Start = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-1).AddHours(10);

    public static string Line(int seq, string decky = "spool-decky") => Rfc5424Formatter.Format(new HoneypotEvent(
        Start.AddMilliseconds(seq), decky, "ssh", "auth_attempt",
        [
            new("src_ip", $"198.51.{seq / 250 % 250}.{seq % 250 + 1}"),
            new("username", seq % 3 == 0 ? "root" : "admin"),
            new("password", $"guess-{seq}"),
            new("seq", seq.ToString(CultureInfo.InvariantCulture)),
        ]));

    public static byte[] Bytes(int from, int count, string decky = "spool-decky")
    {
        var text = new StringBuilder();
        for (var i = from; i < from + count; i++)
        {
            text.Append(Line(i, decky)).Append('\n');
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static void Append(string path, ReadOnlySpan<byte> bytes)
    {
        using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        file.Write(bytes);
        file.Flush(flushToDisk: false);
    }
}
