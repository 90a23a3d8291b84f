using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// Receive loop for a datagram service. Datagrams are answered one at a time: a UDP flood costs one
/// buffer and one pending handler, never a task per packet.
/// </summary>
internal sealed class UdpServiceListener : IServiceListener
{
    private readonly Socket _socket;
    private readonly HostedServiceBinding _binding;
    private readonly ILogger _logger;
    private readonly TimeSpan _handlerTimeout;
    private readonly CancellationTokenSource _stopping = new();
    private Task _receiveLoop = Task.CompletedTask;
    private long _datagrams;
    private long _faulted;

    public UdpServiceListener(Socket socket, HostedServiceBinding binding, ILogger logger, TimeSpan handlerTimeout)
    {
        _socket = socket;
        _binding = binding;
        _logger = logger;
        _handlerTimeout = handlerTimeout;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>The decky's own socket; replies to its group and broadcast datagrams leave through it.</summary>
    public Socket Socket => _socket;

    public void Start() => _receiveLoop = Task.Run(ReceiveLoopAsync);

    public ListenerStatistics Snapshot() => new(
        _binding.ServiceName, EndPoint, ServiceTransport.Udp, 0, 0, 0, Interlocked.Read(ref _faulted), Interlocked.Read(ref _datagrams));

    private async Task ReceiveLoopAsync()
    {
        var context = _binding.Service.Context;
        var buffer = new byte[context.Limits.MaxDatagramBytes];
        var token = _stopping.Token;
        EndPoint any = new IPEndPoint(EndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!token.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                // ICMP errors surface as receive errors on some stacks; the loop must survive them.
                _logger.LogDebug(ex, "{Decky}/{Service}: receive failed", context.DeckyName, _binding.ServiceName);
                continue;
            }
            Interlocked.Increment(ref _datagrams);
            var remote = (IPEndPoint)received.RemoteEndPoint;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(_handlerTimeout);
                var reply = await _binding.Service
                    .AnswerDatagramAsync(buffer.AsMemory(0, received.ReceivedBytes), remote, EndPoint, timeout.Token)
                    .ConfigureAwait(false);
                if (reply is { Payload.Length: > 0 } answer)
                {
                    // Only the port may differ from the sender's: the address is never taken from the datagram.
                    var target = answer.Port is int port and > 0 and <= IPEndPoint.MaxPort ? new IPEndPoint(remote.Address, port) : remote;
                    await _socket.SendToAsync(answer.Payload, SocketFlags.None, target, timeout.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref _faulted);
                _logger.LogWarning(ex, "{Decky}/{Service}: datagram from {Remote} faulted", context.DeckyName, _binding.ServiceName, remote);
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
