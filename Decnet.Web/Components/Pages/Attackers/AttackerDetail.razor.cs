using System.Text.Json;
using Decnet.Core.Attackers;
using Decnet.Core.Notifications;
using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Components.Pages.Attackers;

public partial class AttackerDetail : IAsyncDisposable
{
    public const int CommandPageSize = 25;

    [Parameter]
    public Guid Id { get; set; }

    [Inject]
    public required AttackerDirectory Directory { get; init; }

    [Inject]
    public required NotificationHub Notifications { get; init; }

    [Inject]
    public required TimeProvider Time { get; init; }

    private bool _loaded;
    private Attacker? _attacker;
    private CommandPage? _commands;
    private int _commandPage;
    private string? _commandService;
    private IReadOnlyList<ArtifactRow> _artifacts = [];
    private IDisposable? _subscription;
    private readonly CancellationTokenSource _disposed = new();
    private readonly SemaphoreSlim _loadGate = new(1, 1);

    private DateTimeOffset Now => Time.GetUtcNow();

    private int CommandPageCount => Math.Max(1, ((_commands?.Total ?? 0) + CommandPageSize - 1) / CommandPageSize);

    protected override void OnInitialized() =>
        _subscription = Notifications.Subscribe<AttackerUpdated>(OnAttackerUpdatedAsync);

    protected override async Task OnParametersSetAsync()
    {
        _commandPage = 0;
        _commandService = null;
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        await _loadGate.WaitAsync(_disposed.Token);
        try
        {
            _attacker = await Directory.GetAsync(Id, _disposed.Token);
            _commands = await Directory.CommandsAsync(Id, CommandPageSize, _commandPage * CommandPageSize, _commandService, _disposed.Token);
            var artifacts = await Directory.ArtifactsAsync(Id, _disposed.Token) ?? [];
            _artifacts = artifacts.Select(ArtifactRow.From).ToList();
            _loaded = true;
        }
        finally
        {
            _loadGate.Release();
        }
    }

    private async Task OnCommandServiceAsync(ChangeEventArgs e)
    {
        var value = e.Value?.ToString();
        _commandService = string.IsNullOrEmpty(value) ? null : value;
        _commandPage = 0;
        await LoadAsync();
    }

    private async Task CommandPageAsync(int page)
    {
        _commandPage = Math.Clamp(page, 0, CommandPageCount - 1);
        await LoadAsync();
    }

    /// <summary>Reloads only when this attacker's profile changed; other IPs' updates are ignored.</summary>
    private async Task OnAttackerUpdatedAsync(AttackerUpdated update)
    {
        if (_attacker is null || !update.Ips.Contains(_attacker.Ip))
        {
            return;
        }
        try
        {
            await InvokeAsync(async () =>
            {
                await LoadAsync();
                StateHasChanged();
            });
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            // The page closed mid-reload.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await _disposed.CancelAsync();
        GC.SuppressFinalize(this);
    }

    private sealed record ArtifactRow(DateTime Timestamp, string Decky, string Service, string Name, string? Sha256)
    {
        public static ArtifactRow From(Decnet.Core.Events.LogEntry row)
        {
            string? Field(JsonElement root, string name) =>
                root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            try
            {
                using var document = JsonDocument.Parse(row.Fields);
                var root = document.RootElement;
                return new ArtifactRow(row.Timestamp, row.Decky, row.Service,
                    Field(root, "orig_path") ?? Field(root, "stored_as") ?? "(unnamed)", Field(root, "sha256"));
            }
            catch (JsonException)
            {
                return new ArtifactRow(row.Timestamp, row.Decky, row.Service, "(unreadable)", null);
            }
        }
    }
}
