using System.Collections.Concurrent;
using Decnet.Core.Audit;
using Decnet.Core.Notifications;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Swarm.Dispatch;

public enum TeardownRequestStatus
{
    Accepted,
    HostNotFound,
    DeckyNotFound,
}

/// <summary>The answer given before any worker was called: the shards now marked <c>tearing_down</c>.</summary>
public sealed record TeardownRequest(TeardownRequestStatus Status, string Message, IReadOnlyList<string> Deckies);

/// <summary>
/// Asynchronous teardown of a worker's deckies. A request is answered at once: the affected shards are
/// marked <c>tearing_down</c> before it returns, then the agent call runs as a tracked background task.
/// Success deletes the shards; any failure marks them <c>teardown_failed</c> with the error. Nothing is
/// re-raised (no caller is left to catch it); every outcome is published as <see cref="SwarmChanged"/>.
/// Several teardowns run at once, bounded by <see cref="AgentClientOptions.MaxConcurrentCalls"/>.
/// </summary>
public sealed class ShardTeardownQueue : IAsyncDisposable, IDisposable
{
    private readonly SwarmStore _store;
    private readonly SwarmOverview _overview;
    private readonly AgentClientFactory _clients;
    private readonly NotificationHub _hub;
    private readonly AuditTrail _audit;
    private readonly ILogger<ShardTeardownQueue> _logger;
    private readonly ConcurrentDictionary<long, Task> _inFlight = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _calls;
    private long _nextId;
    private int _disposed;

    public ShardTeardownQueue(SwarmStore store, AgentClientFactory clients, NotificationHub hub, AuditTrail audit, SwarmOverview overview, IOptions<SwarmOptions> options, ILogger<ShardTeardownQueue> logger)
    {
        _store = store;
        _clients = clients;
        _hub = hub;
        _audit = audit;
        _logger = logger;
        _calls = new SemaphoreSlim(options.Value.Agent.MaxConcurrentCalls);
        _overview = overview;
    }

    /// <summary>Teardowns accepted and not finished yet.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>Tears down one decky of the host, or every decky it runs when <paramref name="deckyName"/> is null (the host stays enrolled).</summary>
    public async Task<TeardownRequest> EnqueueAsync(string actor, Guid hostId, string? deckyName, CancellationToken cancellationToken)
    {
        var host = await _overview.HostAsync(hostId, cancellationToken);
        if (host is null)
        {
            return new TeardownRequest(TeardownRequestStatus.HostNotFound, $"No swarm host {hostId}.", []);
        }
        var affected = await _store.SetShardStateAsync(hostId, deckyName is null ? null : [deckyName], Swarm.DeckyShardState.TearingDown, null, cancellationToken);
        if (deckyName is not null && affected.Count == 0)
        {
            return new TeardownRequest(TeardownRequestStatus.DeckyNotFound, $"{host.Name} runs no decky named '{deckyName}'.", []);
        }
        await _audit.RecordAsync(actor, "swarm.teardown", host.Name, deckyName ?? "(all)", cancellationToken);
        _hub.Publish(new SwarmChanged(SwarmChangeReasons.TearingDown, hostId));
        Track(() => RunAsync(host, deckyName, affected));
        var what = deckyName ?? $"every decky ({affected.Count})";
        return new TeardownRequest(TeardownRequestStatus.Accepted, $"Tearing down {what} on {host.Name}.", affected);
    }

    /// <summary>Waits until every accepted teardown has reached its final state (tests, shutdown).</summary>
    public async Task DrainAsync()
    {
        while (!_inFlight.IsEmpty)
        {
            await Task.WhenAll(_inFlight.Values).ConfigureAwait(false);
        }
    }

    private void Track(Func<Task> work)
    {
        var id = Interlocked.Increment(ref _nextId);
        var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = Task.Run(async () =>
        {
            // Registered before it can finish, so DrainAsync never misses it and it never lingers.
            await registered.Task.ConfigureAwait(false);
            try
            {
                await work().ConfigureAwait(false);
            }
            finally
            {
                _inFlight.TryRemove(id, out _);
            }
        });
        _inFlight[id] = task;
        registered.SetResult();
    }

    private async Task RunAsync(SwarmHost host, string? deckyName, IReadOnlyList<string> affected)
    {
        try
        {
            await _calls.WaitAsync(_stopping.Token).ConfigureAwait(false);
            try
            {
                await _clients.For(host).TeardownAsync(deckyName, _stopping.Token).ConfigureAwait(false);
            }
            finally
            {
                _calls.Release();
            }
            await _store.DeleteShardsAsync(host.Id, affected, CancellationToken.None).ConfigureAwait(false);
            _logger.LogInformation("{Host} tore down {What}", host.Name, deckyName ?? "every decky");
            _hub.Publish(new SwarmChanged(SwarmChangeReasons.TornDown, host.Id));
        }
        catch (Exception ex)
        {
            var error = ex is OperationCanceledException ? "the master stopped before the worker answered" : ex.Message;
            _logger.LogWarning("Teardown on {Host} failed: {Error}", host.Name, error);
            try
            {
                await _store.SetShardStateAsync(host.Id, affected, Swarm.DeckyShardState.TeardownFailed, error, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception store)
            {
                _logger.LogError(store, "Could not record the failed teardown on {Host}", host.Name);
            }
            _hub.Publish(new SwarmChanged(SwarmChangeReasons.TeardownFailed, host.Id));
        }
    }

    /// <summary>Synchronous disposal (a container disposed without await): cancels the calls in flight without waiting.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Cancel();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await DrainAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _calls.Dispose();
    }
}
