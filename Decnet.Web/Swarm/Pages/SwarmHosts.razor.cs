using Decnet.Core.Notifications;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Core.Swarm.Security;
using Decnet.Web.Components;
using Decnet.Web.Components.Controls;
using Decnet.Web.Components.Live;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Decnet.Web.Swarm.Pages;

/// <summary>
/// Every enrolled worker with its status, address, heartbeat age (ticking each second), short
/// fingerprint, enrollment date and decky count. Admins tear down all of a host's deckies (the host
/// stays enrolled) or decommission it; each action is confirmed and has its own in-flight state.
/// Changes arrive over the circuit through <see cref="SwarmChanged"/>. Below, the swarm security events:
/// refused mutual-TLS attempts on the controller and log listener (no certificate, self-signed, foreign
/// CA, revoked, pin mismatch ...), newest first.
/// </summary>
public partial class SwarmHosts : IAsyncDisposable
{
    private const int MaxSecurityEvents = 50;
    private static readonly TimeSpan s_tick = TimeSpan.FromSeconds(1);

    [Inject]
    public required SwarmOverview Overview { get; init; }

    [Inject]
    public required ShardTeardownQueue Teardowns { get; init; }

    [Inject]
    public required SwarmDecommissioner Decommissioner { get; init; }

    [Inject]
    public required NotificationHub Hub { get; init; }

    [Inject]
    public required CurrentOperator Operator { get; init; }

    [Inject]
    public required IDialogService Dialogs { get; init; }

    [Inject]
    public required ISnackbar Snackbar { get; init; }

    [Inject]
    public required TimeProvider Time { get; init; }

    [Inject]
    public required SwarmSecurityEvents SecurityEvents { get; init; }

    private OperatorInfo _operator = new(Guid.Empty, "", false);
    private IReadOnlyList<SwarmHostView>? _hosts;
    private HashSet<Guid> _hostsTearingDown = [];
    private readonly HashSet<Guid> _requestingTeardown = [];
    private readonly HashSet<Guid> _decommissioning = [];
    private IDisposable? _subscription;
    private IDisposable? _securitySubscription;
    private IReadOnlyList<SwarmSecurityEvent> _security = [];
    private int _securityChanged;
    private ITimer? _ticker;

    protected override async Task OnInitializedAsync()
    {
        _operator = await Operator.GetAsync();
        _subscription = LiveRefresh.Subscribe<SwarmChanged>(Hub, InvokeAsync, async () =>
        {
            await ReloadAsync();
            StateHasChanged();
        });
        // Anyone can knock on the swarm ports: refusals only mark the list stale, the tick re-reads it (at most once a second).
        _securitySubscription = Hub.Subscribe<SwarmSecurityEventRecorded>(_ =>
        {
            Interlocked.Exchange(ref _securityChanged, 1);
            return Task.CompletedTask;
        });
        _security = SecurityEvents.Recent(MaxSecurityEvents);
        await ReloadAsync();
        // Only the ages change every second: a re-render, no query.
        _ticker = Time.CreateTimer(_ => _ = InvokeAsync(() =>
        {
            if (Interlocked.Exchange(ref _securityChanged, 0) == 1)
            {
                _security = SecurityEvents.Recent(MaxSecurityEvents);
            }
            StateHasChanged();
        }), null, s_tick, s_tick);
    }

    private async Task ReloadAsync()
    {
        _hosts = await Overview.HostsAsync(CancellationToken.None);
        var tearingDown = await Overview.DeckiesAsync(null, DeckyShardState.TearingDown, CancellationToken.None);
        _hostsTearingDown = tearingDown.Select(d => d.HostId).ToHashSet();
    }

    private bool IsTearingDown(SwarmHostView host) => _requestingTeardown.Contains(host.Id) || _hostsTearingDown.Contains(host.Id);

    private async Task TeardownAllAsync(SwarmHostView host)
    {
        if (IsTearingDown(host) || !await ConfirmAsync(
                $"Tear down all {host.DeckyCount} decky(ies) on {host.Name}? The host stays enrolled and can take a new deploy.", "Teardown all"))
        {
            return;
        }
        if (await AdminAsync() is not { } admin)
        {
            return;
        }
        _requestingTeardown.Add(host.Id);
        try
        {
            var result = await Teardowns.EnqueueAsync(admin.Username, host.Id, null, CancellationToken.None);
            Snackbar.Add(result.Message, result.Status == TeardownRequestStatus.Accepted ? Severity.Info : Severity.Error);
            await ReloadAsync();
        }
        finally
        {
            _requestingTeardown.Remove(host.Id);
        }
    }

    private async Task DecommissionAsync(SwarmHostView host)
    {
        if (_decommissioning.Contains(host.Id) || !await ConfirmAsync(
                $"Decommission {host.Name}? Its agent is asked to wipe its install (logs are kept), its deckies are forgotten and its certificate is revoked for good.", "Decommission"))
        {
            return;
        }
        if (await AdminAsync() is not { } admin)
        {
            return;
        }
        _decommissioning.Add(host.Id);
        StateHasChanged();
        try
        {
            var result = await Decommissioner.DecommissionAsync(admin.Username, host.Id, CancellationToken.None);
            Snackbar.Add(result.Message, !result.Found ? Severity.Error : result.SelfDestructScheduled ? Severity.Success : Severity.Warning);
            await ReloadAsync();
        }
        finally
        {
            _decommissioning.Remove(host.Id);
        }
    }

    /// <summary>Asked after the confirmation, right before acting: the rights may be gone by then.</summary>
    private async Task<OperatorInfo?> AdminAsync()
    {
        var admin = await Operator.AuthorizeAdminAsync();
        if (admin is null)
        {
            _operator = _operator with { IsAdmin = false };
            Snackbar.Add(CurrentOperator.AdminRightsGone, Severity.Error);
        }
        return admin;
    }

    private Task<bool> ConfirmAsync(string text, string action) => ConfirmDialog.AskAsync(Dialogs, text, action);

    internal static string RefusalText(SwarmRefusal refusal) => refusal switch
    {
        SwarmRefusal.NoCertificate => "no certificate",
        SwarmRefusal.SelfSigned => "self-signed",
        SwarmRefusal.ForeignCa => "foreign CA",
        SwarmRefusal.NotAllowed => "not allowed",
        SwarmRefusal.Revoked => "revoked",
        SwarmRefusal.PinMismatch => "pin mismatch",
        _ => "unknown host",
    };

    /// <summary>Enough to tell hosts apart at a glance; the full value is in the tooltip.</summary>
    internal static string ShortFingerprint(string fingerprint) =>
        fingerprint.Length <= 16 ? fingerprint : $"{fingerprint[..8]}…{fingerprint[^8..]}";

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        _securitySubscription?.Dispose();
        if (_ticker is not null)
        {
            await _ticker.DisposeAsync();
        }
    }
}
