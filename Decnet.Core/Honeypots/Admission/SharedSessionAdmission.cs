using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Honeypots.Admission;

/// <summary>
/// The admission a service container uses: each accepted session asks the host's
/// <see cref="AdmissionServer"/> (one round trip on one pipelined connection) and gives its lease back when
/// it ends. A decky must keep serving when the socket is missing or its owner restarts, so then the
/// container's own <see cref="SessionAdmission"/> decides, this is logged once per outage, and the socket
/// is tried again at most every <see cref="RetryInterval"/>.
/// </summary>
public sealed class SharedSessionAdmission : ISessionAdmitter, IAsyncDisposable
{
    private readonly string _socketPath;
    private readonly SessionAdmission _fallback;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private Connection? _connection;
    private long _nextAttempt;
    private int _fallbackLogged;
    private int _disposed;

    public SharedSessionAdmission(string socketPath, SessionAdmission fallback, ILogger logger, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(socketPath);
        ArgumentNullException.ThrowIfNull(fallback);
        ArgumentNullException.ThrowIfNull(logger);
        _socketPath = socketPath;
        _fallback = fallback;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>True while sessions are admitted by the shared service.</summary>
    public bool Shared => _connection is { IsOpen: true };

    public async ValueTask<SessionAdmit> AdmitAsync(string decky, IPAddress source, CancellationToken cancellationToken)
    {
        var connection = await ConnectedAsync(cancellationToken).ConfigureAwait(false);
        if (connection is not null)
        {
            try
            {
                var reply = await connection.RequestAsync(AdmissionProtocol.Acquire(decky, source), cancellationToken).ConfigureAwait(false);
                if (reply.StartsWith("OK ", StringComparison.Ordinal)
                    && long.TryParse(reply.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var lease))
                {
                    return new SessionAdmit(AdmissionRefusal.None, new RemoteLease(connection, lease, _logger));
                }
                if (reply.StartsWith("REFUSED ", StringComparison.Ordinal))
                {
                    return SessionAdmit.Refused(AdmissionProtocol.RefusalOf(reply[8..]));
                }
                _logger.LogWarning("Session admission at {Socket} answered '{Reply}'; this container admits on its own", _socketPath, reply);
                connection.Close();
            }
            catch (IOException)
            {
                // The host's service went away mid-request: fall through to the local counts.
            }
        }
        LogFallbackOnce();
        return await _fallback.AdmitAsync(decky, source, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<Connection?> ConnectedAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _connection);
        if (current is { IsOpen: true })
        {
            return current;
        }
        if (_time.GetTimestamp() < Interlocked.Read(ref _nextAttempt) || Volatile.Read(ref _disposed) == 1)
        {
            return null;
        }
        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = _connection;
            if (current is { IsOpen: true })
            {
                return current;
            }
            if (_time.GetTimestamp() < Interlocked.Read(ref _nextAttempt))
            {
                return null;
            }
            Interlocked.Exchange(ref _nextAttempt, _time.GetTimestamp() + (long)(RetryInterval.TotalSeconds * _time.TimestampFrequency));
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(_socketPath), cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                LogFallbackOnce(ex.Message);
                return null;
            }
            var connection = new Connection(socket);
            Volatile.Write(ref _connection, connection);
            if (Interlocked.Exchange(ref _fallbackLogged, 0) == 1)
            {
                _logger.LogInformation("Session admission at {Socket} is back: sessions are counted host-wide again", _socketPath);
            }
            return connection;
        }
        finally
        {
            _connecting.Release();
        }
    }

    private void LogFallbackOnce(string? why = null)
    {
        if (Interlocked.Exchange(ref _fallbackLogged, 1) == 0)
        {
            _logger.LogWarning("Session admission at {Socket} is unreachable ({Why}); this container admits sessions with its own counts until it is back",
                _socketPath, why ?? "connection lost");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        if (_connection is { } connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        _connecting.Dispose();
    }

    /// <summary>Gives its lease back once; a lease of a connection that ended was released by the server already.</summary>
    private sealed class RemoteLease(Connection connection, long lease, ILogger logger) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0 && connection.IsOpen)
            {
                _ = ReleaseAsync();
            }
        }

        private async Task ReleaseAsync()
        {
            try
            {
                var reply = await connection.RequestAsync(AdmissionProtocol.Release(lease), CancellationToken.None).ConfigureAwait(false);
                if (reply != "OK")
                {
                    logger.LogDebug("Admission release of lease {Lease}: {Reply}", lease, reply);
                }
            }
            catch (IOException)
            {
                // The connection ended, and with it every lease it held.
            }
        }
    }

    /// <summary>
    /// One socket to the server with requests pipelined: a request's reply is the next unanswered line, so
    /// a send and its place in the queue are taken under one lock, and one reader completes them in order.
    /// </summary>
    private sealed class Connection : IAsyncDisposable
    {
        private const int MaxPending = 4096;

        private readonly Socket _socket;
        private readonly NetworkStream _stream;
        private readonly SemaphoreSlim _sending = new(1, 1);
        private readonly ConcurrentQueue<TaskCompletionSource<string>> _pending = new();
        private readonly CancellationTokenSource _closing = new();
        private readonly Task _reader;
        private int _closed;

        public Connection(Socket socket)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: true);
            _reader = Task.Run(ReadRepliesAsync);
        }

        public bool IsOpen => Volatile.Read(ref _closed) == 0;

        public async Task<string> RequestAsync(string request, CancellationToken cancellationToken)
        {
            var reply = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var bytes = Encoding.ASCII.GetBytes(request + "\n");
            try
            {
                await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                throw new IOException("The admission connection is closed.");
            }
            try
            {
                if (!IsOpen || _pending.Count >= MaxPending)
                {
                    throw new IOException("The admission connection is closed or overloaded.");
                }
                _pending.Enqueue(reply);
                // Not cancellable: a half-written line would desynchronise every later reply.
                await _stream.WriteAsync(bytes, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
            {
                Close();
                throw ex as IOException ?? new IOException("The admission connection failed.", ex);
            }
            finally
            {
                _sending.Release();
            }
            return await reply.Task.ConfigureAwait(false);
        }

        private async Task ReadRepliesAsync()
        {
            var reader = new LineReader(_stream, AdmissionProtocol.MaxLineLength, Encoding.ASCII);
            try
            {
                while (true)
                {
                    var line = await reader.ReadLineAsync(_closing.Token).ConfigureAwait(false);
                    if (line.Status != LineStatus.Line || !_pending.TryDequeue(out var waiting))
                    {
                        break;
                    }
                    waiting.TrySetResult(line.Text);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Closed by either side.
            }
            Close();
        }

        public void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 1)
            {
                return;
            }
            _closing.Cancel();
            _stream.Dispose();
            while (_pending.TryDequeue(out var waiting))
            {
                waiting.TrySetException(new IOException("The admission connection closed."));
            }
        }

        public async ValueTask DisposeAsync()
        {
            Close();
            await _reader.ConfigureAwait(false);
            _closing.Dispose();
        }
    }
}
