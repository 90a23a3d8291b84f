using System.Net;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>One service instance of a decky and where it listens.</summary>
public sealed record HostedServiceBinding(string ServiceName, IHoneypotService Service, IPAddress Address, IReadOnlyList<ServicePort> Ports);

public enum PortBindStatus
{
    Bound,
    AddressInUse,
    PermissionDenied,
    AddressNotAvailable,
    Failed,
}

/// <summary>What happened when the host tried to open one port of a decky.</summary>
public sealed record PortBindResult(string ServiceName, IPAddress Address, ServicePort Requested, int ActualPort, PortBindStatus Status, string? Detail = null)
{
    public bool Succeeded => Status == PortBindStatus.Bound;

    public IPEndPoint EndPoint => new(Address, ActualPort);

    /// <summary>For operators, e.g. "127.77.0.5:22 address in use" or "127.77.0.5:21 bound (as 10021)".</summary>
    public override string ToString()
    {
        var endpoint = new IPEndPoint(Address, Requested.Port).ToString();
        var transport = Requested.Transport == ServiceTransport.Udp ? "/udp" : string.Empty;
        var actual = ActualPort != Requested.Port ? $" (as {ActualPort})" : string.Empty;
        var text = Status switch
        {
            PortBindStatus.Bound => "bound",
            PortBindStatus.AddressInUse => "address in use",
            PortBindStatus.PermissionDenied => "permission denied",
            PortBindStatus.AddressNotAvailable => "address not available",
            _ => "bind failed: " + Detail,
        };
        return $"{endpoint}{transport} {text}{actual}";
    }
}

/// <summary>A point-in-time view of one listener's counters.</summary>
public sealed record ListenerStatistics(
    string ServiceName,
    IPEndPoint EndPoint,
    ServiceTransport Transport,
    int ActiveSessions,
    long AcceptedSessions,
    long RejectedSessions,
    long FaultedSessions,
    long Datagrams);
