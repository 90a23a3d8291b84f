using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Decnet.Core.Honeypots.Events;
using Decnet.Tests.Honeypots;

namespace Decnet.Tests.Benchmarks;

/// <summary>Counts the events a benchmarked decky emits, by type, through the bounded sink the embedded runtime uses.</summary>
public sealed class CountingDrain : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _task;
    private bool _disposed;

    public CountingDrain()
    {
        _task = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in Sink.Reader.ReadAllAsync(_stop.Token))
                {
                    Counts.AddOrUpdate(e.EventType, 1, (_, n) => n + 1);
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped after the run.
            }
        });
    }

    public ChannelEventSink Sink { get; } = new();
    public ConcurrentDictionary<string, long> Counts { get; } = new();

    public long Count(string type) => Counts.TryGetValue(type, out var n) ? n : 0;

    /// <summary>Completes the sink and waits for the last event; benchmarks call it before reading counts, so a second call is a no-op.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Sink.Complete();
        await _task.WaitAsync(TimeSpan.FromSeconds(30));
        await _stop.CancelAsync();
        _stop.Dispose();
    }
}

/// <summary>
/// The load shape of the service-family login benchmarks: <see cref="Workers"/> concurrent guessers doing
/// one login per connection (as hydra and its kin work) for <see cref="Duration"/>, and the bare TCP accept
/// loop (accept, one byte, close) every family's figures are read against.
/// </summary>
public static class LoginLoad
{
    public const int Workers = 32;
    public static readonly TimeSpan Duration = TimeSpan.FromSeconds(6);

    /// <summary>Runs <see cref="Workers"/> loops of one login per connection for <see cref="Duration"/>; completed connections and their rate.</summary>
    public static async Task<(long Connections, double PerSecond)> DriveAsync(IPEndPoint endPoint, Func<IPEndPoint, int, Task> login)
    {
        long done = 0;
        var watch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            var i = 0;
            while (watch.Elapsed < Duration)
            {
                await login(endPoint, (w * 1_000_000) + i++);
                Interlocked.Increment(ref done);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        watch.Stop();
        return (done, done / watch.Elapsed.TotalSeconds);
    }

    public static async Task<double> BareAcceptLoopAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(TestDecky.NextAddress(), 0));
        listener.Listen(512);
        using var stop = new CancellationTokenSource();
        var accept = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var client = await listener.AcceptAsync(stop.Token);
                    _ = Task.Run(async () =>
                    {
                        using (client)
                        {
                            await client.SendAsync(new byte[] { 0x2b });
                            client.Shutdown(SocketShutdown.Both);
                        }
                    });
                }
            }
            catch (OperationCanceledException)
            {
                // Measurement over.
            }
        });
        var (_, rate) = await DriveAsync((IPEndPoint)listener.LocalEndPoint!, async (endPoint, _) =>
        {
            using var tcp = await ConnectAsync(endPoint);
            await DrainAsync(tcp.GetStream());
        });
        await stop.CancelAsync();
        await accept;
        return rate;
    }

    public static async Task<TcpClient> ConnectAsync(IPEndPoint endPoint)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(endPoint);
        return tcp;
    }

    /// <summary>Reads until the server closes: the login is over when the decky hangs up.</summary>
    public static async Task DrainAsync(Stream stream)
    {
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        }
        catch (IOException)
        {
            // A reset is an ending too.
        }
    }
}
