namespace Decnet.Core.Events;

/// <summary>What a list of events shows: when, where, what and who, plus the event's fields for chips.</summary>
/// <param name="Id"><c>logs.Id</c> when known (0 in ingest notifications).</param>
public sealed record EventSummary(
    DateTime TimestampUtc,
    string Decky,
    string Service,
    string EventType,
    string? AttackerIp,
    long Id = 0,
    IReadOnlyDictionary<string, string>? Fields = null)
{
    private static readonly IReadOnlyDictionary<string, string> NoFields = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> FieldsOrEmpty => Fields ?? NoFields;
}
