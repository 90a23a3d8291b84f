namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// The stream a service sees. Every read restarts the idle clock and counts against the session's byte
/// cap; once the cap is reached the session is cut and reads return end-of-stream, so a parser that keeps
/// reading simply sees the attacker hang up. Writes are bounded by the session token. A connection the
/// attacker reset reads as end-of-stream too; a write into it still throws, and <see cref="PeerGone"/>
/// tells the host that the session ended because the attacker left, not because the service failed.
/// Side channels of the session (an FTP data connection) share the same count through
/// <see cref="CreateSideChannel"/>.
/// </summary>
public sealed class BoundedSessionStream : Stream
{
    private readonly Stream _inner;
    private readonly SessionGuard _guard;
    private readonly ByteCounters _counters;
    private readonly bool _sideChannel;
    private int _peerGone;

    /// <summary>True once the transport failed under a read or a write: the attacker reset or vanished.</summary>
    public bool PeerGone => Volatile.Read(ref _peerGone) == 1;

    /// <summary>Bytes in and out of one session, shared by its main stream and its side channels.</summary>
    private sealed class ByteCounters(long maxBytesIn)
    {
        public long MaxIn { get; } = maxBytesIn;
        public long In;
        public long Out;
    }

    public BoundedSessionStream(Stream inner, SessionGuard guard, long maxBytesIn)
        : this(inner, guard, new ByteCounters(maxBytesIn), sideChannel: false)
    {
    }

    private BoundedSessionStream(Stream inner, SessionGuard guard, ByteCounters counters, bool sideChannel)
    {
        _inner = inner;
        _guard = guard;
        _counters = counters;
        _sideChannel = sideChannel;
    }

    /// <summary>Bytes read by the session, side channels included.</summary>
    public long BytesIn => Interlocked.Read(ref _counters.In);

    public long BytesOut => Interlocked.Read(ref _counters.Out);

    public SessionGuard Guard => _guard;

    /// <summary>A side channel whose reads stopped because the session's byte cap was reached.</summary>
    public bool ReachedCap { get; private set; }

    /// <summary>
    /// Wraps another connection of the same session (an FTP data connection): its reads count against
    /// this session's cap and keep it from going idle. At the cap a side channel returns end-of-stream and
    /// sets <see cref="ReachedCap"/> without cutting the session at once, so the service can still report
    /// what it received; the session's next read then cuts it.
    /// </summary>
    public BoundedSessionStream CreateSideChannel(Stream inner) => new(inner, _guard, _counters, sideChannel: true);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_guard.IsCut || buffer.IsEmpty)
        {
            return 0;
        }
        // Claim the bytes before reading, so concurrent reads of the session and its side channels
        // together never pass the cap.
        long claim;
        while (true)
        {
            var used = Interlocked.Read(ref _counters.In);
            var remaining = _counters.MaxIn - used;
            if (remaining <= 0)
            {
                if (_sideChannel)
                {
                    ReachedCap = true;
                }
                else
                {
                    _guard.Cut(SessionEndReason.ByteCap);
                }
                return 0;
            }
            claim = Math.Min(buffer.Length, remaining);
            if (Interlocked.CompareExchange(ref _counters.In, used + claim, used) == used)
            {
                break;
            }
        }
        buffer = buffer[..(int)claim];
        var read = 0;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _guard.Token);
            read = await _inner.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (_guard.IsCut && ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The guard closed the socket under us: present it as the attacker hanging up.
            return 0;
        }
        catch (IOException) when (!_sideChannel)
        {
            // Reset by the peer: to a parser that is the attacker hanging up.
            Volatile.Write(ref _peerGone, 1);
            return 0;
        }
        finally
        {
            Interlocked.Add(ref _counters.In, read - claim);
        }
        if (read > 0)
        {
            _guard.Touch();
        }
        return read;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_guard.IsCut)
        {
            throw new IOException("The session was cut.");
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _guard.Token);
        try
        {
            await _inner.WriteAsync(buffer, linked.Token).ConfigureAwait(false);
        }
        catch (IOException) when (!_sideChannel && !_guard.IsCut)
        {
            // Broken pipe or reset: the attacker left while we answered.
            Volatile.Write(ref _peerGone, 1);
            throw;
        }
        Interlocked.Add(ref _counters.Out, buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    // Synchronous I/O would pin a thread per session: services use the async API only.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush() => _inner.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
