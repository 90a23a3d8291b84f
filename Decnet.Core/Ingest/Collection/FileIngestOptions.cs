using Microsoft.Extensions.Options;
using Decnet.Core.Events;

namespace Decnet.Core.Ingest.Collection;

/// <summary>
/// Files of RFC 5424 lines the master ingests (a swarm agent's spool, an rsyslog output file). Section
/// "Decnet:Ingest", e.g. <c>Decnet:Ingest:Files:0:Name=agent1</c>, <c>Decnet:Ingest:Files:0:Path=/var/spool/decnet/agent1.log</c>.
/// </summary>
public sealed class FileIngestOptions
{
    public const string Section = "Decnet:Ingest";

    public List<IngestFileSource> Files { get; set; } = [];

    /// <summary>How often a file at its end is checked for new lines, rotation or truncation.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Lines read but not yet stored; when full, reading pauses (the lines stay in the file). At most 64 KiB a line.</summary>
    public int ChannelCapacity { get; set; } = 2_000;
}

/// <summary>One tailed file. The name keys its persisted position, so renaming it re-reads the file (harmlessly: rows are idempotent).</summary>
public sealed class IngestFileSource
{
    public string Name { get; set; } = string.Empty;

    /// <summary>Absolute, or relative to the data folder. The file may appear later; rotation to "path.1" is followed.</summary>
    public string Path { get; set; } = string.Empty;
}

public sealed class FileIngestOptionsValidator : IValidateOptions<FileIngestOptions>
{
    public ValidateOptionsResult Validate(string? name, FileIngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Files.Count; i++)
        {
            var file = options.Files[i];
            if (string.IsNullOrWhiteSpace(file.Name) || file.Name.Length > 64 || !file.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                errors.Add($"{FileIngestOptions.Section}:Files:{i}:Name must be 1 to 64 letters, digits, '-', '_' or '.'.");
            }
            else if (!names.Add(file.Name))
            {
                errors.Add($"{FileIngestOptions.Section}:Files:{i}:Name '{file.Name}' is used twice.");
            }
            if (string.IsNullOrWhiteSpace(file.Path))
            {
                errors.Add($"{FileIngestOptions.Section}:Files:{i}:Path is required.");
            }
        }
        if (options.PollInterval <= TimeSpan.Zero || options.PollInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{FileIngestOptions.Section}:PollInterval must be between 0 and 1 minute.");
        }
        if (options.ChannelCapacity is < 100 or > 100_000)
        {
            errors.Add($"{FileIngestOptions.Section}:ChannelCapacity must be 100 to 100,000.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
