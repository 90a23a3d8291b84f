using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Tests.Honeypots;

/// <summary>
/// A minimal loopback accept loop standing in for the real ServiceHost in service tests: each accepted
/// socket becomes a HoneypotConnection handed to the service. Exceptions escaping a service are kept
/// so tests can assert that nothing crashed.
/// </summary>
public sealed class TestListener : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _sessions = [];
    private readonly Task _acceptLoop;

    private TestListener(IHoneypotService service, string serviceName, IPAddress address)
    {
        _listener = new TcpListener(address, 0);
        _listener.Start();
        _acceptLoop = AcceptAsync(service, serviceName);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;
    public int Port => EndPoint.Port;
    public ConcurrentQueue<Exception> Errors { get; } = new();

    public static TestListener Start(IHoneypotService service, string serviceName, IPAddress? address = null) =>
        new(service, serviceName, address ?? IPAddress.Loopback);

    private async Task AcceptAsync(IHoneypotService service, string serviceName)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception error) when (error is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _sessions.Add(Task.Run(async () =>
            {
                await using var stream = new NetworkStream(socket, ownsSocket: true);
                var connection = new HoneypotConnection(service.Context, serviceName, stream, (IPEndPoint)socket.RemoteEndPoint!, (IPEndPoint)socket.LocalEndPoint!);
                try
                {
                    await service.HandleConnectionAsync(connection, _stop.Token);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    Errors.Enqueue(error);
                }
            }));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        await Task.WhenAll(_sessions).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }
}
