using System.Net;
using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Events;

namespace Decnet.Core.Ingest.Collection;

/// <summary>
/// What a bring-your-own service prints becomes events of its decky: a line that already is RFC 5424 (a
/// service written for DECNET) passes through unchanged; any other line becomes an <c>output</c> event of the
/// decky and service with the text as its message, and the first public-looking IPv4 address in it as
/// <c>src_ip</c>, so the attacker a log line names is attributed (as upstream's conpot bridge did).
/// </summary>
public static partial class CustomServiceOutput
{
    public const string EventType = "output";

    /// <summary>Longer lines are cut: the operator's program prints what attackers send it.</summary>
    public const int MaxMessageLength = 2048;

    /// <param name="deckyIp">The decky's own address, never taken for the attacker's ("listening on 10.0.5.40:9000").</param>
    public static string ToEventLine(string line, string decky, string service, string? deckyIp, DateTimeOffset timestamp)
    {
        ArgumentNullException.ThrowIfNull(line);
        var text = line.TrimEnd('\r', '\n');
        if (text.StartsWith('<') && Rfc5424Parser.Parse(text).Succeeded)
        {
            return text;
        }
        if (text.Length > MaxMessageLength)
        {
            text = text[..MaxMessageLength];
        }
        var fields = new List<KeyValuePair<string, string>>();
        if (FindAttackerAddress(text, deckyIp) is { } address)
        {
            fields.Add(new("src_ip", address));
        }
        return Rfc5424Formatter.Format(new HoneypotEvent(timestamp, decky, service, EventType, fields, text.Length == 0 ? null : text));
    }

    /// <summary>The first IPv4 address that is not the decky's, unspecified, loopback or broadcast.</summary>
    public static string? FindAttackerAddress(string text, string? deckyIp)
    {
        foreach (Match match in Ipv4Pattern().Matches(text))
        {
            if (IPAddress.TryParse(match.Value, out var address)
                && !IPAddress.IsLoopback(address)
                && !address.Equals(IPAddress.Any)
                && !address.Equals(IPAddress.Broadcast)
                && match.Value != deckyIp)
            {
                return match.Value;
            }
        }
        return null;
    }

    // Four dotted octets not glued to other digits or dots (a version "1.2.3.4.5" is no address); linear, no
    // nested quantifiers, so a hostile line cannot make it backtrack.
    [GeneratedRegex(@"(?<![\d.])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?![\d.])", RegexOptions.CultureInvariant)]
    private static partial Regex Ipv4Pattern();
}
