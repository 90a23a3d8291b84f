using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Notifications;

/// <summary>
/// In-process publish/subscribe for live state: a domain service publishes one change, every open
/// page that subscribed re-renders. Handlers run without blocking the publisher; a failing handler is
/// logged and never affects the others.
/// </summary>
public sealed class NotificationHub(ILogger<NotificationHub> logger)
{
    private readonly ConcurrentDictionary<Type, ConcurrentDictionary<Guid, Func<object, Task>>> _handlers = new();

    public IDisposable Subscribe<T>(Func<T, Task> handler) where T : notnull
    {
        var id = Guid.NewGuid();
        var handlers = _handlers.GetOrAdd(typeof(T), _ => new());
        handlers[id] = message => handler((T)message);
        return new Subscription(() => handlers.TryRemove(id, out _));
    }

    public void Publish<T>(T message) where T : notnull
    {
        if (!_handlers.TryGetValue(typeof(T), out var handlers))
        {
            return;
        }
        foreach (var handler in handlers.Values)
        {
            _ = InvokeAsync(handler, message);
        }
    }

    internal int SubscriberCount<T>() => _handlers.TryGetValue(typeof(T), out var handlers) ? handlers.Count : 0;

    private async Task InvokeAsync(Func<object, Task> handler, object message)
    {
        try
        {
            await handler(message).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "A subscriber of {Message} failed", message.GetType().Name);
        }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                dispose();
            }
        }
    }
}
