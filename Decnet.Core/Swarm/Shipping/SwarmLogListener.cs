using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Decnet.Core.Events;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Security;
using Microsoft.Extensions.Logging;
using Decnet.Core.Ingest;

namespace Decnet.Core.Swarm.Shipping;

/// <summary>The listener's bounds: everything a connected peer can make it hold.</summary>
public sealed record SwarmLogListenerSettings
{
    public int MaxConnections { get; init; } = 256;

    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait for the next frame (a whole frame must arrive within it).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public int MaxFrameBytes { get; init; } = ShippingProtocol.MaxLineBytes;

    /// <summary>Lines waiting for the database; when full, connections stop being read (backpressure).</summary>
    public int QueueCapacity { get; init; } = 1000;
}

/// <summary>Counters for diagnostics and tests.</summary>
public readonly record struct SwarmLogListenerCounters(long Accepted, long Refused, long LinesReceived, long BatchesAcknowledged, int Connected);

/// <summary>
/// The master's log listener: RFC 5425 over mutual TLS with the master identity. A client must present a
/// certificate issued by the swarm CA whose fingerprint belongs to a live swarm host (tombstones always
/// refused). Every line is labelled with that host's name (see <see cref="ShippedLine"/>) and goes into
/// the same ingest as every other event through <see cref="EventIngester.WriteBatchAsync"/>, from one
/// bounded queue: a slow database stops the reading of sockets rather than growing memory. A batch is
/// acknowledged only after the transaction holding its last line committed.
/// </summary>
public sealed partial class SwarmLogListener : IAsyncDisposable
{
    private static readonly TimeSpan[] RetryDelays = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    private readonly SwarmLogListenerSettings _settings;
    private readonly SslStreamCertificateContext _serverCertificate;
    private readonly SwarmGate _gate;
    private readonly SwarmOverview _peers;
    private readonly EventIngester _ingester;
    private readonly ILogger<SwarmLogListener> _logger;
    private readonly Channel<Queued> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, Task> _connections = new();
    private TcpListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private Task _ingestLoop = Task.CompletedTask;
    private long _nextConnection;
    private long _accepted;
    private long _refused;
    private long _linesReceived;
    private long _batchesAcknowledged;
    private int _connected;

    public SwarmLogListener(
        SwarmLogListenerSettings settings,
        X509Certificate2 serverCertificate,
        SwarmGate gate,
        SwarmOverview peers,
        EventIngester ingester,
        ILogger<SwarmLogListener> logger)
    {
        _settings = settings;
        _serverCertificate = SslStreamCertificateContext.Create(serverCertificate, additionalCertificates: null, offline: true);
        _gate = gate;
        _peers = peers;
        _ingester = ingester;
        _logger = logger;
        _queue = Channel.CreateBounded<Queued>(new BoundedChannelOptions(settings.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public SwarmLogListenerCounters Counters => new(
        Interlocked.Read(ref _accepted),
        Interlocked.Read(ref _refused),
        Interlocked.Read(ref _linesReceived),
        Interlocked.Read(ref _batchesAcknowledged),
        Volatile.Read(ref _connected));

    /// <summary>Binds and starts serving; returns the bound endpoint (port 0 picks a free one).</summary>
    public IPEndPoint Start(IPEndPoint endpoint)
    {
        if (_listener is not null)
        {
            throw new InvalidOperationException("the listener is already started");
        }
        var listener = new TcpListener(endpoint);
        // A restarted master rebinds at once even while its old connections linger in TIME_WAIT.
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start(backlog: 128);
        _listener = listener;
        _ingestLoop = Task.Run(() => IngestLoopAsync(_stop.Token));
        _acceptLoop = Task.Run(() => AcceptLoopAsync(listener, _stop.Token));
        var bound = (IPEndPoint)listener.LocalEndpoint;
        LogListening(_logger, bound);
        return bound;
    }

    public async Task StopAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
        await _ingestLoop.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                LogAcceptFailed(_logger, ex.Message);
                continue;
            }
            if (Interlocked.Increment(ref _connected) > _settings.MaxConnections)
            {
                Interlocked.Decrement(ref _connected);
                Interlocked.Increment(ref _refused);
                socket.Dispose();
                continue;
            }
            var id = Interlocked.Increment(ref _nextConnection);
            var connection = ServeAsync(id, socket, cancellationToken);
            _connections[id] = connection;
            if (connection.IsCompleted)
            {
                _connections.TryRemove(id, out _);
            }
        }
    }

    private async Task ServeAsync(long id, Socket socket, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var remote = socket.RemoteEndPoint?.ToString() ?? "?";
        try
        {
            await using var network = new NetworkStream(socket, ownsSocket: true);
            await using var tls = new SslStream(network, leaveInnerStreamOpen: false);
            SwarmPeer? peer;
            using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                handshake.CancelAfter(_settings.HandshakeTimeout);
                await tls.AuthenticateAsServerAsync(ServerOptions(socket.RemoteEndPoint), handshake.Token).ConfigureAwait(false);
                peer = tls.RemoteCertificate is { } certificate
                    ? await _peers.FindPeerAsync(CertificateFingerprint.Of(certificate), handshake.Token).ConfigureAwait(false)
                    : null;
                if (peer is null)
                {
                    Interlocked.Increment(ref _refused);
                    LogRefused(_logger, remote, tls.RemoteCertificate is { } c ? CertificateFingerprint.Of(c) : "none");
                    _gate.Refuse(SwarmGate.LogListenerEndpoint, socket.RemoteEndPoint, SwarmRefusal.UnknownHost, tls.RemoteCertificate, "a swarm certificate of no live host");
                    return;
                }
            }
            Interlocked.Increment(ref _accepted);
            LogConnected(_logger, peer.Name, remote);
            await ReceiveAsync(tls, peer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or AuthenticationException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            if (ex is AuthenticationException)
            {
                Interlocked.Increment(ref _refused);
            }
            if (!cancellationToken.IsCancellationRequested)
            {
                LogDropped(_logger, remote, ex.Message);
            }
        }
        catch (Exception ex)
        {
            // One connection's failure (the database away during the certificate lookup) never takes the listener down.
            LogConnectionFailed(_logger, ex, remote);
        }
        finally
        {
            Interlocked.Decrement(ref _connected);
            _connections.TryRemove(id, out _);
        }
    }

    private SslServerAuthenticationOptions ServerOptions(EndPoint? remote) => new()
    {
        ServerCertificateContext = _serverCertificate,
        ClientCertificateRequired = true,
        EnabledSslProtocols = PinnedTls.Protocols,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        // The handshake gate (our CA, client use, not revoked); a live swarm host is checked once it is done.
        RemoteCertificateValidationCallback = (_, certificate, _, _) => _gate.Admit(certificate, SwarmGate.LogListenerEndpoint, remote),
    };

    private async Task ReceiveAsync(SslStream tls, SwarmPeer peer, CancellationToken cancellationToken)
    {
        var reader = new OctetCountingReader(tls, _settings.MaxFrameBytes);
        while (true)
        {
            var frame = await ReadFrameAsync(reader, cancellationToken).ConfigureAwait(false);
            if (frame is null)
            {
                return;
            }
            if (!ShippingProtocol.IsControl(frame))
            {
                // Plain RFC 5425 from a sender that does not speak the batch extension.
                if (ShippedLine.Label(frame, peer.Name) is { } plain)
                {
                    await _queue.Writer.WriteAsync(new Queued(ShippedLine.Unkeyed(plain, peer), null), cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _linesReceived);
                }
                continue;
            }
            if (!ShippingProtocol.TryParseBatch(frame, out var header))
            {
                throw new FramingException("unknown control frame");
            }
            // A host decommissioned while connected stops here (within the directory's cache lifetime).
            if (await _peers.FindPeerAsync(peer.Fingerprint, cancellationToken).ConfigureAwait(false) is null)
            {
                Interlocked.Increment(ref _refused);
                LogRevokedWhileConnected(_logger, peer.Name);
                _gate.Refuse(SwarmGate.LogListenerEndpoint, (string?)null, SwarmRefusal.Revoked, peer.Fingerprint, $"{peer.Name} was revoked while connected");
                return;
            }
            var offset = header.Start;
            var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            for (var i = 0; i < header.Count; i++)
            {
                var line = await ReadFrameAsync(reader, cancellationToken).ConfigureAwait(false)
                    ?? throw new FramingException("the stream ended inside a batch");
                if (ShippingProtocol.IsControl(line))
                {
                    throw new FramingException("a control frame inside a batch");
                }
                var labelled = ShippedLine.Label(line, peer.Name);
                var last = i == header.Count - 1;
                var ingestLine = labelled is null ? (IngestLine?)null : new IngestLine(labelled, ShippedLine.SourceId(peer, header.FileId, offset));
                if (ingestLine is not null || last)
                {
                    await _queue.Writer.WriteAsync(new Queued(ingestLine, last ? committed : null), cancellationToken).ConfigureAwait(false);
                }
                offset += line.Length;
                Interlocked.Increment(ref _linesReceived);
            }
            await committed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            var ack = new ArrayBufferWriter<byte>(128);
            OctetCounting.WriteFrame(ack, ShippingProtocol.FormatAck(new BatchAck(header.FileId, offset)));
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_settings.IdleTimeout);
            await tls.WriteAsync(ack.WrittenMemory, deadline.Token).ConfigureAwait(false);
            await tls.FlushAsync(deadline.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _batchesAcknowledged);
        }
    }

    private async Task<byte[]?> ReadFrameAsync(OctetCountingReader reader, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_settings.IdleTimeout);
        try
        {
            return await reader.ReadFrameAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"idle for {_settings.IdleTimeout.TotalSeconds:0.#} s");
        }
    }

    /// <summary>
    /// The one consumer of the queue: batches of up to <see cref="EventIngester.BatchSize"/> lines, written
    /// (and retried until written: rows are idempotent) before the batches they end are acknowledged.
    /// </summary>
    private async Task IngestLoopAsync(CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;
        var batch = new List<IngestLine>(EventIngester.BatchSize);
        var ends = new List<TaskCompletionSource>();
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                await FillAsync(reader, batch, ends, cancellationToken).ConfigureAwait(false);
                for (var attempt = 0; batch.Count > 0; attempt++)
                {
                    try
                    {
                        await _ingester.WriteBatchAsync(batch, cancellationToken).ConfigureAwait(false);
                        break;
                    }
                    catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        LogIngestFailed(_logger, ex, batch.Count);
                        await Task.Delay(RetryDelays[Math.Min(attempt, RetryDelays.Length - 1)], cancellationToken).ConfigureAwait(false);
                    }
                }
                foreach (var end in ends)
                {
                    end.TrySetResult();
                }
                batch.Clear();
                ends.Clear();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Nothing in hand was acknowledged: the forwarders send it again to the next listener.
        }
    }

    /// <summary>Takes what is queued; waits a little for more unless a batch end is in hand and the queue is empty.</summary>
    private static async Task FillAsync(ChannelReader<Queued> reader, List<IngestLine> batch, List<TaskCompletionSource> ends, CancellationToken cancellationToken)
    {
        using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        window.CancelAfter(EventIngester.FlushInterval);
        while (batch.Count < EventIngester.BatchSize)
        {
            while (batch.Count < EventIngester.BatchSize && reader.TryRead(out var item))
            {
                if (item.Line is { } line)
                {
                    batch.Add(line);
                }
                if (item.Committed is { } end)
                {
                    ends.Add(end);
                }
            }
            if (batch.Count >= EventIngester.BatchSize || ends.Count > 0)
            {
                return;
            }
            try
            {
                if (!await reader.WaitToReadAsync(window.Token).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private readonly record struct Queued(IngestLine? Line, TaskCompletionSource? Committed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Swarm log listener on {Endpoint} (RFC 5425, mutual TLS)")]
    private static partial void LogListening(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {Worker} connected from {Remote} to ship logs")]
    private static partial void LogConnected(ILogger logger, string worker, string remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused log shipping from {Remote}: certificate {Fingerprint} belongs to no live swarm host")]
    private static partial void LogRefused(ILogger logger, string remote, string fingerprint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {Worker} is no longer a live swarm host; its log connection is closed")]
    private static partial void LogRevokedWhileConnected(ILogger logger, string worker);

    [LoggerMessage(Level = LogLevel.Information, Message = "Log shipping connection from {Remote} dropped: {Reason}")]
    private static partial void LogDropped(ILogger logger, string remote, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Log shipping connection from {Remote} failed")]
    private static partial void LogConnectionFailed(ILogger logger, Exception exception, string remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Accepting a log shipping connection failed: {Reason}")]
    private static partial void LogAcceptFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing {Count} shipped line(s) failed; retrying")]
    private static partial void LogIngestFailed(ILogger logger, Exception exception, int count);
}
