using System.Net;
using System.Text.Json;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Agent.Honeypot;

/// <summary>
/// What a service container is told to host, read from environment variables because the Docker
/// runtime creates the container with an env list and nothing else (no mounted config file to drift).
/// </summary>
public sealed record HoneypotHostSettings
{
    public const string DeckyVariable = "DECNET_DECKY";
    public const string HostnameVariable = "DECNET_HOSTNAME";
    public const string DistroVariable = "DECNET_DISTRO";
    public const string OsVariable = "DECNET_OS";
    public const string ArchetypeVariable = "DECNET_ARCHETYPE";
    public const string ServicesVariable = "DECNET_SERVICES";
    public const string BindAddressVariable = "DECNET_BIND_ADDRESS";
    public const string PersonaVariable = "DECNET_PERSONA_JSON";
    public const string StateDirectoryVariable = "DECNET_STATE_DIR";
    public const string ArtifactsDirectoryVariable = "DECNET_ARTIFACTS_DIR";
    public const string ArtifactBytesVariable = "DECNET_ARTIFACTS_MAX_BYTES";
    public const string FilesPerSessionVariable = "DECNET_ARTIFACTS_FILES_PER_SESSION";
    public const string SessionsPerSourceVariable = "DECNET_SESSIONS_PER_SOURCE";
    public const string SessionsVariable = "DECNET_SESSIONS_MAX";
    public const string AdmissionSocketVariable = "DECNET_ADMISSION_SOCKET";

    public required string Decky { get; init; }
    public required string Hostname { get; init; }
    public string Distro { get; init; } = "debian";
    public string OsFamily { get; init; } = "linux";
    public string? Archetype { get; init; }
    public required IReadOnlyList<string> Services { get; init; }

    /// <summary>
    /// 0.0.0.0 by default: inside a service container the decky IP belongs to the shared namespace of the
    /// base container, and binding the wildcard also covers the loopback used by health checks.
    /// </summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Any;

    /// <summary>service → persona key → value, the decky's <c>service_config</c> for these services.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Personas { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.OrdinalIgnoreCase);

    public string StateDirectory { get; init; } = "/var/lib/decnet/state";
    public string ArtifactsDirectory { get; init; } = "/var/lib/decnet/artifacts";

    /// <summary>
    /// Bytes of artifacts this container may keep: its share of the decky's quota (the runtime divides the
    /// decky's quota among its service containers, each of which sees only its own folder).
    /// </summary>
    public long ArtifactBytes { get; init; } = new ArtifactQuotaOptions().MaxBytesPerDecky;

    public int FilesPerSession { get; init; } = new ArtifactQuotaOptions().MaxFilesPerSession;

    /// <summary>Concurrent sessions one source address may hold on this container's services.</summary>
    public int SessionsPerSource { get; init; } = new SessionAdmissionOptions().MaxSessionsPerSourcePerDecky;

    /// <summary>Concurrent sessions of this container, all sources together: its share of the decky's cap.</summary>
    public int Sessions { get; init; } = new SessionAdmissionOptions().MaxSessionsPerDecky;

    /// <summary>
    /// The host's shared admission socket: sessions are then counted across every container of every decky
    /// on the host, and <see cref="SessionsPerSource"/> / <see cref="Sessions"/> only apply while it is unreachable.
    /// </summary>
    public string? AdmissionSocket { get; init; }

    public IReadOnlyDictionary<string, string> PersonaFor(string service) =>
        Personas.TryGetValue(service, out var persona)
            ? persona
            : new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads the settings; every problem is collected so one run shows them all.</summary>
    public static (HoneypotHostSettings? Settings, IReadOnlyList<string> Errors) Read(Func<string, string?> environment)
    {
        var errors = new List<string>();
        string? Value(string name) => environment(name) is { } text && !string.IsNullOrWhiteSpace(text) ? text.Trim() : null;

        var decky = Value(DeckyVariable);
        if (decky is null)
        {
            errors.Add($"{DeckyVariable} is required (the decky name every event carries as HOSTNAME).");
        }

        var services = (Value(ServicesVariable) ?? string.Empty)
            .Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        if (services.Count == 0)
        {
            errors.Add($"{ServicesVariable} is required: a comma-separated list of service names.");
        }

        var bind = IPAddress.Any;
        if (Value(BindAddressVariable) is { } bindText && !IPAddress.TryParse(bindText, out bind!))
        {
            errors.Add($"{BindAddressVariable} '{bindText}' is not an IP address.");
            bind = IPAddress.Any;
        }

        var personas = ReadPersonas(Value(PersonaVariable), errors);
        var artifactBytes = Number(Value(ArtifactBytesVariable), ArtifactBytesVariable, new ArtifactQuotaOptions().MaxBytesPerDecky, 0, long.MaxValue, errors);
        var filesPerSession = Number(Value(FilesPerSessionVariable), FilesPerSessionVariable, new ArtifactQuotaOptions().MaxFilesPerSession, 0, 100_000, errors);
        var perSource = Number(Value(SessionsPerSourceVariable), SessionsPerSourceVariable, new SessionAdmissionOptions().MaxSessionsPerSourcePerDecky, 1, 100_000, errors);
        var sessions = Number(Value(SessionsVariable), SessionsVariable, new SessionAdmissionOptions().MaxSessionsPerDecky, 1, 1_000_000, errors);
        var admissionSocket = Value(AdmissionSocketVariable);
        if (admissionSocket is not null && !Path.IsPathFullyQualified(admissionSocket))
        {
            errors.Add($"{AdmissionSocketVariable} '{admissionSocket}' must be an absolute path.");
        }
        if (perSource > sessions)
        {
            errors.Add($"{SessionsPerSourceVariable} ({perSource}) cannot exceed {SessionsVariable} ({sessions}).");
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        return (new HoneypotHostSettings
        {
            Decky = decky!,
            Hostname = Value(HostnameVariable) ?? decky!,
            Distro = Value(DistroVariable) ?? "debian",
            OsFamily = Value(OsVariable) ?? "linux",
            Archetype = Value(ArchetypeVariable),
            Services = services,
            BindAddress = bind,
            Personas = personas,
            StateDirectory = Value(StateDirectoryVariable) ?? "/var/lib/decnet/state",
            ArtifactsDirectory = Value(ArtifactsDirectoryVariable) ?? "/var/lib/decnet/artifacts",
            ArtifactBytes = artifactBytes,
            FilesPerSession = (int)filesPerSession,
            SessionsPerSource = (int)perSource,
            Sessions = (int)sessions,
            AdmissionSocket = admissionSocket,
        }, errors);
    }

    /// <summary>An optional whole number within its range; its default when absent.</summary>
    private static long Number(string? text, string variable, long fallback, long min, long max, List<string> errors)
    {
        if (text is null)
        {
            return fallback;
        }
        if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            errors.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{variable} '{text}' must be a whole number from {min} to {max}."));
            return fallback;
        }
        return value;
    }

    private static Dictionary<string, IReadOnlyDictionary<string, string>> ReadPersonas(string? json, List<string> errors)
    {
        var result = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.OrdinalIgnoreCase);
        if (json is null)
        {
            return result;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{PersonaVariable} must be a JSON object of service → {{key: value}}.");
                return result;
            }

            foreach (var service in document.RootElement.EnumerateObject())
            {
                if (service.Value.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"{PersonaVariable}: the persona of '{service.Name}' must be an object.");
                    continue;
                }

                // Values arrive as strings from the INI; numbers and booleans are accepted as their text.
                result[service.Name] = service.Value.EnumerateObject().ToDictionary(
                    setting => setting.Name,
                    setting => setting.Value.ValueKind == JsonValueKind.String ? setting.Value.GetString() ?? string.Empty : setting.Value.GetRawText(),
                    StringComparer.OrdinalIgnoreCase);
            }
        }
        catch (JsonException ex)
        {
            errors.Add($"{PersonaVariable} is not valid JSON: {ex.Message}");
        }

        return result;
    }
}
