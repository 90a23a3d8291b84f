using System.Globalization;
using Decnet.Core.Overview;
using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Components.Controls;

/// <summary>One top-N panel of the dashboard; each line opens Live Logs filtered on it over the same window.</summary>
public partial class TopPanel
{
    [Parameter, EditorRequired]
    public string Title { get; set; } = "";

    [Parameter, EditorRequired]
    public IReadOnlyList<TopEntry> Entries { get; set; } = [];

    [Parameter, EditorRequired]
    public required OverviewRange Range { get; set; }

    /// <summary>The Live Logs search key the entries are values of (attacker, service, decky).</summary>
    [Parameter, EditorRequired]
    public string SearchKey { get; set; } = "";

    [Parameter]
    public string? TestId { get; set; }

    [Inject]
    public required TimeProvider Time { get; init; }

    private string KeyHeader => SearchKey switch
    {
        "attacker" => "Address",
        "service" => "Service",
        _ => "Decky",
    };

    /// <summary>The value is quoted for the search syntax, so any text an attacker put there stays one term.</summary>
    private string LogsLink(TopEntry entry) =>
        "/logs?q=" + Uri.EscapeDataString($"{SearchKey}:\"{entry.Key.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"")
        + "&range=" + Uri.EscapeDataString(Range.Key);

    /// <summary>Today's times as a time, older ones with their date.</summary>
    private string When(DateTime at)
    {
        var age = Time.GetUtcNow().UtcDateTime - at;
        return age < TimeSpan.FromDays(1) ? at.ToString("HH:mm:ss", CultureInfo.InvariantCulture) : at.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture);
    }
}
