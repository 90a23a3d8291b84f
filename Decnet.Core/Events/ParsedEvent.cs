namespace Decnet.Core.Events;

/// <summary>
/// One RFC 5424 line taken apart: HOSTNAME is the decky, APP-NAME the service, MSGID the event type.
/// Header NILVALUEs ('-') become empty strings, which is also how the formatter writes empty values.
/// </summary>
public sealed record ParsedEvent(
    DateTime TimestampUtc,
    int Priority,
    string Decky,
    string Service,
    string ProcId,
    string EventType,
    IReadOnlyList<KeyValuePair<string, string>> Fields,
    string? Message,
    string? AttackerIp,
    string RawLine)
{
    public string? Field(string key)
    {
        foreach (var pair in Fields)
        {
            if (string.Equals(pair.Key, key, StringComparison.Ordinal))
            {
                return pair.Value;
            }
        }
        return null;
    }
}

/// <summary>
/// The outcome of parsing one line. A malformed line is still carried (raw, possibly truncated) so the
/// caller can count and keep it; parsing never throws on input.
/// </summary>
public sealed record ParseResult(ParsedEvent? Event, string RawLine, string? Error, bool Truncated)
{
    public bool Succeeded => Event is not null;
}
