using System.Net;

namespace Decnet.Core.Deckies;

/// <summary>The network deckies are placed on.</summary>
/// <param name="Interface">
/// Host NIC to attach to; null when the INI did not name one, in which case the planner uses the
/// host interface it is given.
/// </param>
public sealed record NetworkSpec(IPNetwork Subnet, IPAddress Gateway, string? Interface)
{
    /// <summary>
    /// The loopback lab network: 127.77.0.0/24, gateway 127.77.0.1, interface <c>lo</c>. Linux answers
    /// on every 127.0.0.0/8 address, so the embedded runtime can give each decky its own address here
    /// without privileges or extra interfaces.
    /// </summary>
    public static NetworkSpec LoopbackLab { get; } =
        new(new IPNetwork(IPAddress.Parse("127.77.0.0"), 24), IPAddress.Parse("127.77.0.1"), "lo");
}

/// <summary>One decky as the deployment INI describes it, after <c>amount</c> expansion.</summary>
public sealed record DeckySpec
{
    public required string Name { get; init; }

    /// <summary>The INI section the decky came from; differs from <see cref="Name"/> for expanded copies.</summary>
    public required string Section { get; init; }

    /// <summary>Line of the section header, for error messages.</summary>
    public int Line { get; init; }

    public IPAddress? Ip { get; init; }

    /// <summary>Line of the <c>ip</c> key, for error messages about the address.</summary>
    public int? IpLine { get; init; }

    /// <summary>Explicit services, normalised to catalog names; null means archetype or random.</summary>
    public IReadOnlyList<string>? Services { get; init; }

    public string? Archetype { get; init; }

    /// <summary>The host name the INI gives (the decky's <c>hostname</c>, or its SSH/Telnet one); null lets the planner generate one.</summary>
    public string? Hostname { get; init; }

    public string? NmapOs { get; init; }

    /// <summary>Rotation interval in minutes.</summary>
    public int? MutateInterval { get; init; }

    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> ServiceConfig { get; init; } = Personas.Empty;
}

/// <summary>Everything a deployment INI says, validated but not yet turned into deckies.</summary>
public sealed record DeploymentSpec
{
    /// <summary>From <c>[general]</c>; null when the INI has no <c>net</c>.</summary>
    public NetworkSpec? Network { get; init; }

    /// <summary>Line of the <c>[general]</c> header when present.</summary>
    public int? GeneralLine { get; init; }

    public bool Ipvlan { get; init; }

    /// <summary>Deployment-wide rotation interval in minutes from <c>[general]</c>.</summary>
    public int? MutateInterval { get; init; }

    public required IReadOnlyList<DeckySpec> Deckies { get; init; }

    public IReadOnlyList<CustomService> CustomServices { get; init; } = [];
}
