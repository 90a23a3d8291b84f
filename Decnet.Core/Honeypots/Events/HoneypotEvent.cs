namespace Decnet.Core.Honeypots.Events;

/// <summary>
/// One thing an attacker did to a decky's service. Serialised as RFC 5424 with a single
/// structured-data element <c>relay@55555</c>: HOSTNAME = decky, APP-NAME = service, MSGID = event type.
/// </summary>
public sealed record HoneypotEvent(
    DateTimeOffset Timestamp,
    string Decky,
    string Service,
    string EventType,
    IReadOnlyList<KeyValuePair<string, string>> Fields,
    string? Message = null,
    EventSeverity Severity = EventSeverity.Informational)
{
    /// <summary>
    /// Identity of this occurrence, so the ingest can tell a replay of the same event from a second,
    /// identical-looking one. Not part of the wire format: the line stays what upstream and SIEMs expect.
    /// A <c>with</c> copy keeps the Id, so it is the same occurrence; a new occurrence is a new event.
    /// </summary>
    public Guid Id { get; init; } = Guid.NewGuid();

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

/// <summary>RFC 5424 severities used by the services.</summary>
public enum EventSeverity
{
    Warning = 4,
    Notice = 5,
    Informational = 6,
}
