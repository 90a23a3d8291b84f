using System.Globalization;
using System.Text;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm.Pki;

namespace Decnet.Core.Swarm;

/// <summary>
/// A worker's <c>/etc/decnet/decnet.ini</c>: written by the master into the enrollment bundle, read by
/// <c>decnet-agent serve</c>. Only the <c>[decnet]</c> and <c>[agent]</c> sections are read, so an agent
/// never sees master settings. Keys use the upstream spelling (<c>master-host</c>, <c>agent-port</c> ...).
/// </summary>
public sealed record AgentHostSettings
{
    public const int DefaultAgentPort = 8765;
    public const int DefaultSwarmControllerPort = 8770;
    public const int DefaultSyslogPort = 6514;
    public const int DefaultHeartbeatSeconds = 30;

    /// <summary>The worker's name (its certificate CN).</summary>
    public required string Name { get; init; }

    /// <summary>The id the master knows this worker by (swarm_hosts.Id).</summary>
    public required Guid HostUuid { get; init; }

    /// <summary>Address (name or IP) the worker reaches the master at.</summary>
    public required string MasterHost { get; init; }

    /// <summary>Port of the master's mutual-TLS swarm controller (heartbeat, enroll).</summary>
    public int SwarmControllerPort { get; init; } = DefaultSwarmControllerPort;

    /// <summary>Port of the master's RFC 5425 log listener.</summary>
    public int SyslogPort { get; init; } = DefaultSyslogPort;

    /// <summary>Fingerprint of the master identity the agent accepts, and the only one.</summary>
    public required string MasterFingerprint { get; init; }

    public string AgentHost { get; init; } = "0.0.0.0";

    public int AgentPort { get; init; } = DefaultAgentPort;

    /// <summary>Holds ca.crt, worker.crt, worker.key.</summary>
    public string AgentDirectory { get; init; } = "/etc/decnet/agent";

    /// <summary>Holds ca.crt, updater.crt, updater.key when the updater was enrolled.</summary>
    public string UpdaterDirectory { get; init; } = "/etc/decnet/updater";

    /// <summary>Runtime state: deployment, host keys, the log spool and its shipped offset.</summary>
    public string StateDirectory { get; init; } = "/var/lib/decnet";

    public string LogDirectory { get; init; } = "/var/log/decnet";

    /// <summary>Where the bundle installs the worker build.</summary>
    public string InstallDirectory { get; init; } = "/opt/decnet";

    /// <summary>IPvlan instead of macvlan for every deployment on this worker (Wi-Fi parents refuse extra MACs).</summary>
    public bool Ipvlan { get; init; }

    public int HeartbeatSeconds { get; init; } = DefaultHeartbeatSeconds;

    public string CaCertificatePath => Path.Combine(AgentDirectory, "ca.crt");

    public string CertificatePath => Path.Combine(AgentDirectory, "worker.crt");

    public string KeyPath => Path.Combine(AgentDirectory, "worker.key");

    /// <summary>The INI text, as the enrollment bundle ships it.</summary>
    public string ToIni()
    {
        var text = new StringBuilder();
        text.AppendLine("# DECNET worker settings, written by the master at enrollment.");
        text.AppendLine("[decnet]");
        text.AppendLine("mode = agent");
        text.AppendLine("disallow-master = true");
        text.AppendLine(CultureInfo.InvariantCulture, $"log-directory = {LogDirectory}");
        text.AppendLine(CultureInfo.InvariantCulture, $"ipvlan = {(Ipvlan ? "true" : "false")}");
        text.AppendLine();
        text.AppendLine("[agent]");
        text.AppendLine(CultureInfo.InvariantCulture, $"name = {Name}");
        text.AppendLine(CultureInfo.InvariantCulture, $"host-uuid = {HostUuid:D}");
        text.AppendLine(CultureInfo.InvariantCulture, $"master-host = {MasterHost}");
        text.AppendLine(CultureInfo.InvariantCulture, $"swarmctl-port = {SwarmControllerPort}");
        text.AppendLine(CultureInfo.InvariantCulture, $"swarm-syslog-port = {SyslogPort}");
        text.AppendLine(CultureInfo.InvariantCulture, $"master-fingerprint = {MasterFingerprint}");
        text.AppendLine(CultureInfo.InvariantCulture, $"agent-host = {AgentHost}");
        text.AppendLine(CultureInfo.InvariantCulture, $"agent-port = {AgentPort}");
        text.AppendLine(CultureInfo.InvariantCulture, $"agent-dir = {AgentDirectory}");
        text.AppendLine(CultureInfo.InvariantCulture, $"updater-dir = {UpdaterDirectory}");
        text.AppendLine(CultureInfo.InvariantCulture, $"state-dir = {StateDirectory}");
        text.AppendLine(CultureInfo.InvariantCulture, $"install-dir = {InstallDirectory}");
        text.AppendLine(CultureInfo.InvariantCulture, $"heartbeat-interval = {HeartbeatSeconds}");
        return text.ToString();
    }

    /// <summary>Reads the INI, reporting every problem with its line and key.</summary>
    /// <exception cref="IniValidationException">Missing or invalid settings.</exception>
    public static AgentHostSettings Parse(string text)
    {
        var document = IniDocument.Parse(text);
        var errors = new List<IniError>();
        var decnet = document.Sections.LastOrDefault(s => string.Equals(s.Name, "decnet", StringComparison.OrdinalIgnoreCase));
        var agent = document.Sections.LastOrDefault(s => string.Equals(s.Name, "agent", StringComparison.OrdinalIgnoreCase));
        if (agent is null)
        {
            throw new IniValidationException([new IniError(null, "agent", null, "the [agent] section is missing")]);
        }
        if (decnet?.Find("mode") is { } mode && !string.Equals(mode.Value?.Trim(), "agent", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add(new IniError(mode.Line, "decnet", "mode", $"must be 'agent' on a worker, not '{mode.Value}'"));
        }

        string? Required(string key)
        {
            var entry = agent.Find(key);
            if (string.IsNullOrWhiteSpace(entry?.Value))
            {
                errors.Add(new IniError(entry?.Line ?? agent.Line, "agent", key, "is required"));
                return null;
            }
            return entry.Value.Trim();
        }

        string Optional(IniSection? section, string key, string fallback) =>
            section?.Find(key)?.Value?.Trim() is { Length: > 0 } value ? value : fallback;

        int Port(string key, int fallback)
        {
            var entry = agent.Find(key);
            if (entry?.Value is null)
            {
                return fallback;
            }
            if (int.TryParse(entry.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535)
            {
                return port;
            }
            errors.Add(new IniError(entry.Line, "agent", key, $"must be a port number 1-65535, not '{entry.Value.Trim()}'"));
            return fallback;
        }

        var name = Required("name");
        if (name is not null && !SwarmCertificateAuthority.IsValidHostName(name))
        {
            errors.Add(new IniError(agent.Find("name")!.Line, "agent", "name", $"'{name}' is not a valid worker name"));
        }
        var uuidText = Required("host-uuid");
        var hostUuid = Guid.Empty;
        if (uuidText is not null && !Guid.TryParse(uuidText, out hostUuid))
        {
            errors.Add(new IniError(agent.Find("host-uuid")!.Line, "agent", "host-uuid", $"'{uuidText}' is not a UUID"));
        }
        var masterHost = Required("master-host");
        var fingerprintText = Required("master-fingerprint");
        var fingerprint = CertificateFingerprint.Normalize(fingerprintText);
        if (fingerprintText is not null && fingerprint is null)
        {
            errors.Add(new IniError(agent.Find("master-fingerprint")!.Line, "agent", "master-fingerprint", "must be a SHA-256 fingerprint (64 hex digits)"));
        }
        var heartbeat = Port("heartbeat-interval", DefaultHeartbeatSeconds);
        var ipvlanText = Optional(decnet, "ipvlan", "false");
        if (!bool.TryParse(ipvlanText, out var ipvlan))
        {
            errors.Add(new IniError(decnet?.Find("ipvlan")?.Line, "decnet", "ipvlan", $"must be true or false, not '{ipvlanText}'"));
        }

        var settings = new AgentHostSettings
        {
            Name = name ?? "",
            HostUuid = hostUuid,
            MasterHost = masterHost ?? "",
            MasterFingerprint = fingerprint ?? "",
            SwarmControllerPort = Port("swarmctl-port", DefaultSwarmControllerPort),
            SyslogPort = Port("swarm-syslog-port", DefaultSyslogPort),
            AgentHost = Optional(agent, "agent-host", "0.0.0.0"),
            AgentPort = Port("agent-port", DefaultAgentPort),
            AgentDirectory = Optional(agent, "agent-dir", "/etc/decnet/agent"),
            UpdaterDirectory = Optional(agent, "updater-dir", "/etc/decnet/updater"),
            StateDirectory = Optional(agent, "state-dir", "/var/lib/decnet"),
            InstallDirectory = Optional(agent, "install-dir", "/opt/decnet"),
            LogDirectory = Optional(decnet, "log-directory", "/var/log/decnet"),
            Ipvlan = ipvlan,
            HeartbeatSeconds = heartbeat,
        };
        return errors.Count == 0 ? settings : throw new IniValidationException(errors);
    }
}
