using System.Net;
using System.Text.Json;

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
        }, errors);
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
