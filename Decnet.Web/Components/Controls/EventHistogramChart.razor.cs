using Decnet.Core.Search;
using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Components.Controls;

/// <summary>
/// Events per time bucket as a bar chart (the data of <c>/api/v1/logs/histogram</c>), drawn by
/// <see cref="HistogramMarkup"/>.
/// </summary>
public partial class EventHistogramChart
{
    [Parameter, EditorRequired]
    public IReadOnlyList<HistogramBucket> Buckets { get; set; } = [];

    [Parameter, EditorRequired]
    public int IntervalMinutes { get; set; }

    [Parameter]
    public string TestId { get; set; } = "histogram";

    private string _markup = "";

    protected override void OnParametersSet() => _markup = HistogramMarkup.Render(Buckets, IntervalMinutes, TestId);
}
