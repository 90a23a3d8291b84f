using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Decnet.Core.Honeypots.Events;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// Accepts TCP connections for one service on one endpoint and runs each as an independent async
/// session under its <see cref="SessionGuard"/>. Connections beyond the service's concurrency limit or the
/// host's <see cref="ISessionAdmitter"/> (per source address, per decky, per host) are reset at once and
/// counted, never queued: a flood must not build a backlog of attacker sockets.
/// </summary>
internal sealed class TcpServiceListener : IServiceListener
{
    private readonly Socket _socket;
    private readonly HostedServiceBinding _binding;
    private readonly ILogger _logger;
    private readonly string _decky;
    private readonly ISessionAdmitter _admission;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Guid, SessionGuard> _sessions = new();
    private Task _acceptLoop = Task.CompletedTask;
    private int _active;
    private long _accepted;
    private long _rejected;
    private long _faulted;

    private readonly ServicePort _port;

    public TcpServiceListener(Socket socket, HostedServiceBinding binding, ServicePort port, ILogger logger, string decky, ISessionAdmitter admission)
    {
        _socket = socket;
        _binding = binding;
        _port = port;
        _logger = logger;
        _decky = decky;
        _admission = admission;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }

    private ServiceContext Context => _binding.Service.Context;

    public void Start() => _acceptLoop = Task.Run(AcceptLoopAsync);

    public ListenerStatistics Snapshot() => new(
        _binding.ServiceName, EndPoint, ServiceTransport.Tcp, Volatile.Read(ref _active),
        Interlocked.Read(ref _accepted), Interlocked.Read(ref _rejected), Interlocked.Read(ref _faulted), 0);

    private async Task AcceptLoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                // Per-connection accept errors (a peer that reset during the handshake, fd pressure)
                // must not end the listener.
                _logger.LogDebug(ex, "{Decky}/{Service}: accept failed on {EndPoint}", Context.DeckyName, _binding.ServiceName, EndPoint);
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            if (Interlocked.Increment(ref _active) > Context.Limits.MaxConcurrentSessions)
            {
                Interlocked.Decrement(ref _active);
                Interlocked.Increment(ref _rejected);
                Reset(client);
                continue;
            }
            IPAddress source;
            try
            {
                source = ((IPEndPoint)client.RemoteEndPoint!).Address;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                Interlocked.Decrement(ref _active);
                client.Dispose();
                continue;
            }
            ValueTask<SessionAdmit> admitting;
            try
            {
                admitting = _admission.AdmitAsync(_decky, source, token);
            }
            catch (OperationCanceledException)
            {
                Refuse(client);
                break;
            }
            if (admitting.IsCompletedSuccessfully)
            {
                // The local counts answer at once: no task per refused connection of a flood.
                Admitted(client, admitting.Result);
            }
            else
            {
                // A shared admission service answers over its socket: the accept loop moves on meanwhile.
                var pending = admitting.AsTask();
                _ = Task.Run(() => AdmitWhenAnsweredAsync(client, source, pending), CancellationToken.None);
            }
        }
    }

    private void Admitted(Socket client, SessionAdmit admit)
    {
        if (!admit.Admitted || _stopping.IsCancellationRequested)
        {
            // An answer that arrives after the listener stopped is not served: nothing would cut the session.
            admit.Lease?.Dispose();
            Refuse(client);
            return;
        }
        Interlocked.Increment(ref _accepted);
        _ = Task.Run(() => RunAdmittedAsync(client, admit.Lease), CancellationToken.None);
    }

    private async Task AdmitWhenAnsweredAsync(Socket client, IPAddress source, Task<SessionAdmit> pending)
    {
        SessionAdmit admit;
        try
        {
            admit = await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Only a stopping host cancels an admission; anything else is logged, and the connection is not served.
            if (ex is not OperationCanceledException)
            {
                _logger.LogWarning(ex, "{Decky}/{Service}: admission failed for {Source}", Context.DeckyName, _binding.ServiceName, source);
            }
            Refuse(client);
            return;
        }
        Admitted(client, admit);
    }

    private void Refuse(Socket client)
    {
        Interlocked.Decrement(ref _active);
        Interlocked.Increment(ref _rejected);
        Reset(client);
    }

    private static void Reset(Socket client)
    {
        try
        {
            client.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // The peer is already gone: disposing is all that is left.
        }
        client.Dispose();
    }

    private async Task RunAdmittedAsync(Socket client, IDisposable? lease)
    {
        try
        {
            await RunSessionAsync(client).ConfigureAwait(false);
        }
        finally
        {
            lease?.Dispose();
        }
    }

    private async Task RunSessionAsync(Socket client)
    {
        IPEndPoint remote;
        IPEndPoint local;
        try
        {
            remote = (IPEndPoint)client.RemoteEndPoint!;
            local = (IPEndPoint)client.LocalEndPoint!;
            client.NoDelay = true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            client.Dispose();
            Interlocked.Decrement(ref _active);
            return;
        }

        using var guard = new SessionGuard(Context.Limits, Context.Time, () => Abort(client), _stopping.Token);
        var stream = new BoundedSessionStream(new NetworkStream(client, ownsSocket: true), guard, Context.Limits.MaxBytesPerSession);
        var connection = new HoneypotConnection(Context, _binding.ServiceName, stream, remote, local) { Session = guard, ServicePort = _port };
        _sessions[connection.SessionId] = guard;
        try
        {
            if (!_binding.Service.PublishesConnect)
            {
                connection.Emit("connect", ("dst_port", local.Port.ToString(CultureInfo.InvariantCulture)));
            }
            await _binding.Service.HandleConnectionAsync(connection, guard.Token).ConfigureAwait(false);
            guard.MarkEnded(SessionEndReason.Closed);
        }
        catch (Exception) when (guard.IsCut)
        {
            // A limit or the host cut the session; the service noticing it late is expected.
        }
        catch (Exception ex) when ((stream.PeerGone || PeerLeft(ex)) && guard.MarkEnded(SessionEndReason.Closed))
        {
            // The attacker reset the connection while the service read or wrote (or under a wrapping TLS stream): a hang-up, not a fault.
        }
        catch (Exception ex) when (guard.MarkEnded(SessionEndReason.Fault))
        {
            Interlocked.Increment(ref _faulted);
            _logger.LogWarning(ex, "{Decky}/{Service}: session from {Remote} faulted", Context.DeckyName, _binding.ServiceName, remote);
        }
        catch (Exception)
        {
            // A cut raced the failure: the cut's reason is the truth, the exception its consequence.
        }
        finally
        {
            _sessions.TryRemove(connection.SessionId, out _);
            var reason = guard.EndReason;
            var duration = Context.Time.GetUtcNow() - connection.StartedAt;
            try
            {
                connection.Emit(
                    "disconnect",
                    null,
                    reason is SessionEndReason.Closed or SessionEndReason.HostStopped ? EventSeverity.Informational : EventSeverity.Notice,
                    [
                        ("reason", reason.ToWire()),
                        ("duration_ms", ((long)duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)),
                        ("bytes_in", stream.BytesIn.ToString(CultureInfo.InvariantCulture)),
                        ("bytes_out", stream.BytesOut.ToString(CultureInfo.InvariantCulture)),
                        .. connection.DisconnectDetails(),
                    ]);
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "{Decky}/{Service}: could not publish disconnect", Context.DeckyName, _binding.ServiceName);
            }
            Close(client, graceful: !guard.IsCut);
            await stream.DisposeAsync().ConfigureAwait(false);
            Interlocked.Decrement(ref _active);
        }
    }

    /// <summary>A reset, abort or broken pipe from the peer, however deep the stream layers wrapped it.</summary>
    internal static bool PeerLeft(Exception ex)
    {
        for (var current = ex; current is not null; current = current.InnerException)
        {
            if (current is SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown })
            {
                return true;
            }
        }
        return false;
    }

    private static void Abort(Socket client)
    {
        try
        {
            client.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed by the peer or by the session's end.
        }
        client.Dispose();
    }

    private static void Close(Socket client, bool graceful)
    {
        if (graceful)
        {
            try
            {
                DropUnread(client);
                // FIN after the last reply, so a client reading a final "221 Bye" still gets it.
                client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Peer already gone.
            }
        }
        client.Dispose();
    }

    /// <summary>
    /// Closing a socket with unread bytes makes the kernel send RST instead of FIN, and a RST can destroy a
    /// reply the client has not read yet (a 400 to a scanner's probe, a final "221 Bye"). What has already
    /// arrived is read and dropped first, bounded; it never waits for more.
    /// </summary>
    private static void DropUnread(Socket client)
    {
        Span<byte> scratch = stackalloc byte[4096];
        for (var budget = 64 * 1024; budget > 0 && client.Available > 0;)
        {
            var read = client.Receive(scratch[..Math.Min(scratch.Length, budget)], SocketFlags.None);
            if (read <= 0)
            {
                return;
            }
            budget -= read;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        foreach (var guard in _sessions.Values)
        {
            guard.Cut(SessionEndReason.HostStopped);
        }
    }

    public async Task WaitForSessionsAsync(TimeSpan grace)
    {
        var deadline = DateTime.UtcNow + grace;
        while (Volatile.Read(ref _active) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20).ConfigureAwait(false);
        }
        _stopping.Dispose();
    }
}
