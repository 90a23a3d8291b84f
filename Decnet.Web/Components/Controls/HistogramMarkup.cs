using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Decnet.Core.Search;

namespace Decnet.Web.Components.Controls;

/// <summary>
/// Events per time bucket as a bar chart in plain HTML and SVG: no component, no script, no measuring of the
/// browser window. The bars are drawn in bucket units stretched to the element (so the chart always fills its
/// card at the card's own proportions), the scale and the time labels are HTML placed by percentage. Built
/// once per set of buckets, the text can be shared by every circuit that shows them (the dashboard does).
/// Empty buckets between the first and the last are drawn as zero so gaps show as gaps.
/// </summary>
public static class HistogramMarkup
{
    /// <summary>Bars drawn at most; older buckets are left out.</summary>
    public const int MaxBars = 240;

    /// <summary>X labels shown at most, so they stay readable.</summary>
    public const int MaxLabels = 12;

    /// <summary>The chart's markup: a host element carrying <c>data-testid</c>, <c>data-buckets</c> and <c>data-total</c>.</summary>
    public static string Render(IReadOnlyList<HistogramBucket> buckets, int intervalMinutes, string testId)
    {
        var filled = Fill(buckets, intervalMinutes);
        var total = filled.Sum(b => b.Count);
        var html = new StringBuilder(256 + filled.Count * 96);
        html.Append("<div class=\"event-histogram\" data-testid=\"").Append(HtmlEncoder.Default.Encode(testId))
            .Append("\" data-buckets=\"").Append(Number(filled.Count)).Append("\" data-total=\"").Append(Number(total)).Append("\">");
        if (total == 0)
        {
            html.Append("<p class=\"mud-typography mud-typography-body2 muted\" data-testid=\"histogram-empty\">No events in this range.</p></div>");
            return html.ToString();
        }

        var top = NiceCeiling(filled.Max(b => b.Count));
        var format = intervalMinutes >= 1440 ? "MM-dd" : filled[^1].Time - filled[0].Time > TimeSpan.FromDays(1) ? "MM-dd HH:mm" : "HH:mm";
        var bars = filled.Count;
        html.Append("<div class=\"histogram-plot\">");
        // The scale: the top, the middle and zero, each with its grid line.
        foreach (var value in ((long[])[top, top / 2, 0]).Distinct())
        {
            var bottom = Percent(value / (double)top);
            html.Append("<div class=\"histogram-grid\" style=\"bottom:").Append(bottom).Append("%\"><span>").Append(value.ToString("N0", CultureInfo.InvariantCulture)).Append("</span></div>");
        }
        html.Append("<svg class=\"histogram-bars\" viewBox=\"0 0 ").Append(Number(bars)).Append(' ').Append(Number(top))
            .Append("\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"").Append(Number(total)).Append(" events in ").Append(Number(bars)).Append(" buckets\">");
        for (var i = 0; i < bars; i++)
        {
            var bucket = filled[i];
            // A bucket with no events is still drawn, with no height, so every bucket has its place.
            html.Append("<rect class=\"histogram-bar\" x=\"").Append(Number(i)).Append(".1\" y=\"").Append(Number(top - bucket.Count))
                .Append("\" width=\"0.8\" height=\"").Append(Number(bucket.Count)).Append("\"><title>")
                .Append(bucket.Time.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)).Append(" UTC: ")
                .Append(bucket.Count.ToString("N0", CultureInfo.InvariantCulture)).Append(bucket.Count == 1 ? " event" : " events").Append("</title></rect>");
        }
        html.Append("</svg></div><div class=\"histogram-labels\">");
        var every = Math.Max(1, (int)Math.Ceiling(bars / (double)MaxLabels));
        for (var i = 0; i < bars; i += every)
        {
            html.Append("<span style=\"left:").Append(Percent((i + 0.5) / bars)).Append("%\">")
                .Append(filled[i].Time.ToString(format, CultureInfo.InvariantCulture)).Append("</span>");
        }
        html.Append("</div></div>");
        return html.ToString();
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

    /// <summary>The smallest of 1, 2 or 5 times a power of ten at or above <paramref name="max"/>: a round top for the scale.</summary>
    internal static long NiceCeiling(long max)
    {
        if (max <= 1)
        {
            return 1;
        }
        for (var power = 1L; ; power *= 10)
        {
            foreach (var step in (long[])[1, 2, 5])
            {
                if (step * power >= max)
                {
                    return step * power;
                }
            }
            if (power > long.MaxValue / 100)
            {
                return max;
            }
        }
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => (fraction * 100).ToString("0.###", CultureInfo.InvariantCulture);
}
