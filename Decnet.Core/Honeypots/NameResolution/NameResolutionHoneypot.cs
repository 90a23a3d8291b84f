using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Ntlm;

namespace Decnet.Core.Honeypots.NameResolution;

public sealed class NameResolutionHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "llmnr";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } =
        [new(NameResolutionHoneypot.LlmnrPort, ServiceTransport.Udp), new(NameResolutionHoneypot.MdnsPort, ServiceTransport.Udp), new(NameResolutionHoneypot.NbnsPort, ServiceTransport.Udp)];

    public IHoneypotService Create(ServiceContext context) => new NameResolutionHoneypot(context);
}

/// <summary>
/// The local name services of a Windows host: LLMNR (5355), mDNS (5353) and NetBIOS name service (137).
/// Every query is logged with who asked for which name: on a LAN these protocols are what Responder-style
/// poisoners feed on and what their operators probe with. The decky answers like a real host, only for
/// its own names (its hostname, NetBIOS name and workgroup, and NBSTAT node status), so the answers give
/// nothing away. Events and replies are rate-limited per source address and for the whole decky: a
/// spoofed flood, even from thousands of addresses, costs a counter, never an event storm or a reflected
/// stream.
/// </summary>
public sealed class NameResolutionHoneypot : IHoneypotService
{
    public const int LlmnrPort = 5355;
    public const int MdnsPort = 5353;
    public const int NbnsPort = 137;

    /// <summary>The LLMNR link-scope multicast group (RFC 4795 §2).</summary>
    public static readonly IPAddress LlmnrGroup = IPAddress.Parse("224.0.0.252");

    /// <summary>The mDNS link-local multicast group (RFC 6762 §3).</summary>
    public static readonly IPAddress MdnsGroup = IPAddress.Parse("224.0.0.251");

    /// <summary>Answered queries and events per source address per second; the rest are counted and dropped.</summary>
    public const int QueriesPerSecondPerSource = 20;

    /// <summary>
    /// Answered queries and events per second for all sources together (a LAN's name chatter is tens per
    /// second); spoofed sources could otherwise each claim their own per-source budget.
    /// </summary>
    public const int QueriesPerSecondPerDecky = 500;

    private const int MaxTrackedSources = 4096;

    private readonly ConcurrentDictionary<IPAddress, SourceWindow> _sources = new();
    private readonly SourceWindow _decky = new();
    private readonly byte[] _macAddress;

    public NameResolutionHoneypot(ServiceContext context)
    {
        Context = context;
        Identity = WindowsIdentity.From(context);
        HostLabel = context.Hostname.Split('.')[0];
        // A stable, locally administered unicast MAC for NBSTAT: the decky's "network card".
        _macAddress = SHA256.HashData(Encoding.UTF8.GetBytes(context.DeckyName))[..6];
        _macAddress[0] = (byte)((_macAddress[0] & 0xFC) | 0x02);
    }

    public ServiceContext Context { get; }
    public WindowsIdentity Identity { get; }

    /// <summary>The single-label hostname LLMNR and mDNS answer for.</summary>
    public string HostLabel { get; }

    /// <summary>Where clients really ask: LLMNR and mDNS by multicast (RFC 4795, RFC 6762), NetBIOS by broadcast (RFC 1002 B-node).</summary>
    public IReadOnlyList<IPAddress> GroupAddresses(ServicePort port) => port switch
    {
        { Transport: ServiceTransport.Udp, Port: LlmnrPort } => [LlmnrGroup],
        { Transport: ServiceTransport.Udp, Port: MdnsPort } => [MdnsGroup],
        { Transport: ServiceTransport.Udp, Port: NbnsPort } => [IPAddress.Broadcast],
        _ => [],
    };

    public ValueTask<ReadOnlyMemory<byte>?> HandleDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, IPEndPoint local, CancellationToken cancellationToken) =>
        // A null array would convert to an empty, non-null memory: "no answer" must stay null.
        ValueTask.FromResult(Handle(datagram, remote, local, destination: null) is { } reply ? (ReadOnlyMemory<byte>?)reply : null);

    public ValueTask<DatagramReply?> AnswerGroupDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, IPEndPoint local, IPAddress destination, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Handle(datagram, remote, local, destination) is { } reply ? new DatagramReply(reply) : (DatagramReply?)null);

    private byte[]? Handle(ReadOnlyMemory<byte> datagram, IPEndPoint remote, IPEndPoint local, IPAddress? destination)
    {
        // The group the query was sent to (multicast or broadcast), or none when it came to the decky's address.
        var delivery = destination is null ? "unicast" : (destination.GetAddressBytes()[0] & 0xF0) == 0xE0 ? "multicast" : "broadcast";
        var destinationText = destination?.ToString();
        var source = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
        var (admitted, suppressed, flood) = Admit(source);
        if (!admitted)
        {
            return null;
        }
        var protocol = local.Port switch { LlmnrPort => "llmnr", MdnsPort => "mdns", _ => "nbns" };
        var packet = datagram.Span;
        var query = NameQuery.Read(packet);
        if (query is null || query.IsResponse || query.Opcode != 0)
        {
            // A response arriving here is worth as much as a query: someone is answering names on this LAN.
            Emit(remote, query is { IsResponse: true } ? "unsolicited_response" : "raw_packet",
                ("proto", protocol),
                ("delivery", delivery),
                ("dst_ip", destinationText),
                ("name", query?.Name),
                ("length", datagram.Length.ToString(CultureInfo.InvariantCulture)),
                ("first_bytes", Convert.ToHexStringLower(packet[..Math.Min(packet.Length, 32)])),
                ("suppressed", suppressed),
                ("flood_suppressed", flood));
            return null;
        }
        var address = ReplyAddress(local.Address, remote);
        byte[]? reply;
        string name;
        string? suffix = null;
        if (protocol == "nbns")
        {
            var netbios = NetBiosNames.Decode(query.RawName);
            name = netbios?.Name ?? query.Name;
            suffix = netbios is null ? null : "0x" + netbios.Value.Suffix.ToString("x2", CultureInfo.InvariantCulture);
            reply = netbios is null ? null : NetBiosReply(query, netbios.Value, address);
        }
        else
        {
            name = query.Name;
            reply = DnsReply(query, protocol, address, remote);
        }
        Emit(remote, "query",
            ("proto", protocol),
            ("delivery", delivery),
            ("dst_ip", destinationText),
            ("name", name),
            ("qtype", NameQuery.TypeName(query.Type)),
            ("suffix", suffix),
            ("answered", reply is null ? "false" : "true"),
            ("answer", reply is null ? null : query.Type == 33 ? "node_status" : address?.ToString()),
            ("suppressed", suppressed),
            ("flood_suppressed", flood));
        return reply;
    }

    /// <summary>LLMNR / mDNS: an A record for our own name, else silence (a real host does not answer for others).</summary>
    private byte[]? DnsReply(NameQuery query, string protocol, IPAddress? address, IPEndPoint remote)
    {
        var name = query.Name;
        var own = protocol == "mdns"
            ? name.Equals(HostLabel + ".local", StringComparison.OrdinalIgnoreCase)
            : name.Equals(HostLabel, StringComparison.OrdinalIgnoreCase) || name.Equals(Identity.ComputerName, StringComparison.OrdinalIgnoreCase);
        if (!own || address is null || query.Compressed || query.Type is not (1 or 255) || query.Class is not (1 or 0x8001 or 255))
        {
            return null;
        }
        // mDNS answers a one-shot (legacy unicast) query, from a port other than 5353, like a DNS server:
        // the id echoed, the question repeated, a short TTL (RFC 6762 §6.7).
        var legacy = protocol == "mdns" && remote.Port != MdnsPort;
        var packet = new PacketBuilder(64 + query.RawName.Length);
        packet.U16BigEndian(protocol == "mdns" && !legacy ? 0 : query.Id);
        packet.U16BigEndian(protocol == "mdns" ? 0x8400 : 0x8000);
        var withQuestion = protocol == "llmnr" || legacy;
        packet.U16BigEndian(withQuestion ? 1 : 0).U16BigEndian(1).U16BigEndian(0).U16BigEndian(0);
        if (withQuestion)
        {
            packet.Bytes(query.RawName).U16BigEndian(query.Type).U16BigEndian(query.Class & 0x7FFF);
            packet.U16BigEndian(0xC00C);
        }
        else
        {
            packet.Bytes(query.RawName);
        }
        packet.U16BigEndian(1).U16BigEndian(1).U32BigEndian(protocol == "llmnr" ? 30u : legacy ? 10u : 120u).U16BigEndian(4).Bytes(address.GetAddressBytes());
        return packet.ToArray();
    }

    /// <summary>NBNS: a positive answer for our computer or workgroup name, or the node status table for NBSTAT.</summary>
    private byte[]? NetBiosReply(NameQuery query, (string Name, byte Suffix) name, IPAddress? address)
    {
        if (query.RawName.Length != 34 || query.Compressed)
        {
            return null;
        }
        var packet = new PacketBuilder(256);
        if (query.Type == 33)
        {
            if (name.Name != "*" && !name.Name.Equals(Identity.ComputerName, StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }
            packet.U16BigEndian(query.Id).U16BigEndian(0x8400).U16BigEndian(0).U16BigEndian(1).U16BigEndian(0).U16BigEndian(0);
            packet.Bytes(query.RawName).U16BigEndian(33).U16BigEndian(1).U32BigEndian(0);
            // Name flags as Windows reports them: active, M-node owner type; 0x8000 marks a group name.
            (string Name, byte Suffix, ushort Flags)[] table =
            [
                (Identity.ComputerName, 0x00, 0x4400),
                (Identity.DomainName, 0x00, 0xC400),
                (Identity.ComputerName, 0x20, 0x4400),
                (Identity.DomainName, 0x1E, 0xC400),
            ];
            packet.U16BigEndian(1 + (table.Length * 18) + 46).U8(table.Length);
            foreach (var (entry, suffix, flags) in table)
            {
                packet.Ascii(entry.PadRight(15)[..15]).U8(suffix).U16BigEndian(flags);
            }
            packet.Bytes(_macAddress).Zeros(40);
            return packet.ToArray();
        }
        var isComputer = name.Name.Equals(Identity.ComputerName, StringComparison.OrdinalIgnoreCase) && name.Suffix is 0x00 or 0x20;
        var isGroup = name.Name.Equals(Identity.DomainName, StringComparison.OrdinalIgnoreCase) && name.Suffix is 0x00 or 0x1E;
        if (query.Type != 32 || address is null || !(isComputer || isGroup))
        {
            return null;
        }
        packet.U16BigEndian(query.Id).U16BigEndian(0x8500).U16BigEndian(0).U16BigEndian(1).U16BigEndian(0).U16BigEndian(0);
        packet.Bytes(query.RawName).U16BigEndian(32).U16BigEndian(1).U32BigEndian(300_000).U16BigEndian(6);
        packet.U16BigEndian(isGroup ? 0x8000 : 0x0000).Bytes(address.GetAddressBytes());
        return packet.ToArray();
    }

    /// <summary>
    /// The IPv4 address this decky answers with: the address the query reached, or, when the listener is
    /// bound to every address (inside a service container), the one the kernel would send back from.
    /// </summary>
    private static IPAddress? ReplyAddress(IPAddress local, IPEndPoint remote)
    {
        if (local.AddressFamily == AddressFamily.InterNetwork && !local.Equals(IPAddress.Any))
        {
            return local;
        }
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            // Connecting a UDP socket sends nothing; it only makes the kernel choose the source address.
            probe.Connect(remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address, remote.Port == 0 ? 9 : remote.Port);
            return ((IPEndPoint)probe.LocalEndPoint!).Address;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether this query gets an event and an answer: within its source's budget and the decky's. The
    /// first admitted query of a second reports what was dropped in the previous one (its source's drops,
    /// and the decky-wide drops once, on whichever query opens the decky's new second).
    /// </summary>
    private (bool Admitted, string? Suppressed, string? Flood) Admit(IPAddress source)
    {
        var second = Context.Time.GetUtcNow().ToUnixTimeSeconds();
        if (_sources.Count >= MaxTrackedSources && !_sources.ContainsKey(source))
        {
            // A spoofed flood from many addresses: forget the old windows rather than grow (the decky-wide
            // budget still holds).
            _sources.Clear();
        }
        var window = _sources.GetOrAdd(source, _ => new SourceWindow());
        var (sourceAdmitted, suppressed) = Take(window, second, QueriesPerSecondPerSource);
        if (!sourceAdmitted)
        {
            return (false, null, null);
        }
        var (deckyAdmitted, flood) = Take(_decky, second, QueriesPerSecondPerDecky);
        return (deckyAdmitted, suppressed, flood);
    }

    private static (bool Admitted, string? DroppedBefore) Take(SourceWindow window, long second, int budget)
    {
        lock (window)
        {
            if (window.Second != second)
            {
                var dropped = window.Dropped;
                window.Second = second;
                window.Count = 1;
                window.Dropped = 0;
                return (true, dropped > 0 ? dropped.ToString(CultureInfo.InvariantCulture) : null);
            }
            if (window.Count >= budget)
            {
                window.Dropped++;
                return (false, null);
            }
            window.Count++;
            return (true, null);
        }
    }

    private void Emit(IPEndPoint remote, string eventType, params (string Key, string? Value)[] fields)
    {
        var source = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
        var list = new List<KeyValuePair<string, string>>(fields.Length + 2)
        {
            new("src_ip", source.ToString()),
            new("src_port", remote.Port.ToString(CultureInfo.InvariantCulture)),
        };
        list.AddRange(fields.Where(f => f.Value is not null).Select(f => new KeyValuePair<string, string>(f.Key, f.Value!)));
        Context.Events.Publish(new HoneypotEvent(Context.Time.GetUtcNow(), Context.DeckyName, "llmnr", eventType, list));
    }

    private sealed class SourceWindow
    {
        public long Second { get; set; }
        public int Count { get; set; }
        public long Dropped { get; set; }
    }
}

/// <summary>NetBIOS first-level name encoding (RFC 1001 §14.1): 16 bytes as 32 letters 'A'..'P'.</summary>
public static class NetBiosNames
{
    /// <summary>The name (trailing spaces trimmed) and its suffix byte; null when the label is not an encoded name.</summary>
    public static (string Name, byte Suffix)? Decode(byte[] rawName)
    {
        if (rawName.Length < 34 || rawName[0] != 32)
        {
            return null;
        }
        Span<byte> decoded = stackalloc byte[16];
        for (var i = 0; i < 16; i++)
        {
            var high = rawName[1 + (2 * i)] - 'A';
            var low = rawName[2 + (2 * i)] - 'A';
            if (high is < 0 or > 15 || low is < 0 or > 15)
            {
                return null;
            }
            decoded[i] = (byte)((high << 4) | low);
        }
        var name = NameQuery.Printable(decoded[..15].ToArray()).Replace("\\20", " ", StringComparison.Ordinal).TrimEnd();
        return (decoded[0] == '*' ? "*" : name, decoded[15]);
    }
}
