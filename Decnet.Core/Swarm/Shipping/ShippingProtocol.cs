using System.Globalization;
using System.Text;

namespace Decnet.Core.Swarm.Shipping;

/// <summary>
/// The small extension that makes shipping exactly-once on top of RFC 5425. Every frame is an RFC 5425
/// frame; a frame starting with <c>@</c> is a control frame (a syslog message always starts with <c>&lt;</c>):
/// <list type="bullet">
/// <item>forwarder → master: <c>@decnet-batch 1 FILE START COUNT</c>, then COUNT line frames. Each line
/// frame is exactly the bytes the line occupies in the spool file (its LF included), so the master
/// knows every line's byte offset: START plus the lengths of the frames before it.</item>
/// <item>master → forwarder, once the batch is committed to the database: <c>@decnet-ack 1 FILE END</c>.</item>
/// </list>
/// The master keys each stored row by (worker, FILE, offset): a batch sent again after a crash of either
/// side collapses onto the rows already stored, and the forwarder moves its offset only after the ack.
/// Frames that are not inside a batch are taken as plain RFC 5425 (stored, never acknowledged).
/// </summary>
public static class ShippingProtocol
{
    public const string Version = "1";
    public const string BatchVerb = "@decnet-batch";
    public const string AckVerb = "@decnet-ack";

    /// <summary>Lines per batch, on both sides (upstream's figure).</summary>
    public const int MaxBatchLines = 500;

    /// <summary>A spool line longer than this is cut into pieces of this size (and a frame may not exceed it).</summary>
    public const int MaxLineBytes = 64 * 1024;

    /// <summary>Longest file identity accepted (hex).</summary>
    public const int MaxFileIdLength = 64;

    public static bool IsControl(ReadOnlySpan<byte> frame) => frame.Length > 0 && frame[0] == (byte)'@';

    public static byte[] FormatBatch(BatchHeader header) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{BatchVerb} {Version} {header.FileId} {header.Start} {header.Count}"));

    public static byte[] FormatAck(BatchAck ack) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{AckVerb} {Version} {ack.FileId} {ack.End}"));

    public static bool TryParseBatch(ReadOnlySpan<byte> frame, out BatchHeader header)
    {
        header = default;
        if (!TrySplit(frame, BatchVerb, 5, out var parts)
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            || !int.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count is < 1 or > MaxBatchLines)
        {
            return false;
        }
        header = new BatchHeader(parts[2], start, count);
        return true;
    }

    public static bool TryParseAck(ReadOnlySpan<byte> frame, out BatchAck ack)
    {
        ack = default;
        if (!TrySplit(frame, AckVerb, 4, out var parts)
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var end))
        {
            return false;
        }
        ack = new BatchAck(parts[2], end);
        return true;
    }

    /// <summary>A file identity is lower-case hex, as <see cref="SpoolFile"/> computes it.</summary>
    public static bool IsFileId(string text) =>
        text.Length is > 0 and <= MaxFileIdLength && text.All(char.IsAsciiHexDigitLower);

    private static bool TrySplit(ReadOnlySpan<byte> frame, string verb, int count, out string[] parts)
    {
        parts = [];
        if (frame.Length > 256 || !Ascii.IsValid(frame))
        {
            return false;
        }
        parts = Encoding.ASCII.GetString(frame).Split(' ');
        return parts.Length == count && parts[0] == verb && parts[1] == Version && IsFileId(parts[2]);
    }
}

/// <summary>Announces COUNT line frames taken from file FILE starting at byte START.</summary>
public readonly record struct BatchHeader(string FileId, long Start, int Count);

/// <summary>The master committed every line of the batch that ends at byte END of file FILE.</summary>
public readonly record struct BatchAck(string FileId, long End);
