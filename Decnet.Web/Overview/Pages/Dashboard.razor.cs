using Decnet.Core.Audit;
using Decnet.Core.Events;
using Decnet.Core.Notifications;
using Decnet.Core.Overview;
using Decnet.Web.Components.Controls;
using Decnet.Web.Components.Live;
using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Overview.Pages;

/// <summary>
/// Headline numbers, the newest events, and for the chosen window the chart and the top-N panels. Every
/// number comes from <see cref="DashboardOverview"/>, which computes each once per change and pushes it
/// over the notification hub: an open dashboard never queries on its own when events arrive.
/// </summary>
public partial class Dashboard : IAsyncDisposable
{
    public const int LatestEventCount = DashboardOverview.LatestCount;

    [Inject]
    public required DashboardOverview Overview { get; init; }

    [Inject]
    public required AuditTrail Audit { get; init; }

    [Inject]
    public required NotificationHub Notifications { get; init; }

    [Inject]
    public required NavigationManager Navigation { get; init; }

    /// <summary>The window of the chart and the panels, in the URL so a view can be shared: 1h, 24h (default), 7d, 30d.</summary>
    [SupplyParameterFromQuery(Name = "range")]
    public string? Range { get; set; }

    private OverviewRange _range = OverviewRange.Default;
    private OverviewSnapshot? _window;
    private LatestActivity? _latest;
    private IReadOnlyList<AuditEntry> _activity = [];
    private IDisposable? _windowLease;
    private IDisposable? _latestLease;
    private readonly List<IDisposable> _subscriptions = [];
    private bool _drawerOpen;
    private ArtifactDetails? _drawerArtifact;
    private readonly CancellationTokenSource _disposed = new();

    /// <summary>Fields every event has (who and where from) say nothing new on a chip.</summary>
    private static readonly HashSet<string> PlainFields = new(StringComparer.Ordinal)
    {
        "src_ip", "src_port", "dst_ip", "dst_port", "decky", "service", "event_type", "session_id", "source_worker", Decnet.Core.Search.LogRow.StoredAsField,
    };

    public const int MaxChips = 4;
    public const int MaxChipValueLength = 40;

    private string BucketLabel => _range.BucketMinutes switch
    {
        5 => "5 minutes",
        60 => "hour",
        360 => "6 hours",
        1440 => "day",
        var m => $"{m} minutes",
    };

    protected override async Task OnInitializedAsync()
    {
        _subscriptions.Add(LiveRefresh.Show<LatestActivityUpdated>(Notifications, InvokeAsync, update =>
        {
            _latest = update.Activity;
            StateHasChanged();
        }));
        _subscriptions.Add(LiveRefresh.Show<OverviewUpdated>(Notifications, InvokeAsync, update =>
        {
            // Never an older computation over a newer one.
            if (update.Snapshot.Range == _range && (_window is null || _window.Range != _range || update.Snapshot.To >= _window.To))
            {
                _window = update.Snapshot;
                StateHasChanged();
            }
        },
        // Only the window on screen: read on the hub's thread, so another range's snapshot never displaces it.
        update => update.Snapshot.Range == _range));
        _latestLease = Overview.WatchLatest();
        _latest = await Overview.LatestAsync(_disposed.Token);
        _activity = await Audit.RecentAsync(10, _disposed.Token);
    }

    protected override Task OnParametersSetAsync() => ShowAsync(OverviewRange.Find(Range) ?? OverviewRange.Default);

    /// <summary>The URL follows the choice; the router re-supplying the same range afterwards changes nothing.</summary>
    private async Task SelectRangeAsync(OverviewRange range)
    {
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameter("range", range == OverviewRange.Default ? null : range.Key), replace: true);
        await ShowAsync(range);
    }

    private async Task ShowAsync(OverviewRange range)
    {
        if (_window is not null && range == _range && _windowLease is not null)
        {
            return;
        }
        _range = range;
        _windowLease?.Dispose();
        _windowLease = Overview.Watch(range);
        var snapshot = await Overview.GetAsync(range, _disposed.Token);
        if (snapshot.Range == _range)
        {
            _window = snapshot;
        }
    }

    /// <summary>The attacker page of the event's source, once the profiler has made one.</summary>
    private string? AttackerLink(EventSummary summary) =>
        summary.AttackerIp is { } ip && _latest?.AttackerIds.TryGetValue(ip, out var id) == true ? $"/attackers/{id}" : null;

    private void OpenAttacker(string? link)
    {
        if (link is not null)
        {
            Navigation.NavigateTo(link);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }
        _windowLease?.Dispose();
        _latestLease?.Dispose();
        // Cancelled but not disposed: a load still running may read the token after this returns.
        await _disposed.CancelAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>The first few telling fields of an event (user, password, command, path ...), values shortened.</summary>
    internal static IEnumerable<KeyValuePair<string, string>> ChipFields(EventSummary summary) =>
        summary.FieldsOrEmpty
            .Where(f => !PlainFields.Contains(f.Key) && !string.IsNullOrEmpty(f.Value))
            .Take(MaxChips)
            .Select(f => KeyValuePair.Create(f.Key, f.Value.Length > MaxChipValueLength ? f.Value[..MaxChipValueLength] + "…" : f.Value));

    private void OpenArtifact(EventSummary summary)
    {
        _drawerArtifact = ArtifactDetails.From(summary);
        _drawerOpen = true;
    }
}
