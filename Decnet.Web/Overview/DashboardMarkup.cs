using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using Decnet.Core.Audit;
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

    private static readonly ConditionalWeakTable<OverviewSnapshot, WindowPanels> s_windows = new();
    private static readonly ConditionalWeakTable<LatestActivity, LatestRow[]> s_latest = new();
    private static readonly ConditionalWeakTable<LatestActivity, StatsMarkup> s_stats = new();

    /// <summary>Fields every event has (who and where from) say nothing new on a chip.</summary>
    private static readonly HashSet<string> PlainFields = new(StringComparer.Ordinal)
    {
        "src_ip", "src_port", "dst_ip", "dst_port", "decky", "service", "event_type", "session_id", "source_worker", LogRow.StoredAsField,
    };

    private static readonly string ArtifactIcon = Icons.Material.Filled.AttachFile;

    /// <summary>The chart and the four top-N panels of one window, each its own string so that a change re-sends only what changed.</summary>
    public sealed record WindowPanels(string Chart, string Credentials, string Sources, string Services, string Deckies);

    /// <summary>The chart and the top-N panels of one window (the same instances for every caller with the same snapshot).</summary>
    public static WindowPanels Window(OverviewSnapshot snapshot) => s_windows.GetValue(snapshot, BuildWindow);

    /// <summary>One latest event: its cells as markup, its key (the stored row's id) and where a click on it leads.</summary>
    public sealed record LatestRow(object? Key, string? Href, string Cells);

    /// <summary>
    /// The latest events' rows (the same instances for every caller with the same activity). Each is keyed by its
    /// stored id, so a new event sends each browser one row rather than the table: every update is a small render
    /// batch, and small batches keep the renderer's pooled buffers small.
    /// </summary>
    public static IReadOnlyList<LatestRow> Latest(LatestActivity activity) => s_latest.GetValue(activity, BuildLatest);

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

    private static WindowPanels BuildWindow(OverviewSnapshot s)
    {
        var chart = new StringBuilder(4096);
        Title(chart, $"Events per {BucketLabel(s.Range)}, {s.Range.Label} (UTC)");
        chart.Append(HistogramMarkup.Render(s.Histogram, s.Range.BucketMinutes, "dashboard-histogram"));

        var credentials = new StringBuilder(1024);
        PanelStart(credentials, "Top credentials", "top-credentials");
        if (s.Credentials.Count == 0)
        {
            Muted(credentials, $"None tried in the {s.Range.Label}.");
        }
        else
        {
            credentials.Append("<table class=\"top-table\"><thead><tr><th>Username / password</th><th class=\"num\">Attempts</th></tr></thead><tbody>");
            foreach (var credential in s.Credentials)
            {
                credentials.Append("<tr data-testid=\"top-row\"><td class=\"top-key\"><code>").Append(Encode(credential.Username ?? "(none)"))
                    .Append("</code> / <code>").Append(Encode(credential.Password)).Append("</code></td><td class=\"num\">")
                    .Append(Count(credential.Attempts)).Append("</td></tr>");
            }
            credentials.Append("</tbody></table>");
        }
        credentials.Append("</div></div></div>");
        return new WindowPanels(chart.ToString(), credentials.ToString(),
            TopPanel(s, "Top source addresses", "top-sources", s.Sources, "attacker", "Address"),
            TopPanel(s, "Top services", "top-services", s.Services, "service", "Service"),
            TopPanel(s, "Top deckies", "top-deckies", s.Deckies, "decky", "Decky"));
    }

    private static string TopPanel(OverviewSnapshot s, string title, string testId, IReadOnlyList<TopEntry> entries, string searchKey, string keyHeader)
    {
        var html = new StringBuilder(1024);
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
        return html.ToString();
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

    private static LatestRow[] BuildLatest(LatestActivity activity)
    {
        // Ids key the rows; rows without one (never from the store, but a key must not repeat) go unkeyed.
        var keyed = activity.Events.All(e => e.Id > 0) && activity.Events.Select(e => e.Id).Distinct().Count() == activity.Events.Count;
        var rows = new LatestRow[activity.Events.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            var e = activity.Events[i];
            var profile = AttackerLink(activity, e);
            var html = new StringBuilder(512);
            html.Append("<td class=\"nowrap\" data-testid=\"event-time\">").Append(e.TimestampUtc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))
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
                // MudBlazor's small outlined chip, drawn by the page's stylesheet from one class.
                html.Append("<span class=\"field-chip\" title=\"").Append(Encode($"{key}={value}")).Append("\"><span>").Append(Encode($"{key}: {value}")).Append("</span></span>");
            }
            html.Append("</td>");
            rows[i] = new LatestRow(keyed ? e.Id : null, profile, html.ToString());
        }
        return rows;
    }

    /// <summary>
    /// The three headline cards: all-time numbers from the latest activity, the hints from the window (cached per
    /// activity for the last window asked, which is the one every dashboard on the same range asks for).
    /// </summary>
    public static string Stats(LatestActivity latest, OverviewSnapshot window)
    {
        var holder = s_stats.GetValue(latest, static _ => new StatsMarkup());
        if (Volatile.Read(ref holder.Last) is { } last && ReferenceEquals(last.Window, window))
        {
            return last.Markup;
        }
        var html = new StringBuilder(1024);
        html.Append("<div class=\"mud-grid mud-grid-spacing-xs-3 justify-start\">");
        StatCard(html, "Total interactions", latest.Stats.TotalInteractions, "stat-interactions", $"{Count(window.Events)} in the {window.Range.Label}");
        StatCard(html, "Unique attackers", latest.Stats.UniqueAttackers, "stat-attackers", $"{Count(window.Attackers)} in the {window.Range.Label}");
        StatCard(html, "Active deckies", latest.Stats.ActiveDeckies, "stat-deckies", null);
        html.Append("</div>");
        var markup = html.ToString();
        Volatile.Write(ref holder.Last, new StatsFor(window, markup));
        return markup;
    }

    private static void StatCard(StringBuilder html, string label, long value, string testId, string? hint)
    {
        html.Append("<div class=\"mud-grid-item mud-grid-item-xs-12 mud-grid-item-md-4\"><div class=\"mud-paper mud-elevation-0 stat-card pa-4\" data-testid=\"").Append(testId)
            .Append("\"><div class=\"stat-label\">").Append(Encode(label)).Append("</div><div class=\"stat-value\">").Append(Count(value)).Append("</div>");
        if (hint is not null)
        {
            html.Append("<div class=\"stat-hint\">").Append(Encode(hint)).Append("</div>");
        }
        html.Append("</div></div>");
    }

    private sealed class StatsMarkup
    {
        public StatsFor? Last;
    }

    private sealed record StatsFor(OverviewSnapshot Window, string Markup);

    /// <summary>
    /// The recent operator activity table; dashboards that read the same entries (by id, the trail is append-only)
    /// share the last text built.
    /// </summary>
    public static string Activity(IReadOnlyList<AuditEntry> entries)
    {
        var ids = entries.Select(e => e.Id).ToArray();
        if (Volatile.Read(ref s_activity) is { } cached && cached.Ids.AsSpan().SequenceEqual(ids))
        {
            return cached.Markup;
        }
        var html = new StringBuilder(2048);
        if (entries.Count == 0)
        {
            Muted(html, "No operator actions recorded yet.");
        }
        else
        {
            html.Append("<div class=\"mud-table mud-simple-table mud-table-dense mud-table-hover mud-elevation-1\" data-testid=\"audit-table\"><div class=\"mud-table-container\"><table>")
                .Append("<thead><tr><th>When (UTC)</th><th>Who</th><th>What</th><th>Target</th><th>Detail</th></tr></thead><tbody>");
            foreach (var entry in entries)
            {
                html.Append("<tr><td class=\"nowrap\">").Append(entry.Timestamp.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))
                    .Append("</td><td>").Append(Encode(entry.Actor)).Append("</td><td>").Append(Encode(entry.Action))
                    .Append("</td><td>").Append(Encode(entry.Target ?? "")).Append("</td><td>").Append(Encode(entry.Detail ?? "")).Append("</td></tr>");
            }
            html.Append("</tbody></table></div></div>");
        }
        var markup = html.ToString();
        Volatile.Write(ref s_activity, new ActivityMarkup(ids, markup));
        return markup;
    }

    private sealed record ActivityMarkup(long[] Ids, string Markup);

    private static ActivityMarkup? s_activity;

    private static void Title(StringBuilder html, string title) =>
        html.Append("<p class=\"mud-typography mud-typography-subtitle1 panel-title\">").Append(Encode(title)).Append("</p>");

    private static void Muted(StringBuilder html, string text) =>
        html.Append("<p class=\"mud-typography mud-typography-body2 muted\">").Append(Encode(text)).Append("</p>");

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Encode(string text) => HtmlEncoder.Default.Encode(text);
}
