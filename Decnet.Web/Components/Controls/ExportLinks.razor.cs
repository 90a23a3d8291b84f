using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Components.Controls;

/// <summary>
/// The CSV and JSON downloads of what a list shows: every row its current filter matches, not only the
/// page on screen. The links go to the dashboard's cookie-authenticated export routes.
/// </summary>
public partial class ExportLinks
{
    /// <summary>The export route with the filter's query parameters (values already escaped), without the format.</summary>
    [Parameter, EditorRequired]
    public string Href { get; set; } = "";

    [Parameter]
    public string TestId { get; set; } = "export";

    private string Link(string format) => Href + (Href.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "format=" + format;
}
