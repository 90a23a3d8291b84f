namespace Decnet.Core.Honeypots.Ssh;

/// <summary>What runs behind a session channel: a shell, one exec, an scp sink or the sftp subsystem.</summary>
public interface ISshChannelHandler : IAsyncDisposable
{
    Task StartAsync(CancellationToken cancellationToken);

    Task OnDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    Task OnEofAsync(CancellationToken cancellationToken);

    void OnWindowChange(int columns, int rows)
    {
    }
}

/// <summary>
/// One session channel (RFC 4254 §5): both flow-control windows, pty facts, and an output queue that
/// waits for WINDOW_ADJUST instead of overrunning the client. The queue is bounded; output past it is
/// dropped, since it is synthetic anyway.
/// </summary>
public sealed class SshChannel(Func<byte[], CancellationToken, Task> send, uint localId, uint remoteId, uint remoteWindow, uint remoteMaxPacket)
{
    /// <summary>OpenSSH's session window (64 × 32 KiB) and maximum packet.</summary>
    public const uint InitialWindow = 2 * 1024 * 1024;
    public const uint MaxPacket = 32 * 1024;
    private const int MaxPendingBytes = 1024 * 1024;

    private readonly Queue<byte[]> _pending = new();
    private int _pendingBytes;
    private int? _exitStatus;
    private bool _finishRequested;
    private bool _eofSent;

    public uint LocalId { get; } = localId;
    public uint RemoteId { get; } = remoteId;
    public long RemoteWindow { get; private set; } = remoteWindow;
    public uint RemoteMaxPacket { get; } = Math.Clamp(remoteMaxPacket, 64u, MaxPacket);
    public long LocalWindow { get; set; } = InitialWindow;
    public bool HasPty { get; set; }
    public string Term { get; set; } = "dumb";
    public int Columns { get; set; } = 80;
    public int Rows { get; set; } = 24;
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);
    public ISshChannelHandler? Handler { get; set; }
    public bool CloseSent { get; private set; }

    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (CloseSent || _finishRequested || data.Length == 0)
        {
            return Task.CompletedTask;
        }
        if (_pendingBytes + data.Length <= MaxPendingBytes)
        {
            _pending.Enqueue(data.ToArray());
            _pendingBytes += data.Length;
        }
        return FlushAsync(cancellationToken);
    }

    /// <summary>Sends exit-status, EOF and CLOSE once all queued output has been delivered.</summary>
    public Task FinishAsync(int? exitStatus, CancellationToken cancellationToken)
    {
        if (_finishRequested)
        {
            return Task.CompletedTask;
        }
        _finishRequested = true;
        _exitStatus = exitStatus;
        return FlushAsync(cancellationToken);
    }

    public Task AdjustWindowAsync(uint bytes, CancellationToken cancellationToken)
    {
        RemoteWindow = Math.Min(uint.MaxValue, RemoteWindow + bytes);
        return FlushAsync(cancellationToken);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (_pending.Count > 0 && RemoteWindow > 0 && !CloseSent)
        {
            var chunk = _pending.Peek();
            var take = (int)Math.Min(Math.Min(chunk.Length, RemoteWindow), RemoteMaxPacket);
            var packet = new SshWriter(take + 16).Byte(SshMessage.ChannelData).UInt32(RemoteId).Binary(chunk.AsSpan(0, take)).ToArray();
            _pending.Dequeue();
            if (take < chunk.Length)
            {
                // Put the remainder back at the head of the queue.
                var rest = chunk[take..];
                var others = _pending.ToArray();
                _pending.Clear();
                _pending.Enqueue(rest);
                foreach (var other in others)
                {
                    _pending.Enqueue(other);
                }
            }
            _pendingBytes -= take;
            RemoteWindow -= take;
            await send(packet, cancellationToken).ConfigureAwait(false);
        }
        if (_finishRequested && _pending.Count == 0 && !CloseSent)
        {
            if (_exitStatus is { } status)
            {
                await send(new SshWriter().Byte(SshMessage.ChannelRequest).UInt32(RemoteId).String("exit-status").Boolean(false).UInt32((uint)status).ToArray(), cancellationToken).ConfigureAwait(false);
            }
            await SendEofAsync(cancellationToken).ConfigureAwait(false);
            await CloseAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task SendEofAsync(CancellationToken cancellationToken)
    {
        if (!_eofSent && !CloseSent)
        {
            _eofSent = true;
            await send(new SshWriter().Byte(SshMessage.ChannelEof).UInt32(RemoteId).ToArray(), cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (!CloseSent)
        {
            CloseSent = true;
            await send(new SshWriter().Byte(SshMessage.ChannelClose).UInt32(RemoteId).ToArray(), cancellationToken).ConfigureAwait(false);
        }
    }
}
