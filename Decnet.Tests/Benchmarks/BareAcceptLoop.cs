using System.Net;
using System.Net.Sockets;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// The TCP reference of the family benchmarks: accept, read, answer the k-th complete request with the k-th
/// canned reply, close when the client does. No parsing beyond framing, no events: what any TCP service costs
/// on this machine.
/// </summary>
internal sealed class BareAcceptLoop : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();

    public BareAcceptLoop(Func<byte[], int, int> completeMessages, byte[][] replies)
    {
        _listener.Start(512);
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }
                _ = Task.Run(async () =>
                {
                    using (socket)
                    {
                        var data = new byte[4096];
                        var count = 0;
                        var answered = 0;
                        try
                        {
                            int read;
                            while (count < data.Length && (read = await socket.ReceiveAsync(data.AsMemory(count), _stop.Token)) > 0)
                            {
                                count += read;
                                for (var complete = completeMessages(data, count); answered < complete && answered < replies.Length; answered++)
                                {
                                    await socket.SendAsync(replies[answered], _stop.Token);
                                }
                            }
                        }
                        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
                        {
                            // Client gone or run over.
                        }
                    }
                });
            }
        });
    }

    public IPEndPoint EndPoint { get; }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
