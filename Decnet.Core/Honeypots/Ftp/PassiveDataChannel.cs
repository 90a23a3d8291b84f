using System.Net;
using System.Net.Sockets;

namespace Decnet.Core.Honeypots.Ftp;

/// <summary>
/// A passive-mode data listener on the control connection's local address, on a port from a bounded
/// range. It accepts exactly one connection, and only from the control connection's peer (no FXP/
/// bounce through the honeypot), within a deadline.
/// </summary>
public sealed class PassiveDataChannel : IAsyncDisposable
{
    private const int BindAttempts = 32;
    private readonly Socket _listener;
    private Socket? _data;

    private PassiveDataChannel(Socket listener)
    {
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    public int Port { get; }

    public static PassiveDataChannel? Open(IPAddress localAddress, int minPort, int maxPort)
    {
        for (var attempt = 0; attempt < BindAttempts; attempt++)
        {
            var port = Random.Shared.Next(minPort, maxPort + 1);
            var socket = new Socket(localAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(localAddress, port));
                socket.Listen(1);
                return new PassiveDataChannel(socket);
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
        }
        return null;
    }

    /// <summary>Waits for the client's data connection; null on timeout.</summary>
    public async Task<NetworkStream?> AcceptAsync(IPAddress expectedPeer, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptAsync(deadline.Token).ConfigureAwait(false);
                var peer = ((IPEndPoint)socket.RemoteEndPoint!).Address;
                if (Normalise(peer).Equals(Normalise(expectedPeer)))
                {
                    _data = socket;
                    return new NetworkStream(socket, ownsSocket: false);
                }
                socket.Dispose();
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public ValueTask DisposeAsync()
    {
        if (_data is not null)
        {
            try
            {
                _data.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // The client already closed its end.
            }
            _data.Dispose();
        }
        _listener.Dispose();
        return ValueTask.CompletedTask;
    }
}
