using System.Globalization;
using Decnet.Core.Notifications;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Web.Components;
using Decnet.Web.Components.Live;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Options;
using Microsoft.JSInterop;

namespace Decnet.Web.Swarm.Pages;

/// <summary>
/// The enrollment wizard: one form, one command (pinned <c>curl … | sudo bash</c>) with a live countdown
/// to its expiry, the address and ports the worker must reach, warnings when it cannot reach them (a
/// loopback master host or listener), and a notice when the new worker's first heartbeat arrives.
/// </summary>
public partial class Enrollment : IAsyncDisposable
{
    [Inject]
    public required EnrollmentService Enrollments { get; init; }

    [Inject]
    public required NotificationHub Hub { get; init; }

    [Inject]
    public required NavigationManager Navigation { get; init; }

    [Inject]
    public required IJSRuntime JS { get; init; }

    [Inject]
    public required TimeProvider Time { get; init; }

    [Inject]
    public required IOptions<SwarmOptions> Options { get; init; }

    [Inject]
    public required CurrentOperator Operator { get; init; }

    private string? _masterHost;
    private string? _agentName;
    private string? _agentAddress;
    private bool _withUpdater;
    private bool _useIpvlan;
    private string? _servicesIni;
    private string? _error;
    private string? _copied;
    private bool _generating;
    private bool _checkedIn;
    private EnrollmentTicket? _ticket;
    private ITimer? _countdown;
    private IDisposable? _subscription;

    private TimeSpan Lifetime => Options.Value.BundleLifetime;

    private TimeSpan Left => _ticket is null ? TimeSpan.Zero : _ticket.ExpiresAt - Time.GetUtcNow();

    private bool Expired => _ticket is not null && Left <= TimeSpan.Zero;

    private string Remaining
    {
        get
        {
            // Whole seconds, rounded up: a fresh command reads 5:00, not 4:59.
            var seconds = (int)Math.Ceiling(Math.Max(0, Left.TotalSeconds));
            return string.Create(CultureInfo.InvariantCulture, $"{seconds / 60}:{seconds % 60:00}");
        }
    }

    protected override void OnInitialized()
    {
        _masterHost = new Uri(Navigation.BaseUri).Host;
        // The new worker's first heartbeat is the notice; every other change of the swarm is not this page's business.
        _subscription = LiveRefresh.Subscribe<SwarmChanged>(Hub, InvokeAsync, () =>
        {
            _checkedIn = true;
            StateHasChanged();
            return Task.CompletedTask;
        }, when: change => _ticket is { } ticket && change.HostId == ticket.HostId && change.Reason == SwarmChangeReasons.Heartbeat && !_checkedIn);
    }

    private async Task GenerateAsync()
    {
        _error = null;
        _copied = null;
        _generating = true;
        try
        {
            // The page is admin-only when opened; the click is checked again, the rights may be gone.
            if (await Operator.AuthorizeAdminAsync() is null)
            {
                _error = CurrentOperator.AdminRightsGone;
                return;
            }
            var ticket = await Enrollments.CreateBundleAsync(
                new BundleEnrollmentRequest(_masterHost ?? "", _agentName?.Trim() ?? "", _withUpdater, _useIpvlan,
                    string.IsNullOrWhiteSpace(_servicesIni) ? null : _servicesIni, _agentAddress),
                CancellationToken.None);
            _ticket = ticket;
            _checkedIn = false;
            StartCountdown();
        }
        catch (Exception ex) when (ex is EnrollmentRejectedException or SwarmHostNameTakenException or InvalidOperationException)
        {
            _error = ex.Message;
        }
        finally
        {
            _generating = false;
        }
    }

    private void StartCountdown()
    {
        _countdown?.Dispose();
        _countdown = Time.CreateTimer(_ => _ = InvokeAsync(() =>
        {
            if (Expired)
            {
                _countdown?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
            StateHasChanged();
        }), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    private async Task CopyAsync()
    {
        if (_ticket is null)
        {
            return;
        }
        try
        {
            await JS.InvokeVoidAsync("navigator.clipboard.writeText", _ticket.Command);
            _copied = "Copied to the clipboard.";
        }
        catch (JSException)
        {
            // Browsers allow the clipboard only on https or localhost.
            _copied = "The browser refused the clipboard: select the command and copy it.";
        }
    }

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        if (_countdown is not null)
        {
            await _countdown.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}
