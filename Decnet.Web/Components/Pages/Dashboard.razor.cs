using Decnet.Core.Audit;
using Decnet.Core.Events;
using Decnet.Core.Notifications;
using Decnet.Core.Search;
using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Components.Pages;

public partial class Dashboard : IAsyncDisposable
{
    public const int LatestEventCount = 20;
    public const int HistogramIntervalMinutes = 60;
    public static readonly TimeSpan HistogramWindow = TimeSpan.FromHours(24);

    [Inject]
    public required EventStatistics Statistics { get; init; }

    [Inject]
    public required EventLog Events { get; init; }

    [Inject]
    public required AuditTrail Audit { get; init; }

    [Inject]
    public required NotificationHub Notifications { get; init; }

    [Inject]
    public required LogSearch Search { get; init; }

    [Inject]
    public required TimeProvider Time { get; init; }

    private StatsSummary? _stats;
    private IReadOnlyList<EventSummary> _latest = [];
    private IReadOnlyList<HistogramBucket> _histogram = [];
    private IReadOnlyList<AuditEntry> _activity = [];
    private IDisposable? _subscription;
    private bool _drawerOpen;
    private Controls.ArtifactDetails? _drawerArtifact;

    /// <summary>Fields every event has (who and where from) say nothing new on a chip.</summary>
    private static readonly HashSet<string> PlainFields = new(StringComparer.Ordinal)
    {
        "src_ip", "src_port", "dst_ip", "dst_port", "decky", "service", "event_type", "session_id", "source_worker", Decnet.Core.Search.LogRow.StoredAsField,
    };

    public const int MaxChips = 4;
    public const int MaxChipValueLength = 40;
    private readonly CancellationTokenSource _disposed = new();

    /// <summary>
    /// Batches can commit four times a second and the interaction count scans <c>logs</c>: each open page
    /// refreshes at most this often, with later batches folded into one pending refresh.
    /// </summary>
    public static readonly TimeSpan MinRefreshInterval = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private int _refreshPending;

    protected override async Task OnInitializedAsync()
    {
        _subscription = Notifications.Subscribe<EventsIngested>(OnEventsIngestedAsync);
        _stats = await Statistics.GetSummaryAsync(_disposed.Token);
        _latest = await Events.LatestAsync(LatestEventCount, _disposed.Token);
        _histogram = await HistogramAsync();
        _activity = await Audit.RecentAsync(10, _disposed.Token);
    }

    private async Task OnEventsIngestedAsync(EventsIngested _)
    {
        if (Interlocked.Exchange(ref _refreshPending, 1) == 1)
        {
            return;
        }
        try
        {
            await _refreshGate.WaitAsync(_disposed.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        try
        {
            Interlocked.Exchange(ref _refreshPending, 0);
            var stats = await Statistics.GetSummaryAsync(_disposed.Token);
            var latest = await Events.LatestAsync(LatestEventCount, _disposed.Token);
            var histogram = await HistogramAsync();
            await InvokeAsync(() =>
            {
                _stats = stats;
                _latest = latest;
                _histogram = histogram;
                StateHasChanged();
            });
            await Task.Delay(MinRefreshInterval, _disposed.Token);
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            // The page closed mid-refresh; nothing left to render.
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    /// <summary>The same numbers as <c>/api/v1/logs/histogram?interval_minutes=60</c> over the last day.</summary>
    private Task<IReadOnlyList<HistogramBucket>> HistogramAsync() =>
        Search.HistogramAsync(LogQuery.Empty, Time.GetUtcNow().UtcDateTime - HistogramWindow, null, HistogramIntervalMinutes, _disposed.Token);

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        // Cancelled but not disposed: a refresh still running may read the token after this returns.
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
        _drawerArtifact = Controls.ArtifactDetails.From(summary);
        _drawerOpen = true;
    }
}
