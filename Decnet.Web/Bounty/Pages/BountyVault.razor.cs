using Decnet.Core.Text;
using System.Text.Json;
using Decnet.Core.Bounty;
using Decnet.Core.Notifications;
using Decnet.Web.Components.Live;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;

namespace Decnet.Web.Bounty.Pages;

public partial class BountyVault : IAsyncDisposable
{
    public const int PageSize = BountyQuery.DefaultLimit;

    private static readonly (string? Value, string Label)[] Filters =
    [
        (null, "All"),
        (BountyExtractor.Credential, "Credentials"),
        (BountyExtractor.Fingerprint, "Fingerprints"),
        (BountyExtractor.Payload, "Payloads"),
    ];

    [Inject]
    public required BountyQuery Query { get; init; }

    [Inject]
    public required NotificationHub Notifications { get; init; }

    [Inject]
    public required IJSRuntime JS { get; init; }

    private string? _type;
    private string? _search;
    private int _page = 1;
    private int _total;
    private IReadOnlyList<BountyRow>? _rows;
    private IDisposable? _subscription;
    private readonly SemaphoreSlim _loadGate = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();

    private int PageCount => Math.Max(1, (_total + PageSize - 1) / PageSize);

    /// <summary>Every bounty of the chosen type and search, not only this page.</summary>
    private string ExportHref => "/downloads/export/bounty" + QueryString(("bounty_type", _type), ("search", string.IsNullOrWhiteSpace(_search) ? null : _search));

    private static string QueryString(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => p.Value is not null).Select(p => p.Name + "=" + Uri.EscapeDataString(p.Value!)).ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }

    protected override async Task OnInitializedAsync()
    {
        // Batches can commit several times a second: later notifications fold into one pending refresh.
        _subscription = LiveRefresh.Subscribe<BountiesFound>(Notifications, InvokeAsync, async () =>
        {
            await LoadAsync();
            StateHasChanged();
        });
        await LoadAsync();
    }

    private async Task SetTypeAsync(string? type)
    {
        _type = type;
        _page = 1;
        await LoadAsync();
    }

    private async Task SetSearchAsync(string? search)
    {
        _search = search;
        _page = 1;
        await LoadAsync();
    }

    private async Task SetPageAsync(int page)
    {
        _page = page;
        await LoadAsync();
    }

    /// <summary>
    /// Copies through the browser's clipboard API; a refused permission is not worth an error. The
    /// attacker chose the text: control and invisible characters (a newline that runs a pasted command,
    /// an escape sequence, a bidi override) never reach the clipboard.
    /// </summary>
    private async Task CopyAsync(string text)
    {
        try
        {
            await JS.InvokeVoidAsync("navigator.clipboard.writeText", _disposed.Token, UntrustedText.StripUnsafe(text));
        }
        catch (JSException)
        {
            // Clipboard access denied (insecure origin or permissions); the text is still on screen.
        }
    }

    /// <summary>Loads are serialised so a live refresh never overwrites a newer filter's result with an older one.</summary>
    private async Task LoadAsync()
    {
        try
        {
            await _loadGate.WaitAsync(_disposed.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        try
        {
            var page = await Query.ListAsync(PageSize, (_page - 1) * PageSize, _type, _search, _disposed.Token);
            _total = page.Total;
            _rows = page.Items.Select(BountyRow.From).ToList();
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            // The page closed mid-load.
        }
        finally
        {
            _loadGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        // Cancelled but not disposed: a load still running may read the token after this returns.
        await _disposed.CancelAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>A bounty with its payload taken apart once, for rendering.</summary>
    public sealed record BountyRow(BountyRecord Record, IReadOnlyList<KeyValuePair<string, string>> Fields)
    {
        /// <summary>The field a fingerprint is known by: its value, else its hash, else its type-named field.</summary>
        public string? ValueKey => Fields.FirstOrDefault(f => f.Key is "value" or "hash" || f.Key == Get("fingerprint_type")).Key;

        public string? FingerprintValue => ValueKey is { } key ? Get(key) : null;

        public string? Get(string key) => Fields.FirstOrDefault(f => f.Key == key).Value;

        /// <summary>A credential the decky accepted: the attacker got in with it.</summary>
        public bool Succeeded => Record.BountyType == BountyExtractor.Credential && Get("outcome") == BountyExtractor.Success;

        public static BountyRow From(BountyRecord record)
        {
            var fields = new List<KeyValuePair<string, string>>();
            try
            {
                using var document = JsonDocument.Parse(record.Payload);
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in document.RootElement.EnumerateObject())
                    {
                        fields.Add(new(property.Name, property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText()));
                    }
                }
            }
            catch (JsonException)
            {
                fields.Add(new("payload", record.Payload));
            }
            return new BountyRow(record, fields);
        }
    }
}
