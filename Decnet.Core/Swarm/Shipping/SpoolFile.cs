using System.Security.Cryptography;

namespace Decnet.Core.Swarm.Shipping;

/// <summary>
/// Reads the worker's event spool (<c>{log-directory}/decnet.log</c>, RFC 5424 lines appended by the
/// agent) in batches of complete lines. A file is identified by a hash of its first line. The agent rotates
/// the spool at a size limit (<c>decnet.log</c> → <c>decnet.log.1</c> → <c>.2</c> ...), so the checkpoint's
/// file is looked for among those generations: its rest is read first, then the next newer generation
/// from its start, and so on; nothing written before a rotation is skipped as long as the generation is
/// still kept. A checkpoint whose file is gone (replaced, or rotated past the kept generations) or a
/// current file shorter than the saved offset (truncated) means reading again from the oldest start.
/// </summary>
public static class SpoolFile
{
    /// <summary>How much of the beginning identifies the file when its first line is longer.</summary>
    public const int IdentityBytes = 4096;

    /// <summary>The most rotated generations looked at (<c>decnet.log.1</c> ... <c>.100</c>).</summary>
    public const int MaxGenerations = 100;

    /// <summary>The name of generation <paramref name="generation"/>: 0 is the file being written, 1 the last rotated one.</summary>
    public static string GenerationPath(string path, int generation) =>
        generation == 0 ? path : path + "." + generation.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Up to <paramref name="maxLines"/> complete lines after the checkpoint. A line is its bytes up to
    /// and including LF; a run of <paramref name="maxLineBytes"/> bytes without LF is cut there (the same
    /// cut on every read, since the file only grows). An unterminated tail is left for the next poll.
    /// </summary>
    public static SpoolBatch Read(string path, ForwarderCheckpoint checkpoint, int maxLines = ShippingProtocol.MaxBatchLines, int maxLineBytes = ShippingProtocol.MaxLineBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLines, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineBytes, 2);
        var generations = Enumerable.Range(0, MaxGenerations + 1).Select(g => GenerationPath(path, g)).TakeWhile((p, g) => g == 0 || File.Exists(p)).ToList();
        if (checkpoint.FileId is not null)
        {
            for (var g = 0; g < generations.Count; g++)
            {
                using var file = OpenOrNull(generations[g]);
                if (file is null || file.Id != checkpoint.FileId)
                {
                    continue;
                }
                var truncated = checkpoint.Offset > file.Length;
                var batch = ReadFrom(file, truncated ? 0 : checkpoint.Offset, maxLines, maxLineBytes, truncated);
                if (g == 0 || batch.Lines.Count > 0)
                {
                    return batch;
                }
                // This rotated generation was read to its end: go on with the next newer one. It is the
                // right one only if no rotation moved this file since the listing, checked after opening it.
                using var newer = OpenOrNull(generations[g - 1]);
                using var again = OpenOrNull(generations[g]);
                if (newer is null || again?.Id != checkpoint.FileId)
                {
                    return SpoolBatch.Empty(checkpoint);
                }
                return ReadFrom(newer, 0, maxLines, maxLineBytes, reset: false);
            }
        }
        // No checkpoint yet, or its file is gone: everything still kept, oldest first.
        for (var g = generations.Count - 1; g >= 0; g--)
        {
            using var file = OpenOrNull(generations[g]);
            if (file is not null)
            {
                return ReadFrom(file, 0, maxLines, maxLineBytes, reset: checkpoint.FileId is not null || checkpoint.Offset > 0);
            }
        }
        return SpoolBatch.Empty(checkpoint);
    }

    /// <summary>One spool generation, opened so the writer may keep appending, renaming or deleting it.</summary>
    private sealed class OpenSpool(FileStream stream, long length, string id) : IDisposable
    {
        public Microsoft.Win32.SafeHandles.SafeFileHandle Handle => stream.SafeFileHandle;
        public long Length { get; } = length;
        public string Id { get; } = id;

        public void Dispose() => stream.Dispose();
    }

    /// <summary>The file with its identity; null when it is missing or has no complete first line yet.</summary>
    private static OpenSpool? OpenOrNull(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        var length = RandomAccess.GetLength(stream.SafeFileHandle);
        if (Identify(stream.SafeFileHandle, length) is not { } id)
        {
            stream.Dispose();
            return null;
        }
        return new OpenSpool(stream, length, id);
    }

    private static SpoolBatch ReadFrom(OpenSpool file, long start, int maxLines, int maxLineBytes, bool reset)
    {
        var lines = new List<byte[]>();
        var buffer = new byte[Math.Max(maxLineBytes, 64 * 1024)];
        var position = start;
        var length = file.Length;
        while (lines.Count < maxLines && position < length)
        {
            var read = RandomAccess.Read(file.Handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - position)), position);
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
        return new SpoolBatch(file.Id, start, position, lines, reset);
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
