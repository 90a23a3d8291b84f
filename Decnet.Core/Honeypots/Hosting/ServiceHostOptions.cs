namespace Decnet.Core.Honeypots.Hosting;

public sealed class ServiceHostOptions
{
    /// <summary>
    /// Added to every port below 1024 when the process may not bind privileged ports (rootless test
    /// runs, a container without NET_BIND_SERVICE). Bind results report the real port.
    /// </summary>
    public int PrivilegedPortOffset { get; set; }

    /// <summary>How long stopping a decky waits for its sessions to finish after cutting them.</summary>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Concurrent TCP sessions per source address, per decky and for the whole host.</summary>
    public SessionAdmissionOptions Admission { get; set; } = new();

    /// <summary>
    /// Admits sessions instead of this host's own <see cref="ServiceHost.Admission"/> counts: a service
    /// container of the Docker runtime asks the admission service its host shares with every container.
    /// </summary>
    public ISessionAdmitter? Admitter { get; set; }

    /// <summary>Longest time a datagram service may take to answer one datagram.</summary>
    public TimeSpan DatagramTimeout { get; set; } = TimeSpan.FromSeconds(5);

    internal int ActualPort(int port) => port is > 0 and < 1024 ? port + PrivilegedPortOffset : port;
}
