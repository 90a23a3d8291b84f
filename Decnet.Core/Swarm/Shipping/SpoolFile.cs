using System.Security.Cryptography;

namespace Decnet.Core.Swarm.Shipping;

/// <summary>
/// Reads the worker's event spool (<c>{log-directory}/decnet.log</c>, RFC 5424 lines appended by the
/// agent) in batches of complete lines. A file is identified by a hash of its first line, so a rotated
/// or recreated spool is noticed even when it has already grown past the old offset; a file shorter
/// than the saved offset was truncated. Either way reading starts again at byte 0.
/// </summary>
public static class SpoolFile
{
    /// <summary>How much of the beginning identifies the file when its first line is longer.</summary>
    public const int IdentityBytes = 4096;

    /// <summary>
    /// Up to <paramref name="maxLines"/> complete lines after the checkpoint. A line is its bytes up to
    /// and including LF; a run of <paramref name="maxLineBytes"/> bytes without LF is cut there (the same
    /// cut on every read, since the file only grows). An unterminated tail is left for the next poll.
    /// </summary>
    public static SpoolBatch Read(string path, ForwarderCheckpoint checkpoint, int maxLines = ShippingProtocol.MaxBatchLines, int maxLineBytes = ShippingProtocol.MaxLineBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLines, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineBytes, 2);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return SpoolBatch.Empty(checkpoint);
        }
        using (stream)
        {
            var handle = stream.SafeFileHandle;
            var length = RandomAccess.GetLength(handle);
            var fileId = Identify(handle, length);
            if (fileId is null)
            {
                return SpoolBatch.Empty(checkpoint);
            }
            var reset = checkpoint.FileId != fileId || checkpoint.Offset > length;
            var start = reset ? 0 : checkpoint.Offset;

            var lines = new List<byte[]>();
            var buffer = new byte[Math.Max(maxLineBytes, 64 * 1024)];
            var position = start;
            while (lines.Count < maxLines && position < length)
            {
                var read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - position)), position);
                if (read == 0)
                {
                    break;
                }
                var chunk = buffer.AsSpan(0, read);
                var consumed = 0;
                while (lines.Count < maxLines)
                {
                    var rest = chunk[consumed..];
                    var window = rest[..Math.Min(rest.Length, maxLineBytes)];
                    var lf = window.IndexOf((byte)'\n');
                    if (lf >= 0)
                    {
                        lines.Add(window[..(lf + 1)].ToArray());
                        consumed += lf + 1;
                    }
                    else if (window.Length == maxLineBytes)
                    {
                        lines.Add(window.ToArray());
                        consumed += maxLineBytes;
                    }
                    else
                    {
                        break;
                    }
                }
                if (consumed == 0)
                {
                    // The chunk is at least one maximum line long, so this is an unfinished last line.
                    break;
                }
                position += consumed;
            }
            return new SpoolBatch(fileId, start, position, lines, reset && (checkpoint.FileId is not null || checkpoint.Offset > 0));
        }
    }

    /// <summary>Hex SHA-256 (first 16 bytes) of the first line, or of the first <see cref="IdentityBytes"/>; null while neither is complete.</summary>
    public static string? Identify(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long length)
    {
        var head = new byte[(int)Math.Min(length, IdentityBytes)];
        var read = RandomAccess.Read(handle, head, 0);
        var span = head.AsSpan(0, read);
        var lf = span.IndexOf((byte)'\n');
        if (lf >= 0)
        {
            span = span[..(lf + 1)];
        }
        else if (read < IdentityBytes)
        {
            return null;
        }
        return Convert.ToHexStringLower(SHA256.HashData(span).AsSpan(0, 16));
    }
}

/// <summary>
/// Lines read from the spool: <see cref="Lines"/> occupy bytes [<see cref="Start"/>, <see cref="End"/>) of
/// file <see cref="FileId"/>. <see cref="Reset"/> says the saved position no longer applied (rotation, truncation).
/// </summary>
public sealed record SpoolBatch(string? FileId, long Start, long End, IReadOnlyList<byte[]> Lines, bool Reset)
{
    public static SpoolBatch Empty(ForwarderCheckpoint checkpoint) => new(checkpoint.FileId, checkpoint.Offset, checkpoint.Offset, [], false);

    public BatchHeader Header => new(FileId ?? throw new InvalidOperationException("an empty spool has no batch"), Start, Lines.Count);
}
