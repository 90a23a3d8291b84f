using Decnet.Core.Notifications;
using Decnet.Core.Overview;
using Decnet.Core.Settings;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Web.Components;
using Decnet.Web.Components.Controls;
using Decnet.Web.Components.Live;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Decnet.Web.Swarm.Pages;

/// <summary>
/// The Decoy Fleet when the fleet is sharded: one card per shard with the same facts as the local card
/// (from the snapshot stored at dispatch; older rows without one still render), plus host, state, last
/// error and last seen. Teardowns are asynchronous: the card shows <c>tearing_down</c> at once and its
/// final state arrives over the circuit; several may run at once. A worker that still runs deckies the
/// master placed elsewhere is named above the cards until its heartbeats match the placement.
/// </summary>
public partial class SwarmFleet : IAsyncDisposable
{
    [Inject]
    public required SwarmOverview Overview { get; init; }

    [Inject]
    public required ShardTeardownQueue Teardowns { get; init; }

    [Inject]
    public required SystemSettingsService Settings { get; init; }

    [Inject]
    public required NotificationHub Hub { get; init; }

    [Inject]
    public required CurrentOperator Operator { get; init; }

    [Inject]
    public required ISnackbar Snackbar { get; init; }

    [Inject]
    public required TimeProvider Time { get; init; }

    [Inject]
    public required DashboardOverview Activity { get; init; }

    private OperatorInfo _operator = new(Guid.Empty, "", false);
    private IReadOnlyList<SwarmDeckyView>? _deckies;

    // Workers that report deckies the master placed elsewhere: the reconciliation in progress.
    private IReadOnlyList<SwarmHostView> _reconciling = [];
    private int _globalInterval;
    private IDisposable? _subscription;
    private IDisposable? _activitySubscription;
    private IDisposable? _activityLease;
    private IReadOnlyDictionary<string, DeckyActivity> _activity = new Dictionary<string, DeckyActivity>();

    // Per card: teardown requests still being accepted.
    private readonly HashSet<string> _requesting = new(StringComparer.Ordinal);

    protected override async Task OnInitializedAsync()
    {
        _operator = await Operator.GetAsync();
        _subscription = LiveRefresh.Subscribe<SwarmChanged>(Hub, InvokeAsync, async () =>
        {
            await ReloadAsync();
            StateHasChanged();
        });
        _activitySubscription = LiveRefresh.Show<DeckyActivityUpdated>(Hub, InvokeAsync, update =>
        {
            _activity = update.Deckies;
            StateHasChanged();
        });
        _activityLease = Activity.WatchDeckies();
        _activity = await Activity.DeckyActivityAsync(CancellationToken.None);
        await ReloadAsync();
    }

    private async Task ReloadAsync()
    {
        _globalInterval = (await Settings.GetAsync(CancellationToken.None)).GlobalMutationIntervalMinutes;
        _deckies = await Overview.DeckiesAsync(null, null, CancellationToken.None);
        _reconciling = [.. (await Overview.HostsAsync(CancellationToken.None)).Where(h => h.StrayDeckies.Count > 0)];
    }

    private bool IsTearingDown(SwarmDeckyView decky) => decky.State == DeckyShardState.TearingDown || _requesting.Contains(decky.Name);

    /// <summary>The second of two clicks (<see cref="ConfirmButton"/>, one per card).</summary>
    private async Task TeardownAsync(SwarmDeckyView decky)
    {
        if (!_requesting.Add(decky.Name))
        {
            return;
        }
        try
        {
            if (await Operator.AuthorizeAdminAsync() is not { } admin)
            {
                _operator = _operator with { IsAdmin = false };
                Snackbar.Add(CurrentOperator.AdminRightsGone, Severity.Error);
                return;
            }
            var result = await Teardowns.EnqueueAsync(admin.Username, decky.HostId, decky.Name, CancellationToken.None);
            Snackbar.Add(result.Message, result.Status == TeardownRequestStatus.Accepted ? Severity.Info : Severity.Error);
            await ReloadAsync();
        }
        finally
        {
            _requesting.Remove(decky.Name);
        }
    }

    private static Color StateColor(string state) => state switch
    {
        DeckyShardState.Running => Color.Success,
        DeckyShardState.Degraded or DeckyShardState.Pending => Color.Warning,
        DeckyShardState.Failed or DeckyShardState.TeardownFailed => Color.Error,
        DeckyShardState.TearingDown => Color.Info,
        _ => Color.Default,
    };

    private string Ago(DateTime? when) => SwarmTime.Ago(Time, when);

    public ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        _activitySubscription?.Dispose();
        _activityLease?.Dispose();
        return ValueTask.CompletedTask;
    }
}
