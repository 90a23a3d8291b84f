using System.ComponentModel.DataAnnotations;
using Decnet.Core.Configuration;
using Microsoft.Extensions.Options;
using Decnet.Core.Events;

namespace Decnet.Core.Ingest.Collection;

/// <summary>How the master follows its service containers' logs. Section "Decnet:Ingest:Docker".</summary>
public sealed class DockerLogCollectorOptions
{
    public const string Section = "Decnet:Ingest:Docker";

    /// <summary>
    /// Lines read from the engine but not yet stored. When it is full, reading pauses and the lines wait in
    /// the engine's log files. A line is at most 64 KiB, so the worst case is capacity x 64 KiB (128 MiB by
    /// default); ordinary lines are a few hundred bytes.
    /// </summary>
    [Range(100, 100_000)]
    public int ChannelCapacity { get; set; } = 2_000;

    /// <summary>Pause before reconnecting after the engine's event stream broke.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>On shutdown, how long the lines already read may take to be stored; the rest is read again next start.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Every problem with <c>Decnet:Ingest:Docker</c> at once, each with its key.</summary>
public sealed class DockerLogCollectorOptionsValidator : IValidateOptions<DockerLogCollectorOptions>
{
    public ValidateOptionsResult Validate(string? name, DockerLogCollectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new OptionsProblems(DockerLogCollectorOptions.Section)
            .Annotations(options)
            .Range(nameof(options.ReconnectDelay), options.ReconnectDelay, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10))
            .Range(nameof(options.DrainTimeout), options.DrainTimeout, TimeSpan.Zero, TimeSpan.FromMinutes(10))
            .Result();
    }
}
