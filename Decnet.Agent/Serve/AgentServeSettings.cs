using System.Net;
using Decnet.Core.Deckies;
using Decnet.Agent.Spool;
using Decnet.Core.Swarm;

namespace Decnet.Agent.Serve;

/// <summary>
/// Everything <c>decnet-agent serve</c> reads from the worker's INI: the enrolled settings
/// (<see cref="AgentHostSettings"/>) plus the agent-only keys of the <c>[agent]</c> section, each with a
/// default matching a bundle install: <c>runtime</c>, <c>config-dir</c>, <c>units-dir</c>, <c>bin-dir</c>,
/// and the spool's rotation: <c>spool-max-mb</c> (1–4096, default 64) and <c>spool-files</c> (rotated
/// generations kept, 1–100, default 8).
/// The paths are what self-destruct removes, so a test points them into a sandbox folder.
/// </summary>
public sealed record AgentServeSettings
{
    public const string DefaultConfigPath = "/etc/decnet/decnet.ini";
    public const string ConfigVariable = "DECNET_CONFIG";

    public required AgentHostSettings Host { get; init; }

    /// <summary>auto | embedded | docker, as <c>Decnet:Runtime:Kind</c> on the master.</summary>
    public string Runtime { get; init; } = "auto";

    /// <summary>The worker's settings folder (decnet.ini, certificates): /etc/decnet.</summary>
    public string ConfigDirectory { get; init; } = "/etc/decnet";

    /// <summary>Where the bundle installed the decnet-* systemd unit files.</summary>
    public string UnitsDirectory { get; init; } = "/etc/systemd/system";

    /// <summary>Where the bundle linked the decnet* commands.</summary>
    public string BinDirectory { get; init; } = "/usr/local/bin";

    public IPAddress ListenAddress { get; init; } = IPAddress.Any;

    public string SpoolPath => Path.Combine(Host.LogDirectory, "decnet.log");

    public SpoolRotation SpoolRotation { get; init; } = SpoolRotation.Default;

    /// <summary>Reads and validates the INI; every problem comes back located (line, section, key).</summary>
    /// <exception cref="IniValidationException">Missing or invalid settings.</exception>
    public static AgentServeSettings Parse(string text)
    {
        var errors = new List<IniError>();
        AgentHostSettings? host = null;
        try
        {
            host = AgentHostSettings.Parse(text);
        }
        catch (IniValidationException ex)
        {
            errors.AddRange(ex.Errors);
        }

        IniDocument document;
        try
        {
            document = IniDocument.Parse(text);
        }
        catch (IniValidationException)
        {
            // Syntax errors were reported by the parse above.
            throw new IniValidationException(errors);
        }
        var agent = document.Sections.LastOrDefault(s => string.Equals(s.Name, "agent", StringComparison.OrdinalIgnoreCase));
        var decnet = document.Sections.LastOrDefault(s => string.Equals(s.Name, "decnet", StringComparison.OrdinalIgnoreCase));

        var runtimeEntry = agent?.Find("runtime") ?? decnet?.Find("runtime");
        var runtime = runtimeEntry?.Value?.Trim().ToLowerInvariant() is { Length: > 0 } r ? r : "auto";
        if (runtime is not ("auto" or "embedded" or "docker"))
        {
            errors.Add(new IniError(runtimeEntry?.Line, agent?.Find("runtime") is null ? "decnet" : "agent", "runtime", $"must be auto, embedded or docker, not '{runtime}'"));
        }

        string AbsolutePath(string key, string fallback)
        {
            var entry = agent?.Find(key);
            var value = entry?.Value?.Trim() is { Length: > 0 } v ? v : fallback;
            if (!Path.IsPathFullyQualified(value))
            {
                errors.Add(new IniError(entry?.Line, "agent", key, $"must be an absolute path, not '{value}'"));
            }
            return value;
        }

        int Integer(string key, int fallback, int min, int max)
        {
            var entry = agent?.Find(key);
            if (entry?.Value?.Trim() is not { Length: > 0 } text)
            {
                return fallback;
            }
            if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                errors.Add(new IniError(entry.Line, "agent", key, $"must be a whole number from {min} to {max}, not '{text}'"));
                return fallback;
            }
            return value;
        }

        var spoolMaxMegabytes = Integer("spool-max-mb", (int)(SpoolRotation.DefaultMaxBytes / (1024 * 1024)), 1, 4096);
        var spoolFiles = Integer("spool-files", SpoolRotation.DefaultRetainedFiles, 1, 100);
        var configDirectory = AbsolutePath("config-dir", "/etc/decnet");
        var unitsDirectory = AbsolutePath("units-dir", "/etc/systemd/system");
        var binDirectory = AbsolutePath("bin-dir", "/usr/local/bin");

        var listen = IPAddress.Any;
        if (host is not null)
        {
            if (!IPAddress.TryParse(host.AgentHost, out listen!))
            {
                errors.Add(new IniError(agent?.Find("agent-host")?.Line, "agent", "agent-host", $"must be an IP address to listen on, not '{host.AgentHost}'"));
            }
            foreach (var (section, key, value) in new[] { ("agent", "install-dir", host.InstallDirectory), ("agent", "state-dir", host.StateDirectory), ("agent", "agent-dir", host.AgentDirectory), ("decnet", "log-directory", host.LogDirectory) })
            {
                if (!Path.IsPathFullyQualified(value))
                {
                    var line = document.Sections.LastOrDefault(s => string.Equals(s.Name, section, StringComparison.OrdinalIgnoreCase))?.Find(key)?.Line;
                    errors.Add(new IniError(line, section, key, $"must be an absolute path, not '{value}'"));
                }
            }
        }

        if (errors.Count > 0 || host is null)
        {
            throw new IniValidationException(errors);
        }
        return new AgentServeSettings
        {
            Host = host,
            Runtime = runtime,
            ConfigDirectory = configDirectory,
            UnitsDirectory = unitsDirectory,
            BinDirectory = binDirectory,
            ListenAddress = listen,
            SpoolRotation = new SpoolRotation(spoolMaxMegabytes * 1024L * 1024, spoolFiles),
        };
    }
}
