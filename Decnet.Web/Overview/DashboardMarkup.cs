using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using Decnet.Core.Events;
using Decnet.Core.Overview;
using Decnet.Core.Search;
using Decnet.Web.Components.Controls;
using MudBlazor;

namespace Decnet.Web.Overview;

/// <summary>
/// The dashboard's live panels as HTML, built once per snapshot and shared by every circuit that shows it.
/// <see cref="DashboardOverview"/> pushes one <see cref="OverviewSnapshot"/> and one <see cref="LatestActivity"/>
/// instance to every open dashboard; as components or per-circuit markup each circuit would keep its own
/// render trees and strings of the same tables (about 5 KiB per component and the text of every cell), here
/// they all hold one string per snapshot. The markup uses MudBlazor's classes, so it looks as the components
/// did. Every value an attacker can influence (addresses, names, fields) is HTML-encoded; the few actions
/// (open the attacker, show an artifact) are attributes read by one <see cref="TableActionEventArgs"/> handler.
/// </summary>
public static class DashboardMarkup
{
    public const int MaxChips = 4;
    public const int MaxChipValueLength = 40;

    private static readonly ConditionalWeakTable<OverviewSnapshot, string> s_windows = new();
    private static readonly ConditionalWeakTable<LatestActivity, string> s_latest = new();

    /// <summary>Fields every event has (who and where from) say nothing new on a chip.</summary>
    private static readonly HashSet<string> PlainFields = new(StringComparer.Ordinal)
    {
        "src_ip", "src_port", "dst_ip", "dst_port", "decky", "service", "event_type", "session_id", "source_worker", LogRow.StoredAsField,
    };

    private static readonly string ArtifactIcon = Icons.Material.Filled.AttachFile;

    /// <summary>The chart and the top-N panels of one window (the same instance for every caller with the same snapshot).</summary>
    public static string Window(OverviewSnapshot snapshot) => s_windows.GetValue(snapshot, BuildWindow);

    /// <summary>The latest-events panel (the same instance for every caller with the same activity).</summary>
    public static string Latest(LatestActivity activity) => s_latest.GetValue(activity, BuildLatest);

    /// <summary>The attacker page of the event's source, once the profiler has made one.</summary>
    public static string? AttackerLink(LatestActivity activity, EventSummary summary) =>
        summary.AttackerIp is { } ip && activity.AttackerIds.TryGetValue(ip, out var id) ? $"/attackers/{id}" : null;

    /// <summary>The first few telling fields of an event (user, password, command, path ...), values shortened.</summary>
    public static IEnumerable<KeyValuePair<string, string>> ChipFields(EventSummary summary) =>
        summary.FieldsOrEmpty
            .Where(f => !PlainFields.Contains(f.Key) && !string.IsNullOrEmpty(f.Value))
            .Take(MaxChips)
            .Select(f => KeyValuePair.Create(f.Key, f.Value.Length > MaxChipValueLength ? f.Value[..MaxChipValueLength] + "…" : f.Value));

    /// <summary>"hour", "day" ...: one bar of the range's chart.</summary>
    public static string BucketLabel(OverviewRange range) => range.BucketMinutes switch
    {
        5 => "5 minutes",
        60 => "hour",
        360 => "6 hours",
        1440 => "day",
        var m => $"{m} minutes",
    };

    private static string BuildWindow(OverviewSnapshot s)
    {
        var html = new StringBuilder(8192);
        html.Append("<div class=\"mud-paper mud-elevation-0 mt-6 pa-4 panel\" data-testid=\"chart-card\">");
        Title(html, $"Events per {BucketLabel(s.Range)}, {s.Range.Label} (UTC)");
        html.Append(HistogramMarkup.Render(s.Histogram, s.Range.BucketMinutes, "dashboard-histogram")).Append("</div>");

        html.Append("<div class=\"mud-grid mud-grid-spacing-xs-3 justify-start mt-3\">");
        PanelStart(html, "Top credentials", "top-credentials");
        if (s.Credentials.Count == 0)
        {
            Muted(html, $"None tried in the {s.Range.Label}.");
        }
        else
        {
            html.Append("<table class=\"top-table\"><thead><tr><th>Username / password</th><th class=\"num\">Attempts</th></tr></thead><tbody>");
            foreach (var credential in s.Credentials)
            {
                html.Append("<tr data-testid=\"top-row\"><td class=\"top-key\"><code>").Append(Encode(credential.Username ?? "(none)"))
                    .Append("</code> / <code>").Append(Encode(credential.Password)).Append("</code></td><td class=\"num\">")
                    .Append(Count(credential.Attempts)).Append("</td></tr>");
            }
            html.Append("</tbody></table>");
        }
        html.Append("</div></div></div>");
        TopPanel(html, s, "Top source addresses", "top-sources", s.Sources, "attacker", "Address");
        TopPanel(html, s, "Top services", "top-services", s.Services, "service", "Service");
        TopPanel(html, s, "Top deckies", "top-deckies", s.Deckies, "decky", "Decky");
        html.Append("</div>");
        return html.ToString();
    }

    private static void TopPanel(StringBuilder html, OverviewSnapshot s, string title, string testId, IReadOnlyList<TopEntry> entries, string searchKey, string keyHeader)
    {
        PanelStart(html, title, testId);
        if (entries.Count == 0)
        {
            Muted(html, $"Nothing in the {s.Range.Label}.");
        }
        else
        {
            html.Append("<table class=\"top-table\"><thead><tr><th>").Append(keyHeader)
                .Append("</th><th class=\"num\">Events</th><th class=\"when\">Last (UTC)</th></tr></thead><tbody>");
            foreach (var entry in entries)
            {
                var key = Encode(entry.Key);
                html.Append("<tr data-testid=\"top-row\"><td class=\"top-key\"><a href=\"").Append(Encode(LogsLink(searchKey, entry.Key, s.Range)))
                    .Append("\" title=\"").Append(key).Append("\">").Append(key).Append("</a></td><td class=\"num\">").Append(Count(entry.Events))
                    .Append("</td><td class=\"when\">").Append(When(entry.LastSeen, s.To)).Append("</td></tr>");
            }
            html.Append("</tbody></table>");
        }
        html.Append("</div></div></div>");
    }

    /// <summary>Live Logs filtered on one value over the same window; the value is quoted for the search syntax, so any text an attacker put there stays one term.</summary>
    public static string LogsLink(string searchKey, string value, OverviewRange range) =>
        "/logs?q=" + Uri.EscapeDataString($"{searchKey}:\"{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"")
        + "&range=" + Uri.EscapeDataString(range.Key);

    /// <summary>Times of the snapshot's last day as a time, older ones with their date.</summary>
    private static string When(DateTime at, DateTime now) =>
        now - at < TimeSpan.FromDays(1) ? at.ToString("HH:mm:ss", CultureInfo.InvariantCulture) : at.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static void PanelStart(StringBuilder html, string title, string testId)
    {
        html.Append("<div class=\"mud-grid-item mud-grid-item-xs-12 mud-grid-item-md-6 mud-grid-item-xl-3\"><div class=\"top-panel-host\">")
            .Append("<div class=\"mud-paper mud-elevation-0 pa-4 panel top-panel\" data-testid=\"").Append(testId).Append("\">");
        Title(html, title);
    }

    private static string BuildLatest(LatestActivity activity)
    {
        var html = new StringBuilder(16384);
        html.Append("<div class=\"mud-paper mud-elevation-0 mt-6 pa-4 panel\">");
        Title(html, "Latest events");
        if (activity.Events.Count == 0)
        {
            Muted(html, "No attacker events yet.");
            html.Append("</div>");
            return html.ToString();
        }
        html.Append("<div class=\"mud-table mud-simple-table mud-table-dense mud-table-hover mud-elevation-1\" data-testid=\"latest-events\"><div class=\"mud-table-container\"><table>")
            .Append("<thead><tr><th>When (UTC)</th><th>Decky</th><th>Service</th><th>Event</th><th>Attacker IP</th><th>Details</th></tr></thead><tbody>");
        foreach (var e in activity.Events)
        {
            var profile = AttackerLink(activity, e);
            html.Append(profile is null ? "<tr data-testid=\"latest-row\">" : $"<tr class=\"linked\" data-testid=\"latest-row\" data-href=\"{Encode(profile)}\">")
                .Append("<td class=\"nowrap\" data-testid=\"event-time\">").Append(e.TimestampUtc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))
                .Append("</td><td class=\"nowrap\" data-testid=\"event-decky\">").Append(Encode(e.Decky))
                .Append("</td><td class=\"nowrap\">").Append(Encode(e.Service))
                .Append("</td><td class=\"nowrap\">").Append(Encode(e.EventType))
                .Append("</td><td class=\"nowrap\">");
            if (profile is not null)
            {
                html.Append("<a href=\"").Append(Encode(profile)).Append("\" data-testid=\"event-attacker\">").Append(Encode(e.AttackerIp!)).Append("</a>");
            }
            else
            {
                html.Append(Encode(e.AttackerIp ?? "unknown"));
            }
            html.Append("</td><td class=\"details\" data-testid=\"event-fields\">");
            if (e.FieldsOrEmpty.TryGetValue(LogRow.StoredAsField, out var storedAs) && !string.IsNullOrEmpty(storedAs))
            {
                html.Append("<button type=\"button\" class=\"mud-button-root mud-icon-button mud-warning-text hover:mud-warning-hover mud-ripple mud-ripple-icon mud-icon-button-size-small\"")
                    .Append(" title=\"Captured artifact: show details\" aria-label=\"Show artifact details\" data-testid=\"artifact\" data-artifact=\"").Append(Encode(storedAs))
                    .Append("\"><span class=\"mud-icon-button-label\"><svg class=\"mud-icon-root mud-svg-icon mud-icon-size-small\" focusable=\"false\" viewBox=\"0 0 24 24\" aria-hidden=\"true\" role=\"img\">")
                    .Append(ArtifactIcon).Append("</svg></span></button>");
            }
            foreach (var (key, value) in ChipFields(e))
            {
                var text = Encode($"{key}: {value}");
                html.Append("<div class=\"mud-chip mud-chip-outlined mud-chip-size-small mud-chip-color-default field-chip\" title=\"").Append(Encode($"{key}={value}"))
                    .Append("\"><span class=\"mud-chip-content\">").Append(text).Append("</span></div>");
            }
            html.Append("</td></tr>");
        }
        html.Append("</tbody></table></div></div></div>");
        return html.ToString();
    }

    private static void Title(StringBuilder html, string title) =>
        html.Append("<p class=\"mud-typography mud-typography-subtitle1 panel-title\">").Append(Encode(title)).Append("</p>");

    private static void Muted(StringBuilder html, string text) =>
        html.Append("<p class=\"mud-typography mud-typography-body2 muted\">").Append(Encode(text)).Append("</p>");

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Encode(string text) => HtmlEncoder.Default.Encode(text);
}
