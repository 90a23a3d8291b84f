using System.ComponentModel.DataAnnotations;
using System.Net;
using Decnet.Core.Configuration;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Core.Swarm.Updates;

namespace Decnet.Core.Swarm;

/// <summary>
/// <c>Decnet:Swarm</c>, the one options tree of the master's swarm: the mutual-TLS controller, the
/// enrollment download endpoint, the log listener, offline detection, enrollment bundles, how the master
/// calls agents (<see cref="Agent"/>) and updaters (<see cref="Updates"/>). Validated as a whole by
/// <see cref="SwarmOptionsValidator"/>, which lists every problem.
/// </summary>
public sealed class SwarmOptions
{
    public const string Section = "Decnet:Swarm";

    /// <summary>False keeps the master purely local: no controller, enrollment or syslog port, no offline sweeper.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The controller's own Kestrel endpoint; always HTTPS with client certificates required.</summary>
    [Required]
    public string ControllerUrl { get; set; } = "https://0.0.0.0:8770";

    /// <summary>
    /// Where workers download their enrollment bundle: HTTPS with the master identity (the swarm CA), no
    /// client certificate (the one-shot token is the credential); the bootstrap command pins its key.
    /// </summary>
    [Required]
    public string EnrollmentUrl { get; set; } = "https://0.0.0.0:8771";

    /// <summary>Address and port of the RFC 5425 listener (a <c>tcp://</c> or <c>tls://</c> prefix is allowed).</summary>
    [Required]
    public string SyslogUrl { get; set; } = "0.0.0.0:6514";

    [Range(1, 65_536)]
    public int SyslogMaxConnections { get; set; } = 256;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SyslogIdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Workers heartbeat at this interval; three missed intervals make a host unreachable.</summary>
    [Range(1, 3600)]
    public int HeartbeatSeconds { get; set; } = AgentHostSettings.DefaultHeartbeatSeconds;

    /// <summary>
    /// Heartbeats that change nothing but their time are written together this often (reads and offline
    /// detection see them at once; a crash loses at most this much of last-seen history).
    /// </summary>
    [Range(1, 300)]
    public int LastSeenFlushSeconds { get; set; } = 5;

    /// <summary>Largest heartbeat body accepted, in bytes.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxHeartbeatBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Swarm CA folder; default <c>{data}/swarm/ca</c>.</summary>
    public string? CaDirectory { get; set; }

    /// <summary>
    /// The worker build shipped in enrollment bundles (the published Decnet.Agent folder). Default: the
    /// Decnet.Agent build next to the running web app.
    /// </summary>
    public string? AgentBuildDirectory { get; set; }

    /// <summary>Where pending bundles wait for their download; default <c>{data}/swarm/bundles</c>.</summary>
    public string? BundleDirectory { get; set; }

    /// <summary>How long a bootstrap command stays valid; a worker that has not heartbeated by then is swept.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")]
    public TimeSpan BundleLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Bundle downloads per client address per minute (the URLs are anonymous).</summary>
    [Range(1, 10_000)]
    public int BundleDownloadsPerMinute { get; set; } = 30;

    /// <summary>Downloads of each part of one bundle (retries after a failed install); the token ends at the first heartbeat.</summary>
    [Range(1, 1000)]
    public int BundleDownloadsPerToken { get; set; } = 20;

    /// <summary><c>Decnet:Swarm:Agent</c>: how the master calls worker agents.</summary>
    public AgentClientOptions Agent { get; set; } = new();

    /// <summary><c>Decnet:Swarm:Updates</c>: how the master reaches worker updaters.</summary>
    public SwarmUpdateOptions Updates { get; set; } = new();

    public TimeSpan HeartbeatInterval => TimeSpan.FromSeconds(HeartbeatSeconds);

    public TimeSpan LastSeenFlushInterval => TimeSpan.FromSeconds(LastSeenFlushSeconds);

    /// <summary>Silence after which a host counts as unreachable (three intervals).</summary>
    public TimeSpan OfflineAfter => HeartbeatInterval * 3;

    public string ResolveCaDirectory(string dataPath) => Path.GetFullPath(CaDirectory ?? Path.Combine(dataPath, "swarm", "ca"));

    public string ResolveBundleDirectory(string dataPath) => Path.GetFullPath(BundleDirectory ?? Path.Combine(dataPath, "swarm", "bundles"));

    /// <summary>The listener address of <see cref="SyslogUrl"/>.</summary>
    public bool TryGetSyslogEndpoint(out IPEndPoint endpoint)
    {
        var text = SyslogUrl?.Trim() ?? "";
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            text = text[(scheme + 3)..];
        }
        return IPEndPoint.TryParse(text.TrimEnd('/'), out endpoint!) && text.Contains(':', StringComparison.Ordinal);
    }

    /// <summary>The port of an HTTPS endpoint URL, or null when it is not one.</summary>
    public static int? HttpsPort(string? url) =>
        Uri.TryCreate(url?.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
            && uri.Scheme == Uri.UriSchemeHttps && uri.Port is >= 0 and <= 65535
            ? uri.Port
            : null;
}

/// <summary>Checks the whole <see cref="SwarmOptions"/> tree at start and reports every problem at once.</summary>
public sealed class SwarmOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<SwarmOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, SwarmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(SwarmOptions.Section)
            .Annotations(options)
            .Annotations(options.Agent, "Agent")
            .Annotations(options.Updates, "Updates");
        if (options.Enabled)
        {
            if (SwarmOptions.HttpsPort(options.ControllerUrl) is null)
            {
                problems.Add("ControllerUrl", $"must be an https:// URL with a port (mutual TLS), not '{options.ControllerUrl}'.");
            }
            if (SwarmOptions.HttpsPort(options.EnrollmentUrl) is null)
            {
                problems.Add("EnrollmentUrl", $"must be an https:// URL with a port (bundles carry private keys), not '{options.EnrollmentUrl}'.");
            }
            if (!options.TryGetSyslogEndpoint(out _))
            {
                problems.Add("SyslogUrl", $"must be address:port, e.g. 0.0.0.0:6514, not '{options.SyslogUrl}'.");
            }
            var ports = new[] { SwarmOptions.HttpsPort(options.ControllerUrl), SwarmOptions.HttpsPort(options.EnrollmentUrl), options.TryGetSyslogEndpoint(out var syslog) ? syslog.Port : (int?)null };
            if (ports.Where(p => p is > 0).GroupBy(p => p).Any(g => g.Count() > 1))
            {
                problems.AddToSection("ControllerUrl, EnrollmentUrl and SyslogUrl need three different ports.");
            }
        }
        return problems.Result();
    }
}
