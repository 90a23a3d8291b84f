using System.Net;

namespace Decnet.Core.Deckies;

/// <summary>
/// Rules for addresses an operator pins with <c>ip =</c>. Shared by the INI loader (when the INI names
/// its subnet) and the planner (when the subnet comes from elsewhere), so both report the same errors.
/// </summary>
internal static class DeckyAddressRules
{
    public static IEnumerable<IniError> Check(IReadOnlyList<DeckySpec> deckies, NetworkSpec? network, IPAddress? hostIp)
    {
        var owners = new Dictionary<IPAddress, DeckySpec>();
        foreach (var decky in deckies)
        {
            if (decky.Ip is not { } ip)
            {
                continue;
            }

            if (owners.TryGetValue(ip, out var owner))
            {
                yield return Error(decky, $"{ip} is already used by decky '{owner.Name}' (line {owner.IpLine ?? owner.Line})");
                continue;
            }

            owners[ip] = decky;
            if (network is null)
            {
                continue;
            }

            if (!Ipv4.IsHostOf(network.Subnet, ip))
            {
                yield return Error(decky, $"{ip} is not a host address of the subnet {network.Subnet}");
            }
            else if (ip.Equals(network.Gateway))
            {
                yield return Error(decky, $"{ip} is the gateway address");
            }
            else if (hostIp is not null && ip.Equals(hostIp))
            {
                yield return Error(decky, $"{ip} is this host's own address");
            }
        }
    }

    private static IniError Error(DeckySpec decky, string message) =>
        new(decky.IpLine ?? decky.Line, decky.Section, "ip", message);
}
