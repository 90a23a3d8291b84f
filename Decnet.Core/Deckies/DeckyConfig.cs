using System.Text.Json.Serialization;

namespace Decnet.Core.Deckies;

/// <summary>
/// One decky as the runtime deploys it: where it lives, what it exposes and how it presents itself.
/// The master stores this as a JSON snapshot per decky and ships it to swarm workers, so every property
/// carries an explicit snake_case JSON name that no serializer option can change.
/// </summary>
public sealed record DeckyConfig
{
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    [JsonPropertyName("ip")]
    public required string Ip { get; init; }

    /// <summary>Services the decky exposes; never empty, because a decky with nothing to attack is invisible.</summary>
    [JsonPropertyName("services")]
    public required IReadOnlyList<string> Services
    {
        get;
        init => field = value is { Count: > 0 }
            ? [.. value]
            : throw new ArgumentException("A decky needs at least one service.", nameof(value));
    }

    /// <summary>
    /// Definitions of the bring-your-own services among <see cref="Services"/> (<c>[custom-&lt;name&gt;]</c>
    /// sections): the runtime needs the image and command wherever the decky runs, a swarm worker included.
    /// </summary>
    [JsonPropertyName("custom_services")]
    public IReadOnlyList<CustomService> CustomServices
    {
        get;
        init => field = value is null ? [] : [.. value];
    } = [];

    [JsonPropertyName("distro")]
    public string Distro { get; init; } = "debian";

    /// <summary>Image of the base container that owns the decky's IP and OS sysctls.</summary>
    [JsonPropertyName("base_image")]
    public string BaseImage { get; init; } = "debian:bookworm-slim";

    /// <summary>apt-based image passed to service image builds; non-apt distros fall back to Debian.</summary>
    [JsonPropertyName("build_base")]
    public string BuildBase { get; init; } = "debian:bookworm-slim";

    [JsonPropertyName("hostname")]
    public required string Hostname { get; init; }

    /// <summary>Archetype slug when the decky was built from a preset.</summary>
    [JsonPropertyName("archetype")]
    public string? Archetype { get; init; }

    /// <summary>Persona settings per service (service → key → value); both levels compare keys case-insensitively.</summary>
    [JsonPropertyName("service_config")]
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> ServiceConfig
    {
        get;
        init => field = Personas.Copy(value);
    } = Personas.Empty;

    /// <summary>OS family whose TCP/IP sysctls the base container imitates; see <see cref="OsProfiles"/>.</summary>
    [JsonPropertyName("nmap_os")]
    public string NmapOs { get; init; } = OsProfiles.LinuxSlug;

    /// <summary>Minutes between service rotations; null means the deployment-wide interval applies.</summary>
    [JsonPropertyName("mutate_interval")]
    public int? MutateInterval { get; init; }

    /// <summary>When the services were last rotated, in UTC; null when never.</summary>
    [JsonPropertyName("last_mutated")]
    public DateTime? LastMutated
    {
        get;
        init => field = value is { } time ? AsUtc(time) : null;
    }

    /// <summary>The swarm worker that runs the decky; null in unihost mode.</summary>
    [JsonPropertyName("host_uuid")]
    public Guid? HostUuid { get; init; }

    /// <summary>Value equality, lists and persona maps included (a record alone would compare them by reference).</summary>
    public bool Equals(DeckyConfig? other) =>
        other is not null
        && Name == other.Name
        && Ip == other.Ip
        && Services.SequenceEqual(other.Services, StringComparer.Ordinal)
        && CustomServices.SequenceEqual(other.CustomServices)
        && Distro == other.Distro
        && BaseImage == other.BaseImage
        && BuildBase == other.BuildBase
        && Hostname == other.Hostname
        && Archetype == other.Archetype
        && Personas.AreEqual(ServiceConfig, other.ServiceConfig)
        && NmapOs == other.NmapOs
        && MutateInterval == other.MutateInterval
        && LastMutated == other.LastMutated
        && HostUuid == other.HostUuid;

    public override int GetHashCode() => HashCode.Combine(Name, Ip, Hostname, Services.Count);

    /// <summary>The definition of a custom service the decky runs, or null for a built-in name.</summary>
    public CustomService? CustomService(string service) =>
        CustomServices.FirstOrDefault(c => string.Equals(c.Name, service, StringComparison.OrdinalIgnoreCase));

    /// <summary>The persona settings of one service, or an empty map.</summary>
    public IReadOnlyDictionary<string, string> PersonaFor(string service) =>
        ServiceConfig.TryGetValue(service, out var persona) ? persona : Personas.EmptyPersona;

    // A timestamp without a kind is taken as UTC: every producer in this product writes UTC.
    private static DateTime AsUtc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Utc => time,
        DateTimeKind.Local => time.ToUniversalTime(),
        _ => DateTime.SpecifyKind(time, DateTimeKind.Utc),
    };
}

/// <summary>How the master runs deckies: all on this host, or spread over enrolled workers.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeploymentMode>))]
public enum DeploymentMode
{
    [JsonStringEnumMemberName("unihost")]
    Unihost,

    [JsonStringEnumMemberName("swarm")]
    Swarm,
}

/// <summary>A whole deployment: the fake network and every decky on it.</summary>
public sealed record DecnetConfig
{
    /// <summary>Rotation interval in minutes when neither the decky nor the INI sets one.</summary>
    public const int DefaultMutateInterval = 30;

    [JsonPropertyName("mode")]
    public DeploymentMode Mode { get; init; } = DeploymentMode.Unihost;

    /// <summary>Host NIC the decky network hangs off (macvlan/ipvlan parent, or "lo" for the loopback lab).</summary>
    [JsonPropertyName("interface")]
    public required string Interface { get; init; }

    /// <summary>Subnet in CIDR notation.</summary>
    [JsonPropertyName("subnet")]
    public required string Subnet { get; init; }

    [JsonPropertyName("gateway")]
    public required string Gateway { get; init; }

    [JsonPropertyName("deckies")]
    public required IReadOnlyList<DeckyConfig> Deckies
    {
        get;
        init => field = value is { Count: > 0 }
            ? [.. value]
            : throw new ArgumentException("A deployment needs at least one decky.", nameof(value));
    }

    /// <summary>IPvlan L2 instead of macvlan; needed where the parent NIC refuses extra MAC addresses (Wi-Fi).</summary>
    [JsonPropertyName("ipvlan")]
    public bool Ipvlan { get; init; }

    /// <summary>Deployment-wide rotation interval in minutes; null disables rotation for deckies without their own.</summary>
    [JsonPropertyName("mutate_interval")]
    public int? MutateInterval { get; init; } = DefaultMutateInterval;

    /// <summary>Value equality over every decky, in order.</summary>
    public bool Equals(DecnetConfig? other) =>
        other is not null
        && Mode == other.Mode
        && Interface == other.Interface
        && Subnet == other.Subnet
        && Gateway == other.Gateway
        && Deckies.SequenceEqual(other.Deckies)
        && Ipvlan == other.Ipvlan
        && MutateInterval == other.MutateInterval;

    public override int GetHashCode() => HashCode.Combine(Mode, Interface, Subnet, Gateway, Deckies.Count);
}

/// <summary>Builds the case-insensitive, read-only persona maps that <see cref="DeckyConfig"/> holds.</summary>
internal static class Personas
{
    public static readonly IReadOnlyDictionary<string, string> EmptyPersona =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase).AsReadOnly();

    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Empty =
        new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.OrdinalIgnoreCase).AsReadOnly();

    public static bool AreEqual(
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> left,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> right) =>
        left.Count == right.Count
        && left.All(service => right.TryGetValue(service.Key, out var other)
            && service.Value.Count == other.Count
            && service.Value.All(setting => other.TryGetValue(setting.Key, out var value) && value == setting.Value));

    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Copy(
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? source)
    {
        if (source is null || source.Count == 0)
        {
            return Empty;
        }

        var copy = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (service, settings) in source)
        {
            var persona = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (key, value) in settings ?? EmptyPersona)
            {
                persona[key] = value ?? "";
            }

            copy[service] = persona.AsReadOnly();
        }

        return copy.AsReadOnly();
    }
}
