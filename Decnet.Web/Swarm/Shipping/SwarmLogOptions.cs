using System.Net;

namespace Decnet.Web.Swarm.Shipping;

/// <summary>
/// The master's log listener, under <c>Decnet:Swarm</c> (the section the other swarm settings share).
/// On with the swarm controller (<c>Decnet:Swarm:Enabled</c>, default true); set it false for a master
/// that will never have workers, and neither port is opened.
/// </summary>
public sealed class SwarmLogOptions
{
    public const string Section = "Decnet:Swarm";

    public bool Enabled { get; set; } = true;

    /// <summary>Address and port of the RFC 5425 listener, <c>0.0.0.0:6514</c> by default (a <c>tcp://</c> or <c>tls://</c> prefix is allowed).</summary>
    public string SyslogUrl { get; set; } = "0.0.0.0:6514";

    /// <summary>The swarm CA folder; <c>{data}/swarm/ca</c> when unset.</summary>
    public string? CaDirectory { get; set; }

    public int SyslogMaxConnections { get; set; } = 256;

    public TimeSpan SyslogIdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    public bool TryGetSyslogEndpoint(out IPEndPoint endpoint)
    {
        var text = SyslogUrl.Trim();
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            text = text[(scheme + 3)..];
        }
        return IPEndPoint.TryParse(text.TrimEnd('/'), out endpoint!) && text.Contains(':', StringComparison.Ordinal);
    }
}
