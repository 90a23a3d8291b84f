using System.Globalization;
using System.Text;

namespace Decnet.Core.Swarm.Shipping;

/// <summary>
/// How far the master has acknowledged the spool: file identity and byte offset, kept in
/// <c>{state-dir}/forwarder.offset</c> as one line. Written atomically (temporary file, flushed to disk,
/// renamed over the old one), and only after the master's ack: a crash between send and save resends
/// a batch the master then recognises, never skips one.
/// </summary>
public sealed record ForwarderCheckpoint(string? FileId, long Offset)
{
    public const string FileName = "forwarder.offset";

    public static readonly ForwarderCheckpoint Start = new(null, 0);

    /// <summary>The saved checkpoint; the start when there is none or it cannot be read (resending is harmless).</summary>
    public static ForwarderCheckpoint Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.ASCII);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Start;
        }
        var parts = text.Trim().Split(' ');
        return parts.Length == 2
            && ShippingProtocol.IsFileId(parts[0])
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
                ? new ForwarderCheckpoint(parts[0], offset)
                : Start;
    }

    public void Save(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{FileId} {Offset}\n")));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
