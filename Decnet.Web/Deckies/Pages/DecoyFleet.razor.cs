using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Notifications;
using Decnet.Core.Overview;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Web.Components;
using Decnet.Web.Components.Controls;
using Decnet.Web.Components.Live;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Decnet.Web.Deckies.Pages;

/// <summary>
/// A card per decky with its live per-service state. Every change to the fleet (from this page,
/// another operator, the API or the mutator) arrives over the circuit through the notification hub.
/// </summary>
public partial class DecoyFleet : IAsyncDisposable
{
    [Inject]
    public required DeckyFleet Fleet { get; init; }

    [Inject]
    public required NotificationHub Hub { get; init; }

    [Inject]
    public required CurrentOperator Operator { get; init; }

    [Inject]
    public required ISnackbar Snackbar { get; init; }

    [Inject]
    public required SwarmDeploymentMode SwarmMode { get; init; }

    [Inject]
    public required SwarmOverview Swarm { get; init; }

    [Inject]
    public required DashboardOverview Overview { get; init; }

    private OperatorInfo _operator = new(Guid.Empty, "", false);
    private IReadOnlyList<FleetDecky>? _deckies;
    private IDisposable? _subscription;
    private IDisposable? _shardSubscription;
    private IDisposable? _activitySubscription;
    private IDisposable? _activityLease;
    private IReadOnlyDictionary<string, DeckyActivity> _activity = new Dictionary<string, DeckyActivity>();
    private DeploymentModeInfo? _mode;
    private bool _sharded;
    private bool _showDeploy;

    // Each button has its own in-flight state: several operations may run at once.
    private readonly HashSet<string> _mutating = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _tearingDown = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _savingInterval = new(StringComparer.OrdinalIgnoreCase);
    private string? _editingInterval;
    private string? _intervalText;

    private string Banner => _mode?.Banner(Fleet.RuntimeKind) ?? "";

    protected override async Task OnInitializedAsync()
    {
        _operator = await Operator.GetAsync();
        _subscription = LiveRefresh.Subscribe<FleetChanged>(Hub, InvokeAsync, ReloadAndRenderAsync);
        // Shards and workers change without the local fleet changing (teardowns, decommissions).
        _shardSubscription = LiveRefresh.Subscribe<SwarmChanged>(Hub, InvokeAsync, ReloadAndRenderAsync);
        // Hits per decky are pushed once per change for every open fleet page, not queried here per ingest.
        _activitySubscription = LiveRefresh.Show<DeckyActivityUpdated>(Hub, InvokeAsync, update =>
        {
            _activity = update.Deckies;
            StateHasChanged();
        });
        _activityLease = Overview.WatchDeckies();
        _activity = await Overview.DeckyActivityAsync(CancellationToken.None);
        await ReloadAsync();
    }

    private async Task ReloadAsync()
    {
        _mode = await SwarmMode.GetAsync(CancellationToken.None);
        _sharded = await Swarm.AnyShardsAsync(CancellationToken.None);
        _deckies = await Fleet.ListAsync(CancellationToken.None);
    }

    private async Task ReloadAndRenderAsync()
    {
        await ReloadAsync();
        StateHasChanged();
    }

    private void OpenDeploy() => _showDeploy = true;

    private Task OnDeployedAsync(FleetOperation result)
    {
        Snackbar.Add(result.Message, Severity.Success);
        return ReloadAsync();
    }

    private async Task MutateAsync(string name)
    {
        if (!_mutating.Add(name))
        {
            return;
        }
        try
        {
            if (await AdminAsync() is { } admin)
            {
                Report(await Fleet.MutateAsync(admin.Username, name, CancellationToken.None));
            }
        }
        finally
        {
            _mutating.Remove(name);
        }
    }

    private void EditInterval(FleetDecky decky)
    {
        _editingInterval = decky.Config.Name;
        _intervalText = decky.Config.MutateInterval is { } minutes ? Core.Deckies.MutationInterval.Format(minutes) : "";
    }

    private async Task SaveIntervalAsync(string name)
    {
        if (!_savingInterval.Add(name))
        {
            return;
        }
        try
        {
            if (await AdminAsync() is not { } admin)
            {
                return;
            }
            var result = await Fleet.SetMutateIntervalAsync(admin.Username, name, _intervalText, CancellationToken.None);
            Report(result);
            if (result.Succeeded)
            {
                _editingInterval = null;
            }
        }
        finally
        {
            _savingInterval.Remove(name);
        }
    }

    /// <summary>The second of two clicks (<see cref="ConfirmButton"/>).</summary>
    private async Task TeardownAsync(string name)
    {
        if (!_tearingDown.Add(name))
        {
            return;
        }
        try
        {
            if (await AdminAsync() is { } admin)
            {
                Report(await Fleet.TeardownAsync(admin.Username, name, CancellationToken.None));
            }
        }
        finally
        {
            _tearingDown.Remove(name);
        }
    }

    /// <summary>Asked at every click: the rights the page was rendered with may be gone.</summary>
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

    private void Report(FleetOperation result) =>
        Snackbar.Add(result.Message, result.Succeeded ? Severity.Success : Severity.Error);

    private static IReadOnlyList<ServiceStatus> Services(FleetDecky decky) =>
        decky.Status?.Services ?? decky.Config.Services.Select(s => new ServiceStatus(s, ServiceRunState.Absent)).ToList();

    private static string Endpoints(FleetDecky decky) =>
        string.Join(", ", Services(decky).SelectMany(s => s.Endpoints ?? []).Select(e => e[(e.LastIndexOf(':') + 1)..]));

    private static Color StateColor(DeckyRunState? state) => state switch
    {
        DeckyRunState.Running => Color.Success,
        DeckyRunState.Degraded => Color.Warning,
        DeckyRunState.Failed => Color.Error,
        _ => Color.Default,
    };

    private static string StateText(DeckyRunState? state) => state?.ToString().ToLowerInvariant() ?? "absent";

    private static Color ServiceColor(ServiceRunState state) => state switch
    {
        ServiceRunState.Running => Color.Success,
        ServiceRunState.Failed => Color.Error,
        ServiceRunState.Exited => Color.Warning,
        _ => Color.Default,
    };

    public ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        _shardSubscription?.Dispose();
        _activitySubscription?.Dispose();
        _activityLease?.Dispose();
        return ValueTask.CompletedTask;
    }
}
