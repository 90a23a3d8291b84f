namespace Decnet.Core.Swarm;

/// <summary>
/// The master's memory of each host's last accepted heartbeat, so that a heartbeat reporting what the
/// previous one reported costs no database read or write: the host's name, whether it has an address,
/// the state of each shard placed on it and its strays, as the last database write left them. An entry
/// exists only for an active host: every write of <see cref="SwarmStore"/> that touches a host's status
/// or shards drops that host's entry (a deployment drops all of them), and its next heartbeat takes the
/// database path again. The last-seen times of unchanged heartbeats wait here until
/// <see cref="SwarmStore.FlushLastSeenAsync"/> writes them in a few statements; reads overlay them
/// (<see cref="LastHeartbeat"/>, <see cref="ShardLastSeen"/>) so nobody sees a stale time.
/// Both maps hold at most one entry per enrolled host: only a pinned heartbeat of an existing host adds one.
/// </summary>
internal sealed class HeartbeatCache
{
    internal sealed record ShardMemory(string State, string? LastError);

    internal sealed record HostMemory(string Name, bool HasAddress, IReadOnlyDictionary<string, ShardMemory> Shards, IReadOnlyList<string> Strays);

    /// <summary>The latest unwritten heartbeat of one host and the shards it reported then.</summary>
    internal sealed record PendingSeen(DateTime At, IReadOnlyList<string> Shards);

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, HostMemory> _hosts = [];
    private Dictionary<Guid, PendingSeen> _pending = [];
    private long _generation;

    /// <summary>Read before the database read whose result <see cref="Remember"/> stores.</summary>
    public long Generation
    {
        get
        {
            lock (_lock)
            {
                return _generation;
            }
        }
    }

    public HostMemory? Get(Guid hostId)
    {
        lock (_lock)
        {
            return _hosts.GetValueOrDefault(hostId);
        }
    }

    /// <summary>
    /// Stores what a database heartbeat left, unless any write dropped entries since
    /// <paramref name="generation"/> was read (the answer may predate that write).
    /// </summary>
    public void Remember(Guid hostId, HostMemory memory, long generation)
    {
        lock (_lock)
        {
            if (generation == _generation)
            {
                _hosts[hostId] = memory;
            }
        }
    }

    public void Forget(Guid hostId)
    {
        lock (_lock)
        {
            _generation++;
            _hosts.Remove(hostId);
        }
    }

    public void ForgetAll()
    {
        lock (_lock)
        {
            _generation++;
            _hosts.Clear();
        }
    }

    /// <summary>An unchanged heartbeat: only its time (and the shards it reported) need writing, later.</summary>
    public void Seen(Guid hostId, DateTime at, IReadOnlyList<string> shards)
    {
        lock (_lock)
        {
            if (!_pending.TryGetValue(hostId, out var previous) || previous.At <= at)
            {
                _pending[hostId] = new PendingSeen(at, shards);
            }
        }
    }

    /// <summary>The database was just written with a newer time: nothing of this host is pending.</summary>
    public void Written(Guid hostId)
    {
        lock (_lock)
        {
            _pending.Remove(hostId);
        }
    }

    /// <summary>Hands every pending time to the writer; <see cref="Restore"/> puts them back when the write fails.</summary>
    public IReadOnlyDictionary<Guid, PendingSeen> TakePending()
    {
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                return new Dictionary<Guid, PendingSeen>();
            }
            var taken = _pending;
            _pending = [];
            return taken;
        }
    }

    public void Restore(IReadOnlyDictionary<Guid, PendingSeen> taken)
    {
        foreach (var (hostId, seen) in taken)
        {
            Seen(hostId, seen.At, seen.Shards);
        }
    }

    public DateTime? PendingHeartbeat(Guid hostId)
    {
        lock (_lock)
        {
            return _pending.TryGetValue(hostId, out var seen) ? seen.At : null;
        }
    }

    /// <summary>The later of the stored last heartbeat and an unwritten one.</summary>
    public DateTime? LastHeartbeat(Guid hostId, DateTime? stored) => Later(stored, PendingHeartbeat(hostId));

    /// <summary>The later of a shard's stored last-seen and an unwritten heartbeat that reported it.</summary>
    public DateTime? ShardLastSeen(Guid hostId, string deckyName, DateTime? stored)
    {
        lock (_lock)
        {
            return _pending.TryGetValue(hostId, out var seen) && seen.Shards.Contains(deckyName, StringComparer.Ordinal)
                ? Later(stored, seen.At)
                : stored;
        }
    }

    private static DateTime? Later(DateTime? stored, DateTime? pending) =>
        pending is { } p && (stored is null || stored < p) ? p : stored;
}
