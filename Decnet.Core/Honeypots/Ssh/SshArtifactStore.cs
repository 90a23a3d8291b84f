using System.Globalization;
using System.Security.Cryptography;
using System.Text;
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
/// counted, so an attacker streaming gigabytes costs us a counter, not RAM.
/// </summary>
public sealed class BoundedUpload(long cap, UploadBudget budget)
{
    private readonly MemoryStream _data = new();
    private long _reserved;

    public long Size { get; private set; }
    public bool OverCap { get; private set; }

    public void Write(long offset, ReadOnlySpan<byte> bytes)
    {
        var end = offset + bytes.Length;
        Size = Math.Max(Size, end);
        if (OverCap || end > cap || (end > _reserved && !budget.TryReserve(end - _reserved)))
        {
            Discard();
            return;
        }
        _reserved = Math.Max(_reserved, end);
        _data.Position = offset;
        _data.Write(bytes);
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
/// <c>&lt;UTC yyyyMMddTHHmmssZ&gt;_&lt;first 12 hex of sha256&gt;_&lt;sanitised basename&gt;</c>, and reports
/// <c>file_captured</c> or, over the size cap, <c>file_skipped</c>.
/// </summary>
public sealed class SshArtifactStore(HoneypotConnection connection, long maxBytes)
{
    public long MaxBytes => maxBytes;

    public string Directory => Path.Combine(connection.Context.ArtifactsDirectory, SanitiseName(connection.Context.DeckyName), "ssh");

    public async Task<string?> StoreAsync(BoundedUpload upload, string originalPath, string user, string method, CancellationToken cancellationToken)
    {
        if (upload.OverCap)
        {
            connection.Emit("file_skipped", null, Events.EventSeverity.Notice,
                ("orig_path", originalPath), ("size", upload.Size.ToString(CultureInfo.InvariantCulture)),
                ("limit", maxBytes.ToString(CultureInfo.InvariantCulture)), ("ssh_user", user), ("method", method));
            return null;
        }
        var data = upload.ToArray();
        upload.Complete();
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(data));
        var stamp = connection.Context.Time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var name = $"{stamp}_{sha256[..12]}_{SanitiseName(Path.GetFileName(originalPath.TrimEnd('/')))}";
        System.IO.Directory.CreateDirectory(Directory);
        var path = Path.Combine(Directory, name);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using (var file = new FileStream(path, options))
        {
            await file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }
        connection.Emit("file_captured", null, Events.EventSeverity.Notice,
            ("stored_as", name), ("sha256", sha256), ("size", data.Length.ToString(CultureInfo.InvariantCulture)),
            ("orig_path", originalPath), ("ssh_user", user), ("method", method));
        return name;
    }

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
