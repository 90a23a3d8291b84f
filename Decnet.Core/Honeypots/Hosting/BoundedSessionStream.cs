namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// The stream a service sees. Every read restarts the idle clock and counts against the session's byte
/// cap; once the cap is reached the session is cut and reads return end-of-stream, so a parser that keeps
/// reading simply sees the attacker hang up. Writes are bounded by the session token. A connection the
/// attacker reset reads as end-of-stream too; a write into it still throws, and <see cref="PeerGone"/>
/// tells the host that the session ended because the attacker left, not because the service failed.
/// </summary>
public sealed class BoundedSessionStream(Stream inner, SessionGuard guard, long maxBytesIn) : Stream
{
    private long _bytesIn;
    private long _bytesOut;
    private int _peerGone;

    /// <summary>True once the transport failed under a read or a write: the attacker reset or vanished.</summary>
    public bool PeerGone => Volatile.Read(ref _peerGone) == 1;

    public long BytesIn => Interlocked.Read(ref _bytesIn);
    public long BytesOut => Interlocked.Read(ref _bytesOut);
    public SessionGuard Guard => guard;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (guard.IsCut || buffer.IsEmpty)
        {
            return 0;
        }
        var remaining = maxBytesIn - BytesIn;
        if (remaining <= 0)
        {
            guard.Cut(SessionEndReason.ByteCap);
            return 0;
        }
        if (buffer.Length > remaining)
        {
            buffer = buffer[..(int)remaining];
        }
        int read;
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, guard.Token))
        {
            try
            {
                read = await inner.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (guard.IsCut && ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // The guard closed the socket under us: present it as the attacker hanging up.
                return 0;
            }
            catch (IOException)
            {
                // Reset by the peer: to a parser that is the attacker hanging up.
                Volatile.Write(ref _peerGone, 1);
                return 0;
            }
        }
        if (read > 0)
        {
            Interlocked.Add(ref _bytesIn, read);
            guard.Touch();
        }
        return read;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (guard.IsCut)
        {
            throw new IOException("The session was cut.");
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, guard.Token);
        try
        {
            await inner.WriteAsync(buffer, linked.Token).ConfigureAwait(false);
        }
        catch (IOException) when (!guard.IsCut)
        {
            // Broken pipe or reset: the attacker left while we answered.
            Volatile.Write(ref _peerGone, 1);
            throw;
        }
        Interlocked.Add(ref _bytesOut, buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    // Synchronous I/O would pin a thread per session: services use the async API only.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush() => inner.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
