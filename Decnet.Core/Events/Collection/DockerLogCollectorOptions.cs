using System.ComponentModel.DataAnnotations;

namespace Decnet.Core.Events.Collection;

/// <summary>How the master follows its service containers' logs. Section "Decnet:Ingest:Docker".</summary>
public sealed class DockerLogCollectorOptions
{
    public const string Section = "Decnet:Ingest:Docker";

    /// <summary>Lines read from the engine but not yet stored. When it is full, reading pauses and the lines wait in the engine's log files.</summary>
    [Range(100, 1_000_000)]
    public int ChannelCapacity { get; set; } = 10_000;

    /// <summary>Pause before reconnecting after the engine's event stream broke.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>On shutdown, how long the lines already read may take to be stored; the rest is read again next start.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
