namespace Decnet.Core.Honeypots.Hosting;

/// <summary>Reads length-prefixed frames of binary protocols from an attacker's stream.</summary>
public static class FrameReader
{
    private const int FirstChunk = 16 * 1024;

    /// <summary>Fills <paramref name="buffer"/>; false when the peer hung up first.</summary>
    public static async Task<bool> ReadExactlyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }
            buffer = buffer[read..];
        }
        return true;
    }

    /// <summary>
    /// Reads a frame body of the <paramref name="length"/> the peer announced (already checked against the
    /// protocol's cap). The buffer grows with the bytes that actually arrive, so a header that claims a
    /// megabyte and then goes quiet costs a few kilobytes, not the megabyte. Null when the peer hung up.
    /// </summary>
    public static async Task<byte[]?> ReadFrameAsync(Stream stream, int length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var buffer = new byte[Math.Min(length, FirstChunk)];
        var filled = 0;
        while (filled < length)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(length, buffer.Length * 2L));
            }
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }
            filled += read;
        }
        return buffer;
    }
}
