using Decnet.Core.Notifications;
using Decnet.Core.Swarm.Updates;
using Decnet.Web.Components;
using Decnet.Web.Components.Controls;
using Decnet.Web.Components.Live;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Decnet.Web.Swarm.Pages;

/// <summary>
/// Remote updates of the worker fleet: each updater's release slots, and push / push with the updater /
/// rollback per host or to everyone, confirmed first, with the host's call in flight shown until it answers.
/// </summary>
public partial class RemoteUpdates : IDisposable
{
    [Inject]
    public required SwarmUpdates Updates { get; init; }

    [Inject]
    public required NotificationHub Hub { get; init; }

    [Inject]
    public required IDialogService Dialogs { get; init; }

    [Inject]
    public required ISnackbar Snackbar { get; init; }

    [Inject]
    public required CurrentOperator Operator { get; init; }

    private IReadOnlyList<HostReleaseInfo>? _hosts;
    private readonly Dictionary<Guid, string> _inFlight = [];
    private readonly Dictionary<Guid, HostUpdateResult> _results = [];
    private bool _includeSelf;
    private bool _pushingAll;
    private bool _loading;
    private IDisposable? _subscription;

    protected override async Task OnInitializedAsync()
    {
        // Enrollment or decommission changes the list; heartbeats alone do not touch releases.
        _subscription = LiveRefresh.Subscribe<SwarmChanged>(Hub, InvokeAsync, async () =>
        {
            await ReloadAsync();
            StateHasChanged();
        }, when: change => change.Reason is SwarmChangeReasons.Enrolled or SwarmChangeReasons.Decommissioned or SwarmChangeReasons.Tombstoned);
        await ReloadAsync();
    }

    private async Task ReloadAsync()
    {
        _loading = true;
        try
        {
            _hosts = await Updates.HostsAsync(CancellationToken.None);
        }
        finally
        {
            _loading = false;
        }
    }

    private async Task PushAsync(HostReleaseInfo host, bool includeSelf)
    {
        var what = includeSelf ? "the worker build, then the updater itself," : "the worker build";
        if (!await ConfirmAsync($"Push {what} to {host.HostName}? Its agent restarts; if it does not come back healthy the previous release is restored.", "Push"))
        {
            return;
        }
        await RunAsync([host.HostUuid], includeSelf ? "pushing with updater" : "pushing", async () =>
        {
            var (outcome, _, detail) = await Updates.PushAsync(new PushTarget([host.HostUuid], false, null), includeSelf, selfOnly: false, CancellationToken.None);
            Report(outcome, detail);
        });
    }

    private async Task PushAllAsync()
    {
        if (_hosts is null || !await ConfirmAsync(
                $"Push the worker build to all {_hosts.Count} host(s){(_includeSelf ? ", then update their updaters" : "")}? Each agent restarts; failures roll back on their own.", "Push to all"))
        {
            return;
        }
        _pushingAll = true;
        try
        {
            await RunAsync([.. _hosts.Select(h => h.HostUuid)], "pushing", async () =>
            {
                var (outcome, _, detail) = await Updates.PushAsync(new PushTarget(null, true, null), _includeSelf, selfOnly: false, CancellationToken.None);
                Report(outcome, detail);
            });
        }
        finally
        {
            _pushingAll = false;
        }
    }

    private async Task RollbackAsync(HostReleaseInfo host)
    {
        if (!await ConfirmAsync($"Roll {host.HostName} back to its previous release ({Short(host.PreviousSha)})? Its agent restarts.", "Rollback"))
        {
            return;
        }
        await RunAsync([host.HostUuid], "rolling back", async () =>
        {
            var (result, _, detail) = await Updates.RollbackAsync(host.HostUuid, CancellationToken.None);
            if (result is null)
            {
                Snackbar.Add(detail ?? "Rollback refused.", Severity.Error);
                return;
            }
            _results[result.HostUuid] = result;
            Snackbar.Add($"{result.HostName}: {result.Status}", result.Status == HostUpdateStatus.RolledBack ? Severity.Success : Severity.Error);
        });
    }

    private async Task RunAsync(IReadOnlyList<Guid> hosts, string action, Func<Task> call)
    {
        // The page is admin-only when opened; every push and rollback is checked again after its confirmation.
        if (await Operator.AuthorizeAdminAsync() is null)
        {
            Snackbar.Add(CurrentOperator.AdminRightsGone, Severity.Error);
            return;
        }
        foreach (var id in hosts)
        {
            _inFlight[id] = action;
        }
        StateHasChanged();
        try
        {
            await call();
            await ReloadAsync();
        }
        finally
        {
            foreach (var id in hosts)
            {
                _inFlight.Remove(id);
            }
        }
    }

    private void Report(PushOutcome? outcome, string? detail)
    {
        if (outcome is null)
        {
            Snackbar.Add(detail ?? "The push was refused.", Severity.Error);
            return;
        }
        foreach (var result in outcome.Results)
        {
            _results[result.HostUuid] = result;
        }
        var failed = outcome.Results.Count(r => r.Status is not (HostUpdateStatus.Updated or HostUpdateStatus.SelfUpdated));
        Snackbar.Add($"Release {Short(outcome.Sha)}: {outcome.Results.Count - failed} of {outcome.Results.Count} host(s) updated.", failed == 0 ? Severity.Success : Severity.Warning);
    }

    private Task<bool> ConfirmAsync(string text, string action) => ConfirmDialog.AskAsync(Dialogs, text, action);

    internal static string Short(string? sha) => sha is null ? "—" : sha.Length <= 12 ? sha : sha[..12];

    public void Dispose() => _subscription?.Dispose();
}
