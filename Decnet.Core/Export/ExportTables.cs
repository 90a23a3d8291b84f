using Decnet.Core.Attackers;
using Decnet.Core.Bounty;
using Decnet.Core.Events;

namespace Decnet.Core.Export;

/// <summary>The columns of each export and how a stored row fills them. CSV and JSON carry the same columns.</summary>
public static class ExportTables
{
    public static readonly IReadOnlyList<string> LogColumns =
        ["id", "timestamp", "decky", "service", "event_type", "attacker_ip", "fields", "raw_line"];

    public static readonly IReadOnlyList<string> BountyColumns =
        ["id", "timestamp", "decky", "service", "attacker_ip", "bounty_type", "payload"];

    public static readonly IReadOnlyList<string> AttackerColumns =
    [
        "id", "ip", "first_seen", "last_seen", "event_count", "service_count", "decky_count", "services", "deckies",
        "is_traversal", "traversal_path", "bounty_count", "credential_count", "os_guess", "behavior_class", "tool_guesses",
    ];

    public static void Write(ExportWriter writer, LogEntry row)
    {
        writer.BeginRow();
        writer.Number(row.Id);
        writer.Time(row.Timestamp);
        writer.Text(row.Decky);
        writer.Text(row.Service);
        writer.Text(row.EventType);
        writer.Text(row.AttackerIp);
        writer.Json(row.Fields);
        writer.Text(row.RawLine);
        writer.EndRow();
    }

    public static void Write(ExportWriter writer, BountyRecord row)
    {
        writer.BeginRow();
        writer.Number(row.Id);
        writer.Time(row.Timestamp);
        writer.Text(row.Decky);
        writer.Text(row.Service);
        writer.Text(row.AttackerIp);
        writer.Text(row.BountyType);
        writer.Json(row.Payload);
        writer.EndRow();
    }

    public static void Write(ExportWriter writer, AttackerExportRow row)
    {
        writer.BeginRow();
        writer.Text(row.Id.ToString());
        writer.Text(row.Ip);
        writer.Time(row.FirstSeen);
        writer.Time(row.LastSeen);
        writer.Number(row.EventCount);
        writer.Number(row.ServiceCount);
        writer.Number(row.DeckyCount);
        writer.List(AttackerJson.ReadList<string>(row.Services));
        writer.List(AttackerJson.ReadList<string>(row.Deckies));
        writer.Boolean(row.IsTraversal);
        writer.Text(row.TraversalPath);
        writer.Number(row.BountyCount);
        writer.Number(row.CredentialCount);
        writer.Text(row.OsGuess);
        writer.Text(row.BehaviorClass);
        writer.List(row.ToolGuesses is null ? [] : AttackerJson.ReadList<string>(row.ToolGuesses));
        writer.EndRow();
    }
}
