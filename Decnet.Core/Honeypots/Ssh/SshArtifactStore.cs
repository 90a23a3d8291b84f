using System.Globalization;
using System.Text;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// Bytes of uploads one SSH connection may hold in memory at once, across all its open transfers,
/// so 32 parallel SFTP handles cannot multiply the per-file cap.
/// </summary>
public sealed class UploadBudget(long bytes)
{
    private long _available = bytes;

    public bool TryReserve(long count)
    {
        if (Interlocked.Add(ref _available, -count) >= 0)
        {
            return true;
        }
        Interlocked.Add(ref _available, count);
        return false;
    }

    public void Release(long count) => Interlocked.Add(ref _available, count);
}

/// <summary>
/// An upload being received: kept in memory up to the cap (and the connection's budget), then only
/// counted, so an attacker streaming gigabytes costs us a counter, not RAM. Only bytes actually received
/// count: a write must start at or before the current end of the data (no holes), so a one-byte write at
/// a huge offset is refused instead of becoming a zero-filled buffer.
/// </summary>
public sealed class BoundedUpload(long cap, UploadBudget budget)
{
    private readonly MemoryStream _data = new();
    private long _reserved;

    /// <summary>The end of the received data: every byte before it came from the attacker (or the file it replaced).</summary>
    public long Size { get; private set; }

    /// <summary>Bytes received for this upload, overwrites included.</summary>
    public long Received { get; private set; }

    public bool OverCap { get; private set; }

    /// <summary>Writes at <paramref name="offset"/>; false (nothing written) when it would leave a hole past <see cref="Size"/>.</summary>
    public bool Write(long offset, ReadOnlySpan<byte> bytes)
    {
        if (offset < 0 || offset > Size)
        {
            return false;
        }
        var end = offset + bytes.Length;
        Received += bytes.Length;
        Size = Math.Max(Size, end);
        if (OverCap || end > cap || (end > _reserved && !budget.TryReserve(end - _reserved)))
        {
            Discard();
            return true;
        }
        _reserved = Math.Max(_reserved, end);
        _data.Position = offset;
        _data.Write(bytes);
        return true;
    }

    public byte[] ToArray() => _data.ToArray();

    /// <summary>Drops the buffered bytes and returns them to the connection's budget.</summary>
    public void Discard()
    {
        OverCap = true;
        _data.SetLength(0);
        _data.Capacity = 0;
        budget.Release(_reserved);
        _reserved = 0;
    }

    /// <summary>Called once the upload has been stored: frees its share of the budget.</summary>
    public void Complete()
    {
        budget.Release(_reserved);
        _reserved = 0;
    }
}

/// <summary>
/// Stores uploaded files as artifacts under <c>&lt;ArtifactsDirectory&gt;/&lt;decky&gt;/ssh/</c>, named
/// <c>&lt;UTC yyyyMMddTHHmmssZ&gt;_&lt;first 12 hex of sha256&gt;_&lt;sanitised basename&gt;</c>, through
/// <see cref="ArtifactStore"/> (files per session, decky and host quotas), and reports
/// <c>file_captured</c> or <c>file_skipped</c> (over the size cap, a quota or the session's file count).
/// </summary>
public sealed class SshArtifactStore(HoneypotConnection connection, long maxBytes)
{
    public long MaxBytes => maxBytes;

    public string Directory => ArtifactStore.FolderFor(connection.Context, "ssh");

    public async Task<string?> StoreAsync(BoundedUpload upload, string originalPath, string user, string method, CancellationToken cancellationToken)
    {
        if (upload.OverCap)
        {
            connection.Emit("file_skipped", null, Events.EventSeverity.Notice,
                ("orig_path", originalPath), ("reason", ArtifactRefusal.SizeCap.ToWire()), ("size", upload.Size.ToString(CultureInfo.InvariantCulture)),
                ("limit", maxBytes.ToString(CultureInfo.InvariantCulture)), ("ssh_user", user), ("method", method));
            return null;
        }
        var data = upload.ToArray();
        upload.Complete();
        var capture = await ArtifactStore.SaveAsync(connection, "ssh", originalPath, data, cancellationToken,
            SanitiseName(Path.GetFileName(originalPath.TrimEnd('/')))).ConfigureAwait(false);
        ArtifactStore.Report(connection, capture, originalPath, ("ssh_user", user), ("method", method));
        return capture.Stored?.StoredAs;
    }

    /// <summary>Refuses an upload before any of it is buffered, when the session has used all its file slots.</summary>
    public void ReportSlotsExhausted(string originalPath, string user, string method) =>
        connection.Emit("file_skipped", null, Events.EventSeverity.Notice,
            ("orig_path", originalPath), ("reason", ArtifactRefusal.FilesPerSession.ToWire()),
            ("limit", connection.Context.Artifacts.Options.MaxFilesPerSession.ToString(CultureInfo.InvariantCulture)), ("ssh_user", user), ("method", method));

    /// <summary>Letters, digits, dot, dash and underscore only; no leading dots; at most 64 characters.</summary>
    public static string SanitiseName(string name)
    {
        var text = new StringBuilder();
        foreach (var c in name)
        {
            text.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }
        var result = text.ToString().TrimStart('.');
        if (result.Length > 64)
        {
            result = result[..64];
        }
        return result.Length == 0 ? "file" : result;
    }
}
