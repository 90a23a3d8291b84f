using System.ComponentModel.DataAnnotations;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>Bounds on everything an attacker controls. One set per service instance.</summary>
public sealed class SessionLimits
{
    [Range(1, 100_000)]
    public int MaxConcurrentSessions { get; set; } = 256;

    /// <summary>A session that sends nothing for this long is cut.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>No session lives longer than this.</summary>
    public TimeSpan MaxSessionDuration { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Bytes read from one session before it is cut.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxBytesPerSession { get; set; } = 16 * 1024 * 1024;

    /// <summary>Longest line a line-oriented protocol accepts.</summary>
    [Range(64, 1024 * 1024)]
    public int MaxLineLength { get; set; } = 8 * 1024;

    /// <summary>Largest datagram read for UDP services.</summary>
    [Range(512, 65_535)]
    public int MaxDatagramBytes { get; set; } = 8 * 1024;
}
