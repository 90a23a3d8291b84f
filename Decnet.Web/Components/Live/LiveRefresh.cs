using Decnet.Core.Notifications;

namespace Decnet.Web.Components.Live;

/// <summary>
/// A page's subscription to one kind of notification. Notifications the filter refuses (another host,
/// another reason, another attacker) are ignored; each other one asks for a refresh on the page's
/// renderer. At most one refresh runs at a time: notifications arriving while one runs fold into exactly
/// one more, which starts after the last of them, so a burst of commits costs two reloads instead of one
/// per notification and the page still ends up showing the latest state. A notification that carries the
/// new state itself (a shared snapshot) is shown the same way: only the latest one of a burst is shown.
/// </summary>
public sealed class LiveRefresh<TNotification> : IDisposable where TNotification : notnull
{
    private const int Idle = 0;
    private const int Running = 1;
    private const int RunningWithMore = 2;

    private readonly Func<TNotification, bool> _when;
    private readonly Func<Func<Task>, Task> _dispatch;
    private readonly Func<LiveRefresh<TNotification>, Task> _refresh;
    private readonly IDisposable _subscription;
    private readonly bool _keepsLatest;
    private object? _latest;
    private int _state;
    private volatile bool _disposed;

    /// <param name="keepsLatest">Whether the refresh reads the newest notification (<see cref="TakeLatest"/>); a reload-only page keeps none.</param>
    internal LiveRefresh(NotificationHub hub, Func<Func<Task>, Task> dispatch, Func<LiveRefresh<TNotification>, Task> refresh, Func<TNotification, bool> when, bool keepsLatest)
    {
        _keepsLatest = keepsLatest;
        _dispatch = dispatch;
        _refresh = refresh;
        _when = when;
        _subscription = hub.Subscribe<TNotification>(OnNotifiedAsync);
    }

    /// <summary>Runs on the hub's thread; only the refresh itself runs on the renderer.</summary>
    private async Task OnNotifiedAsync(TNotification notification)
    {
        if (_disposed || !_when(notification))
        {
            return;
        }
        if (_keepsLatest)
        {
            Volatile.Write(ref _latest, notification);
        }
        if (!Request())
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

    private Task RefreshAsync() => _disposed ? Task.CompletedTask : _refresh(this);

    /// <summary>The newest accepted notification not yet shown, taken once (null when a later refresh already took it).</summary>
    internal TNotification? TakeLatest() => (TNotification?)Interlocked.Exchange(ref _latest, null);

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
        new(hub, dispatch, _ => refresh(), when ?? (_ => true), keepsLatest: false);

    /// <summary>
    /// Subscribes a page to a notification that carries what to show: <paramref name="show"/> runs on the
    /// renderer with the newest accepted notification (older ones of a burst are skipped), sets the page's
    /// state and calls <c>StateHasChanged</c> when it changed anything. <paramref name="when"/> runs on the
    /// hub's thread, so a notification for another view (another range) never displaces this view's.
    /// </summary>
    public static LiveRefresh<TNotification> Show<TNotification>(
        NotificationHub hub, Func<Func<Task>, Task> dispatch, Action<TNotification> show, Func<TNotification, bool>? when = null)
        where TNotification : class =>
        Show<TNotification>(hub, dispatch, notification =>
        {
            show(notification);
            return Task.CompletedTask;
        }, when);

    /// <summary>
    /// As <see cref="Show{TNotification}(NotificationHub, Func{Func{Task}, Task}, Action{TNotification}, Func{TNotification, bool})"/>,
    /// for a page that reads more before it shows (the newest notification says that something is new, the
    /// page asks for what): one such read runs at a time.
    /// </summary>
    public static LiveRefresh<TNotification> Show<TNotification>(
        NotificationHub hub, Func<Func<Task>, Task> dispatch, Func<TNotification, Task> show, Func<TNotification, bool>? when = null)
        where TNotification : class =>
        new(hub, dispatch, live => live.TakeLatest() is { } latest ? show(latest) : Task.CompletedTask, when ?? (_ => true), keepsLatest: true);
}
