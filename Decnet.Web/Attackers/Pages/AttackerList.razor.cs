using Decnet.Core.Attackers;
using Decnet.Core.Notifications;
using Decnet.Web.Components.Live;
using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Attackers.Pages;

public partial class AttackerList : IAsyncDisposable
{
    public const int PageSize = 50;

    private static readonly (AttackerSort Sort, string Label)[] SortTabs =
    [
        (AttackerSort.Recent, "Recent"),
        (AttackerSort.Active, "Most active"),
        (AttackerSort.Traversals, "Traversals"),
    ];

    [Inject]
    public required AttackerDirectory Directory { get; init; }

    [Inject]
    public required NotificationHub Notifications { get; init; }

    [Inject]
    public required TimeProvider Time { get; init; }

    private AttackerSort _sort = AttackerSort.Recent;
    private string? _search;
    private string? _service;
    private int _pageIndex;
    private int _total;
    private IReadOnlyList<Attacker>? _page;
    private IReadOnlyList<string> _services = [];
    private IDisposable? _subscription;
    private readonly CancellationTokenSource _disposed = new();
    private readonly SemaphoreSlim _loadGate = new(1, 1);

    private DateTimeOffset Now => Time.GetUtcNow();

    private int PageCount => Math.Max(1, (_total + PageSize - 1) / PageSize);

    /// <summary>Every profile the search and service filter match, in the chosen order, not only this page.</summary>
    private string ExportHref
    {
        get
        {
            var href = "/downloads/export/attackers?sort_by=" + _sort.ToString().ToLowerInvariant();
            if (!string.IsNullOrWhiteSpace(_search))
            {
                href += "&search=" + Uri.EscapeDataString(_search.Trim());
            }
            if (_service is not null)
            {
                href += "&service=" + Uri.EscapeDataString(_service);
            }
            return href;
        }
    }

    protected override async Task OnInitializedAsync()
    {
        // Profiles change every few seconds under attack: updates arriving during a reload fold into one more reload.
        _subscription = LiveRefresh.Subscribe<AttackerUpdated>(Notifications, InvokeAsync, async () =>
        {
            await LoadAsync();
            StateHasChanged();
        });
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        await _loadGate.WaitAsync(_disposed.Token);
        try
        {
            var page = await Directory.ListAsync(new AttackerQuery(PageSize, _pageIndex * PageSize, _search, _sort, _service), _disposed.Token);
            _services = await Directory.ServicesAsync(_disposed.Token);
            _total = page.Total;
            _page = page.Data;
        }
        finally
        {
            _loadGate.Release();
        }
    }

    private async Task SetSortAsync(AttackerSort sort)
    {
        _sort = sort;
        _pageIndex = 0;
        await LoadAsync();
    }

    private async Task OnSearchAsync(ChangeEventArgs e)
    {
        _search = e.Value?.ToString();
        _pageIndex = 0;
        await LoadAsync();
    }

    private async Task OnServiceAsync(ChangeEventArgs e)
    {
        var value = e.Value?.ToString();
        _service = string.IsNullOrEmpty(value) ? null : value;
        _pageIndex = 0;
        await LoadAsync();
    }

    private async Task GoToAsync(int pageIndex)
    {
        _pageIndex = Math.Clamp(pageIndex, 0, PageCount - 1);
        await LoadAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await _disposed.CancelAsync();
        GC.SuppressFinalize(this);
    }
}
