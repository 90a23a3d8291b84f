using System.Net;
using Docker.DotNet.Models;

namespace Decnet.Core.Deckies.Docker;

/// <summary>
/// The <c>decnet_lan</c> network a deployment needs: driver, parent NIC and IPAM pool, plus the host
/// helper ("shim") address reserved in that pool. Pure data, so reuse decisions are testable without an engine.
/// </summary>
public sealed record DeckyNetworkPlan
{
    public const string NetworkName = "decnet_lan";
    public const string MacvlanShimName = "decnet_macvlan0";
    public const string IpvlanShimName = "decnet_ipvlan0";

    /// <summary>IPAM auxiliary-address key that reserves the shim's address.</summary>
    public const string ShimAuxKey = "decnet_host";

    public required string Driver { get; init; }
    public required string Parent { get; init; }
    public required string Subnet { get; init; }
    public required string Gateway { get; init; }

    /// <summary>The smallest CIDR covering every decky IP (what the shim routes to the deckies).</summary>
    public required string IpRange { get; init; }

    /// <summary>Null when the runtime manages no host helper.</summary>
    public string? ShimAddress { get; init; }

    public bool Ipvlan => Driver == "ipvlan";

    public string ShimName => Ipvlan ? IpvlanShimName : MacvlanShimName;

    /// <summary>The helper name of the other driver: creating one drops the other, as both cannot share a parent.</summary>
    public string OtherShimName => Ipvlan ? MacvlanShimName : IpvlanShimName;

    public static DeckyNetworkPlan For(DecnetConfig deployment, bool hostShim, string? shimAddress = null)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (!Ipv4.TryParseNetwork(deployment.Subnet, out var subnet, out var error))
        {
            throw new ArgumentException(error, nameof(deployment));
        }

        var deckyIps = deployment.Deckies.Select(d => ParseAddress(d.Ip, $"decky '{d.Name}' IP")).ToList();
        var gateway = ParseAddress(deployment.Gateway, "gateway");
        string? shim = null;
        if (hostShim)
        {
            var chosen = shimAddress is null
                ? PickShimAddress(subnet, gateway, deckyIps)
                : ParseAddress(shimAddress, "host shim address");
            if (!Ipv4.IsHostOf(subnet, chosen) || chosen.Equals(gateway) || deckyIps.Contains(chosen))
            {
                throw new ArgumentException($"The host shim address {chosen} must be a free host address of {deployment.Subnet}.", nameof(shimAddress));
            }
            shim = chosen.ToString();
        }

        return new DeckyNetworkPlan
        {
            Driver = deployment.Ipvlan ? "ipvlan" : "macvlan",
            Parent = deployment.Interface,
            Subnet = $"{subnet.BaseAddress}/{subnet.PrefixLength}",
            Gateway = gateway.ToString(),
            IpRange = SmallestCoveringCidr(deckyIps),
            ShimAddress = shim,
        };
    }

    /// <summary>The smallest CIDR block that contains every address ("10.0.0.5", "10.0.0.9" → 10.0.0.0/28).</summary>
    public static string SmallestCoveringCidr(IEnumerable<IPAddress> addresses)
    {
        var values = addresses.Select(Ipv4.ToUInt32).ToList();
        if (values.Count == 0)
        {
            throw new ArgumentException("At least one address is needed.", nameof(addresses));
        }

        uint low = values.Min(), high = values.Max();
        var prefix = 32;
        while (prefix > 0 && (low & Ipv4.Mask(prefix)) != (high & Ipv4.Mask(prefix)))
        {
            prefix--;
        }
        return $"{Ipv4.FromUInt32(low & Ipv4.Mask(prefix))}/{prefix}";
    }

    /// <summary>Driver options: the parent NIC and the mode (bridge lets macvlan children talk to each other and to the shim).</summary>
    public IDictionary<string, string> DriverOptions() => Ipvlan
        ? new Dictionary<string, string> { ["parent"] = Parent, ["ipvlan_mode"] = "l2" }
        : new Dictionary<string, string> { ["parent"] = Parent, ["macvlan_mode"] = "bridge" };

    public NetworksCreateParameters ToCreateParameters() => new()
    {
        Name = NetworkName,
        Driver = Driver,
        Options = DriverOptions(),
        Labels = new Dictionary<string, string> { [DockerLabels.Managed] = "true" },
        IPAM = new IPAM
        {
            Driver = "default",
            Config =
            [
                new IPAMConfig
                {
                    Subnet = Subnet,
                    Gateway = Gateway,
                    IPRange = IpRange,
                    AuxAddress = ShimAddress is null ? null : new Dictionary<string, string> { [ShimAuxKey] = ShimAddress },
                },
            ],
        },
    };

    /// <summary>
    /// An existing network is reused only when driver, parent and the whole IPAM pool (subnet, gateway,
    /// ip_range, reserved shim address) are the same; anything else means recreate.
    /// </summary>
    public bool Matches(NetworkResponse network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!string.Equals(network.Driver, Driver, StringComparison.Ordinal)
            || network.Options is null
            || !network.Options.TryGetValue("parent", out var parent)
            || parent != Parent)
        {
            return false;
        }

        var pools = network.IPAM?.Config ?? [];
        if (pools.Count != 1)
        {
            return false;
        }

        var pool = pools[0];
        var aux = pool.AuxAddress ?? new Dictionary<string, string>();
        var auxMatches = ShimAddress is null
            ? aux.Count == 0
            : aux.Count == 1 && aux.TryGetValue(ShimAuxKey, out var reserved) && reserved == ShimAddress;
        return pool.Subnet == Subnet && pool.Gateway == Gateway && pool.IPRange == IpRange && auxMatches;
    }

    // The top of the subnet is the conventional spot for infrastructure and the least likely decky address.
    private static IPAddress PickShimAddress(IPNetwork subnet, IPAddress gateway, List<IPAddress> deckyIps)
    {
        var broadcast = Ipv4.BroadcastAddress(subnet);
        for (var candidate = broadcast - 1; candidate > Ipv4.NetworkAddress(subnet); candidate--)
        {
            var address = Ipv4.FromUInt32(candidate);
            if (!address.Equals(gateway) && !deckyIps.Contains(address))
            {
                return address;
            }
        }
        throw new ArgumentException($"{subnet} has no free address left for the host shim.", nameof(subnet));
    }

    private static IPAddress ParseAddress(string text, string what) =>
        Ipv4.TryParseAddress(text, out var address)
            ? address
            : throw new ArgumentException($"The {what} '{text}' is not an IPv4 address.", nameof(text));
}
