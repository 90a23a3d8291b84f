using Decnet.Core.Events;
using Decnet.Core.Notifications;
using Decnet.Core.Search;
using Decnet.Web.Components.Controls;
using Decnet.Web.Components.Live;
using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Events.Pages;

/// <summary>
/// Search over captured events. The query, time range and page live in the URL so a view can be shared
/// and survives a reload; the live tail appends what the ingest commits without re-running the page query.
/// </summary>
public partial class LiveLogs : IAsyncDisposable
{
    public const int PageSize = 50;
    public const int MaxChips = 6;

    /// <summary>A chip shows this much of a value; the full text is in its tooltip and the expanded row.</summary>
    public const int MaxChipValueLength = 48;
    public const string DefaultRange = LogRanges.Default;
    public static readonly IReadOnlyList<string> Ranges = LogRanges.All;

    [Inject]
    public required LogSearch Search { get; init; }

    [Inject]
    public required NotificationHub Notifications { get; init; }

    [Inject]
    public required NavigationManager Navigation { get; init; }

    [Inject]
    public required TimeProvider Time { get; init; }

    [SupplyParameterFromQuery(Name = "q")]
    public string? Q { get; set; }

    [SupplyParameterFromQuery(Name = "range")]
    public string? Range { get; set; }

    [SupplyParameterFromQuery(Name = "page")]
    public int? Page { get; set; }

    private string _draft = string.Empty;
    private string _query = string.Empty;
    private string _range = DefaultRange;
    private int _page = 1;
    private bool _applied;
    private LogQuery _parsed = LogQuery.Empty;
    private string? _error;
    private bool _loading;
    private bool _live;
    private long _total;
    private long _lastId;
    private List<LogRow> _rows = [];
    private IReadOnlyList<HistogramBucket> _histogram = [];
    private readonly HashSet<long> _expanded = [];
    private IDisposable? _subscription;
    private bool _drawerOpen;
    private ArtifactDetails? _drawerArtifact;
    private readonly CancellationTokenSource _disposed = new();

    private int PageCount => (int)Math.Min(int.MaxValue, (_total + PageSize - 1) / PageSize);

    /// <summary>Buckets sized so each range draws roughly 15–60 bars.</summary>
    private int IntervalMinutes => _range switch
    {
        "15m" => 1,
        "1h" => 2,
        "24h" => 60,
        "7d" => 360,
        _ => 1440,
    };

    private string IntervalLabel => IntervalMinutes switch
    {
        1 => "minute",
        60 => "hour",
        360 => "6 hours",
        1440 => "day",
        var m => $"{m} minutes",
    };

    protected override async Task OnParametersSetAsync()
    {
        var query = Q?.Trim() ?? string.Empty;
        var range = Range is not null && Ranges.Contains(Range) ? Range : DefaultRange;
        var page = Math.Max(1, Page ?? 1);
        // The router re-supplies the query parameters after our own NavigateTo: only a real change reloads.
        if (_applied && query == _query && range == _range && page == _page)
        {
            return;
        }
        _applied = true;
        _draft = query;
        await ApplyAsync(query, range, page, navigate: false);
    }

    private Task SubmitAsync() => ApplyAsync(_draft.Trim(), _range, 1, navigate: true);

    private Task SetRangeAsync(string range) => ApplyAsync(_query, range, 1, navigate: true);

    private Task SetPageAsync(int page) => ApplyAsync(_query, _range, page, navigate: true);

    private async Task ApplyAsync(string query, string range, int page, bool navigate)
    {
        _query = query;
        _range = range;
        _page = page;
        if (navigate)
        {
            Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(new Dictionary<string, object?>
            {
                ["q"] = query.Length == 0 ? null : query,
                ["range"] = range == DefaultRange ? null : range,
                ["page"] = page == 1 ? null : page,
            }), replace: true);
        }
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        var parse = LogQuery.Parse(_query);
        if (!parse.Succeeded)
        {
            _error = parse.Error;
            _rows = [];
            _histogram = [];
            _total = 0;
            return;
        }
        _error = null;
        _parsed = parse.Query!;
        _loading = true;
        try
        {
            var start = Start();
            _lastId = await Search.LatestIdAsync(_disposed.Token);
            var page = await Search.SearchAsync(_parsed, start, null, PageSize, (_page - 1) * PageSize, _disposed.Token);
            _rows = [.. page.Data];
            _total = page.Total;
            _histogram = await Search.HistogramAsync(_parsed, start, null, IntervalMinutes, _disposed.Token);
            _expanded.Clear();
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            // The page closed while loading.
        }
        finally
        {
            _loading = false;
        }
    }

    private DateTime? Start() => LogRanges.Start(_range, Time.GetUtcNow().UtcDateTime);

    /// <summary>The dashboard's download of what the page shows: this search over this window (resolved when clicked).</summary>
    private string ExportHref =>
        "/downloads/export/logs?range=" + Uri.EscapeDataString(_range) + (_query.Length == 0 ? "" : "&q=" + Uri.EscapeDataString(_query));

    /// <summary>Attacker-chosen values can be kilobytes long: a chip carries the start of one.</summary>
    internal static string ChipText(string key, string value) =>
        $"{key}={(value.Length > MaxChipValueLength ? value[..MaxChipValueLength] + "…" : value)}";

    private void Toggle(long id)
    {
        if (!_expanded.Remove(id))
        {
            _expanded.Add(id);
        }
    }

    private async Task ToggleLiveAsync()
    {
        _live = !_live;
        if (_live)
        {
            _subscription ??= LiveRefresh.Show<EventsIngested>(Notifications, InvokeAsync, TailAsync);
            // Rows already listed (or outside the page) are not replayed: the tail starts now.
            _lastId = await Search.LatestIdAsync(_disposed.Token);
        }
        else
        {
            _subscription?.Dispose();
            _subscription = null;
        }
    }

    /// <summary>
    /// Runs on the renderer, one at a time (<see cref="LiveRefresh"/>), with the newest batch's notice: it
    /// reads every row after the last one shown, so notices skipped during a read lose nothing. Only the
    /// first page shows new rows (later pages would shift under the reader).
    /// </summary>
    private async Task TailAsync(EventsIngested ingested)
    {
        if (!_live || _page != 1 || _error is not null || ingested.LastId <= _lastId)
        {
            return;
        }
        try
        {
            var fresh = await Search.AfterIdAsync(_lastId, _parsed, LogSearch.MaxAfterLimit, _disposed.Token);
            if (fresh.Count == 0)
            {
                _lastId = Math.Max(_lastId, ingested.LastId);
                return;
            }
            _lastId = fresh[^1].Id;
            // The histogram follows the tail: the same filter and range, re-counted once per batch.
            _histogram = await Search.HistogramAsync(_parsed, Start(), null, IntervalMinutes, _disposed.Token);
            _rows.InsertRange(0, fresh.Reverse());
            if (_rows.Count > PageSize)
            {
                _rows.RemoveRange(PageSize, _rows.Count - PageSize);
            }
            _total += fresh.Count;
            StateHasChanged();
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            // The page closed mid-read; nothing left to render.
        }
    }

    private void OpenArtifact(LogRow row)
    {
        _drawerArtifact = ArtifactDetails.From(row);
        _drawerOpen = true;
    }

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        // Cancelled but not disposed: a tail refresh still running may read the token after this returns.
        await _disposed.CancelAsync();
        GC.SuppressFinalize(this);
    }
}
