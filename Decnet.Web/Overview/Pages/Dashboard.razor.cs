using Decnet.Core.Audit;
using Decnet.Core.Events;
using Decnet.Core.Notifications;
using Decnet.Core.Overview;
using Decnet.Core.Search;
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
    private string _activity = "";
    private IDisposable? _windowLease;
    private IDisposable? _latestLease;
    private readonly List<IDisposable> _subscriptions = [];
    private ArtifactDetails? _drawerArtifact;
    private readonly CancellationTokenSource _disposed = new();

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
        _activity = DashboardMarkup.Activity(await Audit.RecentAsync(10, _disposed.Token));
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

    private string RangeButtonClass(OverviewRange range) => range == _range
        ? "mud-button-root mud-button mud-button-filled mud-button-filled-primary mud-button-filled-size-small mud-ripple"
        : "mud-button-root mud-button mud-button-outlined mud-button-outlined-default mud-button-outlined-size-small mud-ripple";

    /// <summary>A click in the latest events: a row opens its attacker, an artifact button the capture's details.</summary>
    private void OnLatestAction(TableActionEventArgs action)
    {
        if (action.Artifact is { } storedAs)
        {
            // Looked up in what this circuit shows; an event that has since scrolled off opens nothing.
            var summary = _latest?.Events.FirstOrDefault(e => e.FieldsOrEmpty.TryGetValue(LogRow.StoredAsField, out var s) && s == storedAs);
            if (summary is not null)
            {
                _drawerArtifact = ArtifactDetails.From(summary);
            }
        }
        else if (action.Href is { } href && href.StartsWith("/attackers/", StringComparison.Ordinal))
        {
            Navigation.NavigateTo(href);
        }
    }

    private void OnDrawerOpenChanged(bool open)
    {
        if (!open)
        {
            _drawerArtifact = null;
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
}
