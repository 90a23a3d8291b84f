using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;

namespace Decnet.Core.Swarm.Shipping;

/// <summary>
/// The forwarder's side of one mutual-TLS connection to the master's log listener: sends a batch as
/// RFC 5425 frames and waits for the master's acknowledgement that it is stored.
/// </summary>
public sealed class LogShippingConnection : IAsyncDisposable
{
    /// <summary>An ack is one short line; anything longer is a broken peer.</summary>
    private const int MaxAckBytes = 256;

    private readonly TcpClient _tcp;
    private readonly SslStream _tls;
    private readonly OctetCountingReader _reader;

    private LogShippingConnection(TcpClient tcp, SslStream tls)
    {
        _tcp = tcp;
        _tls = tls;
        _reader = new OctetCountingReader(tls, MaxAckBytes);
    }

    /// <summary>Connects and completes the TLS handshake (the options pin the master, see <c>PinnedTls</c>).</summary>
    public static async Task<LogShippingConnection> ConnectAsync(string host, int port, SslClientAuthenticationOptions tls, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var tcp = new TcpClient { NoDelay = true };
        SslStream? stream = null;
        try
        {
            await tcp.ConnectAsync(host, port, deadline.Token).ConfigureAwait(false);
            stream = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            await stream.AuthenticateAsClientAsync(tls, deadline.Token).ConfigureAwait(false);
            return new LogShippingConnection(tcp, stream);
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends the batch and returns once the master acknowledged exactly it.</summary>
    /// <exception cref="IOException">The connection broke, timed out or the master answered something else.</exception>
    public async Task SendBatchAsync(SpoolBatch batch, TimeSpan ackTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var output = new ArrayBufferWriter<byte>(4096);
        OctetCounting.WriteFrame(output, ShippingProtocol.FormatBatch(batch.Header));
        foreach (var line in batch.Lines)
        {
            OctetCounting.WriteFrame(output, line);
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ackTimeout);
        try
        {
            await _tls.WriteAsync(output.WrittenMemory, deadline.Token).ConfigureAwait(false);
            await _tls.FlushAsync(deadline.Token).ConfigureAwait(false);
            var frame = await _reader.ReadFrameAsync(deadline.Token).ConfigureAwait(false)
                ?? throw new IOException("the master closed the connection before acknowledging the batch");
            if (!ShippingProtocol.TryParseAck(frame, out var ack) || ack.FileId != batch.FileId || ack.End != batch.End)
            {
                throw new IOException("the master acknowledged something other than the batch sent");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"no acknowledgement within {ackTimeout.TotalSeconds:0.#} s");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _tls.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }
}
