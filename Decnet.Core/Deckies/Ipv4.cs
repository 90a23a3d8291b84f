using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Decnet.Core.Deckies;

/// <summary>
/// IPv4 arithmetic for decky networks. Decky networking is IPv4-only (the OS profiles are
/// <c>net.ipv4</c> sysctls), and parsing is strict dotted-quad: <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>
/// alone would accept "10.1" as 10.0.0.1, which is never what an operator meant.
/// </summary>
internal static class Ipv4
{
    public static bool TryParseAddress(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        var parts = text?.Trim().Split('.');
        if (parts is not { Length: 4 })
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < 4; i++)
        {
            var part = parts[i];
            // Leading zeros are refused: some parsers read "010" as octal 8, so the operator and the
            // container engine could disagree about which address was meant.
            if (part.Length is 0 or > 3 || !part.All(char.IsAsciiDigit) || (part.Length > 1 && part[0] == '0'))
            {
                return false;
            }

            var octet = int.Parse(part, CultureInfo.InvariantCulture);
            if (octet > 255)
            {
                return false;
            }

            bytes[i] = (byte)octet;
        }

        address = new IPAddress(bytes);
        return true;
    }

    /// <summary>Parses <c>a.b.c.d/n</c>; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParseNetwork(string? text, out IPNetwork network, out string error)
    {
        network = default;
        var trimmed = text?.Trim() ?? "";
        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            error = $"'{trimmed}' is not a CIDR subnet; write it as address/prefix, e.g. 10.0.5.0/24";
            return false;
        }

        if (!TryParseAddress(trimmed[..slash], out var address))
        {
            error = $"'{trimmed}' is not a CIDR subnet: '{trimmed[..slash]}' is not an IPv4 address";
            return false;
        }

        var prefixText = trimmed[(slash + 1)..];
        var prefix = prefixText.Length is > 0 and <= 2 && prefixText.All(char.IsAsciiDigit)
            ? int.Parse(prefixText, CultureInfo.InvariantCulture)
            : -1;
        if (prefix is < 0 or > 32)
        {
            error = $"'{trimmed}' is not a CIDR subnet: the prefix length must be 0 to 32";
            return false;
        }

        var mask = Mask(prefix);
        var value = ToUInt32(address);
        if ((value & ~mask) != 0)
        {
            error = $"'{trimmed}' has host bits set; the network is {FromUInt32(value & mask)}/{prefix}";
            return false;
        }

        if (prefix > 30)
        {
            error = $"'{trimmed}' has no room for deckies; use a prefix of /30 or shorter";
            return false;
        }

        network = new IPNetwork(address, prefix);
        error = "";
        return true;
    }

    public static uint ToUInt32(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"{address} is not an IPv4 address.", nameof(address));
        }

        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    public static IPAddress FromUInt32(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }

    public static uint Mask(int prefixLength) => prefixLength == 0 ? 0 : uint.MaxValue << (32 - prefixLength);

    public static uint NetworkAddress(IPNetwork network) => ToUInt32(network.BaseAddress);

    public static uint BroadcastAddress(IPNetwork network) => NetworkAddress(network) | ~Mask(network.PrefixLength);

    /// <summary>Host addresses in order: everything but the network and broadcast addresses.</summary>
    public static IEnumerable<IPAddress> Hosts(IPNetwork network)
    {
        var first = NetworkAddress(network) + 1;
        var last = BroadcastAddress(network) - 1;
        for (var value = (ulong)first; value <= last; value++)
        {
            yield return FromUInt32((uint)value);
        }
    }

    public static IPAddress FirstHost(IPNetwork network) => FromUInt32(NetworkAddress(network) + 1);

    /// <summary>True when the address is a usable host of the network (not its network or broadcast address).</summary>
    public static bool IsHostOf(IPNetwork network, IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork || !network.Contains(address))
        {
            return false;
        }

        var value = ToUInt32(address);
        return value != NetworkAddress(network) && value != BroadcastAddress(network);
    }
}
