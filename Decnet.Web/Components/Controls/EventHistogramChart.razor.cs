using System.Globalization;
using Decnet.Core.Search;
using MudBlazor;
using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Components.Controls;

/// <summary>
/// Events per time bucket as a bar chart (the data of <c>/api/v1/logs/histogram</c>). Empty buckets
/// between the first and the last are drawn as zero so gaps show as gaps.
/// </summary>
public partial class EventHistogramChart
{
    /// <summary>Bars drawn at most; older buckets are left out.</summary>
    public const int MaxBars = 240;

    /// <summary>X labels shown at most, so they stay readable.</summary>
    public const int MaxLabels = 12;

    [Parameter, EditorRequired]
    public IReadOnlyList<HistogramBucket> Buckets { get; set; } = [];

    [Parameter, EditorRequired]
    public int IntervalMinutes { get; set; }

    [Parameter]
    public string Height { get; set; } = "180px";

    [Parameter]
    public string TestId { get; set; } = "histogram";

    private List<HistogramBucket> _buckets = [];
    private long _total;
    private List<ChartSeries<double>> _series = [];
    private string[] _labels = [];
    private readonly BarChartOptions _options = new() { ShowLegend = false, ShowToolTips = true };

    protected override void OnParametersSet()
    {
        _buckets = Fill(Buckets, IntervalMinutes);
        _total = _buckets.Sum(b => b.Count);
        _series = [new ChartSeries<double> { Name = "Events", Data = new ChartData<double>(_buckets.Select(b => (double)b.Count).ToArray()) }];
        var every = Math.Max(1, (int)Math.Ceiling(_buckets.Count / (double)MaxLabels));
        var format = IntervalMinutes >= 1440 ? "MM-dd" : _buckets.Count > 0 && _buckets[^1].Time - _buckets[0].Time > TimeSpan.FromDays(1) ? "MM-dd HH:mm" : "HH:mm";
        _labels = [.. _buckets.Select((b, i) => i % every == 0 ? b.Time.ToString(format, CultureInfo.InvariantCulture) : string.Empty)];
    }

    /// <summary>Buckets from the first to the last, missing ones as zero; the newest <see cref="MaxBars"/> only.</summary>
    public static List<HistogramBucket> Fill(IReadOnlyList<HistogramBucket> buckets, int intervalMinutes)
    {
        if (buckets.Count == 0 || intervalMinutes < 1)
        {
            return [.. buckets];
        }
        var width = TimeSpan.FromMinutes(intervalMinutes);
        var byTime = buckets.GroupBy(b => b.Time).ToDictionary(g => g.Key, g => g.Sum(b => b.Count));
        var last = buckets.Max(b => b.Time);
        var first = buckets.Min(b => b.Time);
        var earliest = last - width * (MaxBars - 1);
        if (first < earliest)
        {
            first = earliest;
        }
        var filled = new List<HistogramBucket>();
        for (var at = first; at <= last; at += width)
        {
            filled.Add(new HistogramBucket(at, byTime.GetValueOrDefault(at)));
        }
        return filled;
    }
}
