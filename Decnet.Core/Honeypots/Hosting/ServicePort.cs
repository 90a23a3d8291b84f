namespace Decnet.Core.Honeypots.Hosting;

public enum ServiceTransport
{
    Tcp,
    Udp,
}

/// <summary>A port a honeypot service listens on, as the attacker sees it.</summary>
public readonly record struct ServicePort(int Port, ServiceTransport Transport = ServiceTransport.Tcp)
{
    public override string ToString() => $"{Port}/{(Transport == ServiceTransport.Tcp ? "tcp" : "udp")}";
}
