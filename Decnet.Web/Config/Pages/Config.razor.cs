using System.Globalization;
using Decnet.Core.Deckies;
using Decnet.Core.Events.Retention;
using Decnet.Core.Settings;
using Decnet.Core.Users;
using Decnet.Web.Components;
using Decnet.Web.Components.Controls;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Decnet.Web.Config.Pages;

public partial class Config
{

    [Inject]
    public required SystemSettingsService Settings { get; init; }

    [Inject]
    public required UserDirectory Users { get; init; }

    [Inject]
    public required CurrentOperator Operator { get; init; }

    [Inject]
    public required ISnackbar Snackbar { get; init; }

    [Inject]
    public required LogPurger Purger { get; init; }

    private OperatorInfo _operator = new(Guid.Empty, "", false);
    private SystemSettings? _settings;
    private IReadOnlyList<User> _users = [];

    private int _limitInput;
    private string? _limitError;
    private bool _savingLimit;
    private string _intervalInput = "";
    private string? _intervalError;
    private bool _savingInterval;

    private int _retentionDaysInput;
    private long _retentionRowsInput;
    private string? _retentionError;
    private bool _savingRetention;

    private readonly HashSet<Guid> _busy = [];
    private Guid? _resetFor;
    private string _resetPassword = "";

    private string _newUsername = "";
    private string _newPassword = "";
    private bool _newIsAdmin;
    private bool _creating;
    private IReadOnlyList<string> _createErrors = [];

    protected override async Task OnInitializedAsync()
    {
        _operator = await Operator.GetAsync();
        _settings = await Settings.GetAsync(CancellationToken.None);
        _limitInput = _settings.DeploymentLimit;
        _intervalInput = MutationInterval.Format(_settings.GlobalMutationIntervalMinutes);
        var retention = LogRetentionPolicy.From(_settings);
        _retentionDaysInput = retention.Days;
        _retentionRowsInput = retention.MaxRows;
        if (_operator.IsAdmin)
        {
            _users = await Users.ListAsync(CancellationToken.None);
        }
    }

    /// <summary>Asked at every click: the rights the page was rendered with may be gone.</summary>
    private async Task<OperatorInfo?> AdminAsync()
    {
        var admin = await Operator.AuthorizeAdminAsync();
        if (admin is null)
        {
            _operator = _operator with { IsAdmin = false };
            _users = [];
            Snackbar.Add(CurrentOperator.AdminRightsGone, Severity.Error);
        }
        return admin;
    }

    private static Color RoleColor(UserRole role) => role == UserRole.Admin ? Color.Primary : Color.Default;

    private bool IsBusy(Guid id) => _busy.Contains(id);

    private async Task SaveLimitAsync()
    {
        if (await AdminAsync() is not { } admin)
        {
            return;
        }
        _savingLimit = true;
        var result = await Settings.SetDeploymentLimitAsync(admin.Username, _limitInput, CancellationToken.None);
        _savingLimit = false;
        _limitError = result.Error;
        if (result.Succeeded)
        {
            _settings = result.Settings;
            Snackbar.Add($"Deployment limit set to {_limitInput}.", Severity.Success);
        }
    }

    private async Task SaveIntervalAsync()
    {
        if (await AdminAsync() is not { } admin)
        {
            return;
        }
        _savingInterval = true;
        var result = await Settings.SetGlobalMutationIntervalAsync(admin.Username, _intervalInput, CancellationToken.None);
        _savingInterval = false;
        _intervalError = result.Error;
        if (result.Succeeded)
        {
            _settings = result.Settings;
            _intervalInput = MutationInterval.Format(result.Settings!.GlobalMutationIntervalMinutes);
            Snackbar.Add($"Global mutation interval set to {_intervalInput}.", Severity.Success);
        }
    }

    private string RetentionText
    {
        get
        {
            var retention = LogRetentionPolicy.From(_settings!);
            return string.Create(CultureInfo.InvariantCulture, $"{retention.Days} days, at most {retention.MaxRows:N0} rows");
        }
    }

    private string LastPurgeText => Purger.LastResult is { } last
        ? string.Create(CultureInfo.InvariantCulture,
            $"Last purge {last.At.UtcDateTime:yyyy-MM-dd HH:mm} UTC: {last.RemovedByAge:N0} removed for age, {last.RemovedByCount:N0} for the row limit, {last.Remaining:N0} kept.")
        : "No purge has run since the master started.";

    private async Task SaveRetentionAsync()
    {
        if (await AdminAsync() is not { } admin)
        {
            return;
        }
        _savingRetention = true;
        var result = await Settings.SetLogRetentionAsync(admin.Username, _retentionDaysInput, _retentionRowsInput, CancellationToken.None);
        _savingRetention = false;
        _retentionError = result.Error;
        if (result.Succeeded)
        {
            _settings = result.Settings;
            Snackbar.Add(string.Create(CultureInfo.InvariantCulture, $"Logs are kept {_retentionDaysInput} days, at most {_retentionRowsInput:N0} rows."), Severity.Success);
        }
    }

    private Task<bool> ToggleRoleAsync(User user) =>
        RunForUserAsync(user.Id, admin => Users.SetRoleAsync(admin.Id, admin.Username, user.Id,
            user.Role == UserRole.Admin ? UserRole.Viewer : UserRole.Admin, CancellationToken.None));

    private void StartReset(User user)
    {
        _resetFor = user.Id;
        _resetPassword = "";
    }

    private async Task ResetPasswordAsync(User user)
    {
        if (await RunForUserAsync(user.Id, admin => Users.ResetPasswordAsync(admin.Id, admin.Username, user.Id, _resetPassword, CancellationToken.None)))
        {
            _resetFor = null;
            _resetPassword = "";
        }
    }

    /// <summary>The second of two clicks (<see cref="ConfirmButton"/>): a stray click never deletes an account.</summary>
    private async Task DeleteAsync(User user) =>
        await RunForUserAsync(user.Id, admin => Users.DeleteAsync(admin.Id, admin.Username, user.Id, CancellationToken.None));

    private async Task CreateUserAsync()
    {
        if (await AdminAsync() is not { } admin)
        {
            return;
        }
        _creating = true;
        var result = await Users.CreateAsync(admin.Username, _newUsername.Trim(), _newPassword,
            _newIsAdmin ? UserRole.Admin : UserRole.Viewer, CancellationToken.None);
        _creating = false;
        _createErrors = result.Errors;
        if (result.Succeeded)
        {
            Snackbar.Add($"User '{result.User!.Username}' created; it must change its password at first login.", Severity.Success);
            _newUsername = "";
            _newPassword = "";
            _newIsAdmin = false;
            _users = await Users.ListAsync(CancellationToken.None);
        }
    }

    private async Task<bool> RunForUserAsync(Guid id, Func<OperatorInfo, Task<UserOperation>> operation)
    {
        if (!_busy.Add(id))
        {
            return false;
        }
        try
        {
            if (await AdminAsync() is not { } admin)
            {
                return false;
            }
            var result = await operation(admin);
            if (result.Succeeded)
            {
                Snackbar.Add("Saved.", Severity.Success);
                _users = await Users.ListAsync(CancellationToken.None);
                return true;
            }
            Snackbar.Add(string.Join(" ", result.Errors), Severity.Error);
            return false;
        }
        finally
        {
            _busy.Remove(id);
        }
    }
}
