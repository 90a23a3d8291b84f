using Decnet.Core.Notifications;

namespace Decnet.Web.Components.Live;

/// <summary>
/// A page's subscription to one kind of notification. Notifications the filter refuses (another host,
/// another reason, another attacker) are ignored; each other one asks for a refresh on the page's
/// renderer. At most one refresh runs at a time: notifications arriving while one runs fold into exactly
/// one more, which starts after the last of them, so a burst of commits costs two reloads instead of one
/// per notification and the page still ends up showing the latest state.
/// </summary>
public sealed class LiveRefresh<TNotification> : IDisposable where TNotification : notnull
{
    private const int Idle = 0;
    private const int Running = 1;
    private const int RunningWithMore = 2;

    private readonly Func<TNotification, bool> _when;
    private readonly Func<Func<Task>, Task> _dispatch;
    private readonly Func<Task> _refresh;
    private readonly IDisposable _subscription;
    private int _state;
    private volatile bool _disposed;

    internal LiveRefresh(NotificationHub hub, Func<Func<Task>, Task> dispatch, Func<Task> refresh, Func<TNotification, bool> when)
    {
        _dispatch = dispatch;
        _refresh = refresh;
        _when = when;
        _subscription = hub.Subscribe<TNotification>(OnNotifiedAsync);
    }

    /// <summary>Runs on the hub's thread; only the refresh itself runs on the renderer.</summary>
    private async Task OnNotifiedAsync(TNotification notification)
    {
        if (_disposed || !_when(notification) || !Request())
        {
            return;
        }
        try
        {
            do
            {
                await _dispatch(RefreshAsync);
            }
            while (Interlocked.Decrement(ref _state) > Idle);
        }
        catch (OperationCanceledException) when (_disposed)
        {
            // The page closed mid-refresh.
        }
        catch (Exception)
        {
            // A failed refresh (logged by the hub) must not leave the page deaf to the next notification.
            Interlocked.Exchange(ref _state, Idle);
            throw;
        }
    }

    /// <summary>True when this notification starts the refresh loop; false when a running loop will pick it up.</summary>
    private bool Request()
    {
        while (true)
        {
            var state = Volatile.Read(ref _state);
            if (state == RunningWithMore)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _state, state + 1, state) == state)
            {
                return state == Idle;
            }
        }
    }

    private Task RefreshAsync() => _disposed ? Task.CompletedTask : _refresh();

    public void Dispose()
    {
        _disposed = true;
        _subscription.Dispose();
    }
}

public static class LiveRefresh
{
    /// <summary>
    /// Subscribes a page: <paramref name="dispatch"/> is the component's <c>InvokeAsync</c>, <paramref name="refresh"/>
    /// reloads and calls <c>StateHasChanged</c>, <paramref name="when"/> keeps only the notifications that concern
    /// the page (all of them when omitted). Dispose it with the page.
    /// </summary>
    public static LiveRefresh<TNotification> Subscribe<TNotification>(
        NotificationHub hub, Func<Func<Task>, Task> dispatch, Func<Task> refresh, Func<TNotification, bool>? when = null)
        where TNotification : notnull =>
        new(hub, dispatch, refresh, when ?? (_ => true));
}
