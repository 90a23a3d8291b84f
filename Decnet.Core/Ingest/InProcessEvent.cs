using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;

namespace Decnet.Core.Ingest;

/// <summary>
/// An in-process decky's event taken apart without parsing its line: the ingest already holds the
/// structured event, so it reads the columns from it instead of from the RFC 5424 text it formatted.
/// The result is exactly what <see cref="Rfc5424Parser"/> reads back from that line (header fields
/// sanitised and cut, NILVALUE as empty, parameter values cut, the message flattened, the timestamp at
/// the line's microsecond precision), so the stored row, its fields JSON and its key are the same either
/// way. The line itself is still what is stored as raw and written to SIEM files.
/// </summary>
public static class InProcessEvent
{
    /// <summary>
    /// The event as the parser would read <paramref name="rawLine"/> (which must be
    /// <c>Rfc5424Formatter.Format(honeypotEvent)</c>); null when the line must go through the parser after all:
    /// longer than the parser keeps, or a priority no line can carry.
    /// </summary>
    public static ParsedEvent? Read(HoneypotEvent honeypotEvent, string rawLine)
    {
        var priority = Rfc5424Formatter.Priority(honeypotEvent.Severity);
        if (rawLine.Length > Rfc5424Parser.MaxLineLength || priority is < 0 or > 191)
        {
            return null;
        }
        var ticks = honeypotEvent.Timestamp.UtcTicks;
        var fields = new List<KeyValuePair<string, string>>(honeypotEvent.Fields.Count);
        foreach (var (key, value) in honeypotEvent.Fields)
        {
            var text = value ?? string.Empty;
            var length = Rfc5424Formatter.ParamValueLength(text);
            fields.Add(new(Rfc5424Formatter.SanitiseParamName(key), length == text.Length ? text : text[..length]));
        }
        var message = Message(honeypotEvent.Message);
        return new ParsedEvent(
            new DateTime(ticks - (ticks % TimeSpan.TicksPerMicrosecond), DateTimeKind.Utc),
            priority,
            Rfc5424Formatter.HeaderValue(honeypotEvent.Decky, Rfc5424Formatter.MaxHostnameLength),
            Rfc5424Formatter.HeaderValue(honeypotEvent.Service, Rfc5424Formatter.MaxAppNameLength),
            string.Empty,
            Rfc5424Formatter.HeaderValue(honeypotEvent.EventType, Rfc5424Formatter.MaxMsgIdLength),
            fields,
            message,
            Rfc5424Parser.FindAttackerIp(fields, message),
            rawLine);
    }

    /// <summary>The parser drops a leading byte order mark and reads an empty message as none.</summary>
    private static string? Message(string? message)
    {
        if (string.IsNullOrEmpty(message))
        {
            return null;
        }
        var flat = Rfc5424Formatter.FlattenedMessage(message);
        if (flat.StartsWith('\uFEFF'))
        {
            flat = flat[1..];
        }
        return flat.Length == 0 ? null : flat;
    }
}
