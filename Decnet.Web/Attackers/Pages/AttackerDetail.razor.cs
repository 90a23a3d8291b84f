using Decnet.Core.Attackers;
using Decnet.Core.Recordings;
using Decnet.Core.Notifications;
using Decnet.Web.Components.Controls;
using Decnet.Web.Components.Live;
using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Attackers.Pages;

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
    public required SessionRecordings Recordings { get; init; }

    /// <summary>The most of one recording the page reads for replay.</summary>
    public const long MaxReplayBytes = 16L * 1024 * 1024;

    [Inject]
    public required TimeProvider Time { get; init; }

    private bool _loaded;
    private Attacker? _attacker;
    private CommandPage? _commands;
    private int _commandPage;
    private string? _commandService;
    private IReadOnlyList<ArtifactDetails> _artifacts = [];
    private IReadOnlyList<SessionRecording> _sessions = [];
    private SessionRecording? _replaying;
    private Asciicast? _cast;
    private string? _replayError;
    private bool _drawerOpen;
    private ArtifactDetails? _drawerArtifact;
    private IDisposable? _subscription;
    private readonly CancellationTokenSource _disposed = new();
    private readonly SemaphoreSlim _loadGate = new(1, 1);

    private DateTimeOffset Now => Time.GetUtcNow();

    private int CommandPageCount => Math.Max(1, ((_commands?.Total ?? 0) + CommandPageSize - 1) / CommandPageSize);

    /// <summary>Reloads only when this attacker's profile changed; other IPs' updates are ignored.</summary>
    protected override void OnInitialized() =>
        _subscription = LiveRefresh.Subscribe<AttackerUpdated>(Notifications, InvokeAsync, async () =>
        {
            await LoadAsync();
            StateHasChanged();
        }, when: update => _attacker is { } attacker && update.Ips.Contains(attacker.Ip));

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
            _artifacts = artifacts.Select(ArtifactDetails.From).ToList();
            _sessions = await Recordings.ListAsync(Id, _disposed.Token) ?? [];
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

    private void OpenArtifact(ArtifactDetails artifact)
    {
        _drawerArtifact = artifact;
        _drawerOpen = true;
    }

    private async Task ReplayAsync(SessionRecording session)
    {
        _replayError = null;
        var found = await Recordings.FindAsync(Id, session.Decky, session.Service, session.Name, _disposed.Token);
        if (found.Status != RecordingLookupStatus.Found)
        {
            _replayError = $"This recording cannot be replayed: {found.Error}.";
            return;
        }
        _cast = await SessionRecordings.ReadAsync(found.Path!, MaxReplayBytes, _disposed.Token);
        _replaying = session;
    }

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await _disposed.CancelAsync();
        GC.SuppressFinalize(this);
    }
}
