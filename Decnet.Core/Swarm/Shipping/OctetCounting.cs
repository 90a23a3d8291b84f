using System.Buffers;
using System.Globalization;

namespace Decnet.Core.Swarm.Shipping;

/// <summary>
/// RFC 5425 octet-counting framing: <c>MSG-LEN SP SYSLOG-MSG</c>, MSG-LEN a decimal without leading
/// zero. The writer never produces anything else, and the reader accepts nothing else.
/// </summary>
public static class OctetCounting
{
    /// <summary>A length prefix longer than this is refused before any number is formed (RFC 5425 allows no more).</summary>
    public const int MaxLengthDigits = 10;

    /// <summary>Appends one frame (length, space, payload) to <paramref name="output"/>.</summary>
    public static void WriteFrame(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (payload.IsEmpty)
        {
            throw new ArgumentException("an RFC 5425 frame carries at least one octet", nameof(payload));
        }
        var prefix = output.GetSpan(MaxLengthDigits + 1);
        payload.Length.TryFormat(prefix, out var digits, default, CultureInfo.InvariantCulture);
        prefix[digits] = (byte)' ';
        output.Advance(digits + 1);
        output.Write(payload);
    }
}

/// <summary>The peer broke the framing: the connection is dropped, never resynchronised.</summary>
public sealed class FramingException(string message) : IOException(message);

/// <summary>
/// Reads RFC 5425 frames strictly and within bounds: at most <see cref="OctetCounting.MaxLengthDigits"/>
/// digits, no leading zero, a single space, and a payload no larger than the configured maximum. Any
/// deviation, or the stream ending inside a frame, throws <see cref="FramingException"/>; memory per
/// connection is one read buffer plus one frame.
/// </summary>
public sealed class OctetCountingReader(Stream stream, int maxFrameBytes)
{
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    public int MaxFrameBytes { get; } = maxFrameBytes > 0 ? maxFrameBytes : throw new ArgumentOutOfRangeException(nameof(maxFrameBytes));

    /// <summary>The next frame's payload, or null when the stream ended cleanly between frames.</summary>
    public async ValueTask<byte[]?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        long length = 0;
        var digits = 0;
        while (true)
        {
            if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                if (digits == 0)
                {
                    return null;
                }
                throw new FramingException("the stream ended inside a length prefix");
            }
            var b = _buffer[_start++];
            if (b == (byte)' ')
            {
                if (digits == 0)
                {
                    throw new FramingException("a frame must start with its length");
                }
                break;
            }
            if (b is < (byte)'0' or > (byte)'9')
            {
                throw new FramingException("the length prefix holds a non-digit");
            }
            if (digits == 0 && b == (byte)'0')
            {
                throw new FramingException("a frame length is at least 1 and has no leading zero");
            }
            if (++digits > OctetCounting.MaxLengthDigits)
            {
                throw new FramingException($"the length prefix is longer than {OctetCounting.MaxLengthDigits} digits");
            }
            length = (length * 10) + (b - '0');
        }
        if (length > MaxFrameBytes)
        {
            throw new FramingException($"a frame of {length} octets exceeds the limit of {MaxFrameBytes}");
        }

        var payload = new byte[(int)length];
        var filled = 0;
        while (filled < payload.Length)
        {
            if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new FramingException($"the stream ended after {filled} of {payload.Length} octets of a frame");
            }
            var take = Math.Min(_end - _start, payload.Length - filled);
            _buffer.AsSpan(_start, take).CopyTo(payload.AsSpan(filled));
            _start += take;
            filled += take;
        }
        return payload;
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        _start = 0;
        _end = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
        return _end > 0;
    }
}
