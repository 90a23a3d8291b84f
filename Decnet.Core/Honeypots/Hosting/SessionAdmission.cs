using System.Net;
using System.Net.Sockets;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// Live TCP sessions one <see cref="ServiceHost"/> lets in, across every service of every decky it hosts.
/// One address opening hundreds of connections must not take every slot: it is held to its own share
/// per decky and per host, and the decky and host caps bound what all addresses together may hold.
/// </summary>
public sealed class SessionAdmissionOptions
{
    /// <summary>Concurrent sessions one source address may hold on one decky, all its services together.</summary>
    public int MaxSessionsPerSourcePerDecky { get; set; } = 32;

    /// <summary>Concurrent sessions one source address may hold on all the deckies of this host.</summary>
    public int MaxSessionsPerSourcePerHost { get; set; } = 64;

    /// <summary>Concurrent sessions of one decky, all sources together.</summary>
    public int MaxSessionsPerDecky { get; set; } = 1024;

    /// <summary>Concurrent sessions of the whole host.</summary>
    public int MaxSessionsPerHost { get; set; } = 8192;
}

/// <summary>Which bound refused a connection; <see cref="None"/> when it was admitted.</summary>
public enum AdmissionRefusal
{
    None,
    SourcePerDecky,
    SourcePerHost,
    Decky,
    Host,
}

/// <summary>
/// Counts live sessions by (decky, source), by source, by decky and overall, and admits a new one only
/// when every count stays within its bound. Entries exist only while sessions live, so the tables are
/// bounded by <see cref="SessionAdmissionOptions.MaxSessionsPerHost"/>. IPv6 sources count per /64:
/// one attacker owns a whole /64 and could otherwise take a fresh address per connection.
/// </summary>
public sealed class SessionAdmission(SessionAdmissionOptions options) : ISessionAdmitter
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Decky, IPAddress Source), int> _bySourceAndDecky = [];
    private readonly Dictionary<IPAddress, int> _bySource = [];
    private readonly Dictionary<string, int> _byDecky = new(StringComparer.Ordinal);
    private int _total;

    public SessionAdmissionOptions Options => options;

    /// <summary>Sessions live right now on this host.</summary>
    public int Active
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    /// <summary>Takes a slot for a new session, or says which bound is full. Every admitted session must be <see cref="Release"/>d.</summary>
    public AdmissionRefusal TryAdmit(string decky, IPAddress source)
    {
        var key = SourceKey(source);
        lock (_gate)
        {
            if (_total >= options.MaxSessionsPerHost)
            {
                return AdmissionRefusal.Host;
            }
            if (_byDecky.GetValueOrDefault(decky) >= options.MaxSessionsPerDecky)
            {
                return AdmissionRefusal.Decky;
            }
            if (_bySource.GetValueOrDefault(key) >= options.MaxSessionsPerSourcePerHost)
            {
                return AdmissionRefusal.SourcePerHost;
            }
            if (_bySourceAndDecky.GetValueOrDefault((decky, key)) >= options.MaxSessionsPerSourcePerDecky)
            {
                return AdmissionRefusal.SourcePerDecky;
            }
            _total++;
            _byDecky[decky] = _byDecky.GetValueOrDefault(decky) + 1;
            _bySource[key] = _bySource.GetValueOrDefault(key) + 1;
            _bySourceAndDecky[(decky, key)] = _bySourceAndDecky.GetValueOrDefault((decky, key)) + 1;
            return AdmissionRefusal.None;
        }
    }

    public ValueTask<SessionAdmit> AdmitAsync(string decky, IPAddress source, CancellationToken cancellationToken)
    {
        var refusal = TryAdmit(decky, source);
        return ValueTask.FromResult(refusal == AdmissionRefusal.None
            ? new SessionAdmit(refusal, new Lease(this, decky, source))
            : SessionAdmit.Refused(refusal));
    }

    public void Release(string decky, IPAddress source)
    {
        var key = SourceKey(source);
        lock (_gate)
        {
            _total--;
            Decrement(_byDecky, decky);
            Decrement(_bySource, key);
            Decrement(_bySourceAndDecky, (decky, key));
        }
    }

    /// <summary>Releases its slot once, however often it is disposed.</summary>
    private sealed class Lease(SessionAdmission owner, string decky, IPAddress source) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(decky, source);
            }
        }
    }

    private static void Decrement<TKey>(Dictionary<TKey, int> counts, TKey key) where TKey : notnull
    {
        var left = counts.GetValueOrDefault(key) - 1;
        if (left <= 0)
        {
            counts.Remove(key);
        }
        else
        {
            counts[key] = left;
        }
    }

    /// <summary>IPv4 (also when mapped into IPv6) as itself; IPv6 reduced to its /64.</summary>
    public static IPAddress SourceKey(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }
}
