using Decnet.Core.Events;
using Decnet.Core.Search;

namespace Decnet.Web.Components.Controls;

/// <summary>What the artifact drawer shows about one captured file, read from its <c>file_captured</c> event.</summary>
public sealed record ArtifactDetails(
    long LogId,
    DateTime Timestamp,
    string Decky,
    string Service,
    string? AttackerIp,
    string? StoredAs,
    string? Sha256,
    long? Size,
    string? OriginalPath,
    string? User,
    string? Method)
{
    public static ArtifactDetails From(LogRow row) => From(row.Id, row.Timestamp, row.Decky, row.Service, row.AttackerIp, row.Fields);

    public static ArtifactDetails From(LogEntry entry) =>
        From(entry.Id, DateTime.SpecifyKind(entry.Timestamp, DateTimeKind.Utc), entry.Decky, entry.Service, entry.AttackerIp, LogRow.ParseFields(entry.Fields));

    public static ArtifactDetails From(EventSummary summary) =>
        From(summary.Id, summary.TimestampUtc, summary.Decky, summary.Service, summary.AttackerIp, summary.FieldsOrEmpty);

    private static ArtifactDetails From(long id, DateTime timestamp, string decky, string service, string? ip, IReadOnlyDictionary<string, string> fields) => new(
        id, timestamp, decky, service, ip,
        fields.GetValueOrDefault(LogRow.StoredAsField),
        fields.GetValueOrDefault("sha256"),
        long.TryParse(fields.GetValueOrDefault("size"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size) ? size : null,
        fields.GetValueOrDefault("orig_path"),
        fields.GetValueOrDefault("ssh_user") ?? fields.GetValueOrDefault("user") ?? fields.GetValueOrDefault("username"),
        fields.GetValueOrDefault("method"));

    /// <summary>The file name shown: the attacker's path, else the stored name.</summary>
    public string Name => OriginalPath ?? StoredAs ?? "(unnamed)";

    /// <summary>
    /// The dashboard's download link (cookie session, admin only): the same checks as
    /// <c>/api/v1/artifacts/...</c>, which takes bearer tokens only. Null when the event names no stored file.
    /// </summary>
    public string? DownloadPath => StoredAs is null
        ? null
        : $"/downloads/artifacts/{Uri.EscapeDataString(Decky)}/{Uri.EscapeDataString(Service)}/{Uri.EscapeDataString(StoredAs)}";
}
