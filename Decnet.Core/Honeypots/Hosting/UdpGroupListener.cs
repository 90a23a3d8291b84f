using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// Hears one multicast group or broadcast address on one UDP port of a decky. A socket bound to the decky's
/// own address never sees a datagram sent to 224.0.0.252 or to the subnet's broadcast, so this one is bound
/// to that destination (shared with the other deckies of the host through SO_REUSEADDR, each getting its own
/// copy) and keeps only what arrived on the decky's interface (IP_PKTINFO). Replies leave through the
/// decky's own socket, so they come from the decky's address and go only to the sender.
/// </summary>
internal sealed class UdpGroupListener : IServiceListener
{
    private readonly Socket _socket;
    private readonly Socket _replySocket;
    private readonly IPEndPoint _local;
    private readonly int _interfaceIndex;
    private readonly HostedServiceBinding _binding;
    private readonly ILogger _logger;
    private readonly TimeSpan _handlerTimeout;
    private readonly CancellationTokenSource _stopping = new();
    private Task _receiveLoop = Task.CompletedTask;
    private long _datagrams;
    private long _faulted;

    private UdpGroupListener(Socket socket, Socket replySocket, int interfaceIndex, HostedServiceBinding binding, ILogger logger, TimeSpan handlerTimeout)
    {
        _socket = socket;
        _replySocket = replySocket;
        _local = (IPEndPoint)replySocket.LocalEndPoint!;
        _interfaceIndex = interfaceIndex;
        _binding = binding;
        _logger = logger;
        _handlerTimeout = handlerTimeout;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>
    /// Opens a listener for every group and broadcast address the service hears on <paramref name="port"/>.
    /// A destination that cannot be opened is logged and skipped: the decky's own address still serves.
    /// </summary>
    public static IReadOnlyList<IServiceListener> Open(HostedServiceBinding binding, ServicePort port, Socket unicast, ILogger logger, TimeSpan handlerTimeout)
    {
        var destinations = binding.Service.GroupAddresses(port);
        var address = binding.Address;
        if (destinations.Count == 0 || address.AddressFamily != AddressFamily.InterNetwork)
        {
            return [];
        }
        var actualPort = ((IPEndPoint)unicast.LocalEndPoint!).Port;
        if (address.Equals(IPAddress.Any))
        {
            // Inside a service container the decky's namespace is the whole world: the wildcard socket already
            // hears broadcasts, and hears a group's datagrams once the group is joined on the default interface.
            foreach (var group in destinations.Where(IsMulticast))
            {
                Try(logger, binding, group, actualPort, () => unicast.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(group)));
            }
            return [];
        }
        var nic = DeckyInterface.Find(address);
        var listeners = new List<IServiceListener>();
        foreach (var destination in destinations)
        {
            IEnumerable<IPAddress> addresses = IsMulticast(destination) ? [destination]
                : destination.Equals(IPAddress.Broadcast) ? new[] { IPAddress.Broadcast, nic?.Broadcast }.OfType<IPAddress>().Distinct()
                : [];
            foreach (var bound in addresses)
            {
                Socket? socket = null;
                var opened = Try(logger, binding, bound, actualPort, () =>
                {
                    socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                    socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
                    socket.Bind(new IPEndPoint(bound, actualPort));
                    if (IsMulticast(bound))
                    {
                        // The decky's address names the interface to join on (ip_mreq.imr_interface).
                        socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(bound, address));
                    }
                });
                if (opened)
                {
                    listeners.Add(new UdpGroupListener(socket!, unicast, nic?.Index ?? 0, binding, logger, handlerTimeout));
                }
                else
                {
                    socket?.Dispose();
                }
            }
        }
        return listeners;
    }

    private static bool IsMulticast(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork && (address.GetAddressBytes()[0] & 0xF0) == 0xE0;

    private static bool Try(ILogger logger, HostedServiceBinding binding, IPAddress destination, int port, Action open)
    {
        try
        {
            open();
            return true;
        }
        catch (SocketException ex)
        {
            logger.LogWarning("{Service} on {Address}: cannot hear {Destination}:{Port}/udp ({Error}); only datagrams to the decky's own address are served",
                binding.ServiceName, binding.Address, destination, port, ex.SocketErrorCode);
            return false;
        }
    }

    public void Start() => _receiveLoop = Task.Run(ReceiveLoopAsync);

    public ListenerStatistics Snapshot() => new(
        _binding.ServiceName, EndPoint, ServiceTransport.Udp, 0, 0, 0, Interlocked.Read(ref _faulted), Interlocked.Read(ref _datagrams));

    private async Task ReceiveLoopAsync()
    {
        var context = _binding.Service.Context;
        var buffer = new byte[context.Limits.MaxDatagramBytes];
        var token = _stopping.Token;
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!token.IsCancellationRequested)
        {
            SocketReceiveMessageFromResult received;
            try
            {
                received = await _socket.ReceiveMessageFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                _logger.LogDebug(ex, "{Decky}/{Service}: group receive failed", context.DeckyName, _binding.ServiceName);
                continue;
            }
            if (_interfaceIndex != 0 && received.PacketInformation.Interface != _interfaceIndex)
            {
                // Another interface's LAN: the host's other deckies, not this one, are on it.
                continue;
            }
            Interlocked.Increment(ref _datagrams);
            var remote = (IPEndPoint)received.RemoteEndPoint;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(_handlerTimeout);
                var reply = await _binding.Service
                    .AnswerGroupDatagramAsync(buffer.AsMemory(0, received.ReceivedBytes), remote, _local, received.PacketInformation.Address ?? EndPoint.Address, timeout.Token)
                    .ConfigureAwait(false);
                if (reply is { Payload.Length: > 0 } answer)
                {
                    var target = answer.Port is int port and > 0 and <= IPEndPoint.MaxPort ? new IPEndPoint(remote.Address, port) : remote;
                    await _replySocket.SendToAsync(answer.Payload, SocketFlags.None, target, timeout.Token).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (token.IsCancellationRequested && ex is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref _faulted);
                _logger.LogWarning(ex, "{Decky}/{Service}: datagram from {Remote} to {Group} faulted", context.DeckyName, _binding.ServiceName, remote, EndPoint.Address);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _receiveLoop.ConfigureAwait(false);
    }

    public Task WaitForSessionsAsync(TimeSpan grace)
    {
        _stopping.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The host interface a decky's IPv4 address lives on: its index and its subnet's broadcast address.</summary>
internal sealed record DeckyInterface(int Index, IPAddress? Broadcast)
{
    /// <summary>
    /// The interface holding <paramref name="address"/> itself, else the one whose subnet contains it (any
    /// 127.x.y.z is on lo through 127.0.0.1/8); null when no interface has it.
    /// </summary>
    public static DeckyInterface? Find(IPAddress address)
    {
        var wanted = ToUInt32(address);
        DeckyInterface? best = null;
        var bestPrefix = -1;
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            IPInterfaceProperties properties;
            int index;
            try
            {
                properties = nic.GetIPProperties();
                index = properties.GetIPv4Properties().Index;
            }
            catch (NetworkInformationException)
            {
                continue;
            }
            foreach (var unicast in properties.UnicastAddresses.Where(u => u.Address.AddressFamily == AddressFamily.InterNetwork))
            {
                var prefix = unicast.Address.Equals(address) ? 33 : unicast.PrefixLength;
                var mask = unicast.PrefixLength == 0 ? 0u : uint.MaxValue << (32 - Math.Min(unicast.PrefixLength, 32));
                if (prefix <= bestPrefix || (ToUInt32(unicast.Address) & mask) != (wanted & mask))
                {
                    continue;
                }
                bestPrefix = prefix;
                var broadcast = unicast.PrefixLength is > 0 and < 31 ? FromUInt32((wanted & mask) | ~mask) : null;
                best = new DeckyInterface(index, broadcast);
            }
        }
        return best;
    }

    private static uint ToUInt32(IPAddress address) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    private static IPAddress FromUInt32(uint value)
    {
        var bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
