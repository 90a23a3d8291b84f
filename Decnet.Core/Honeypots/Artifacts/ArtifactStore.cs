using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Artifacts;

/// <summary>A file an attacker handed over, as stored.</summary>
public sealed record CapturedArtifact(string StoredAs, string FullPath, string Sha256, long Size, bool Truncated);

/// <summary>
/// What became of one capture: <see cref="Stored"/> when the bytes are on disk, otherwise the
/// <see cref="Refusal"/> that kept them off it. Hash and size describe what was received either way.
/// </summary>
public sealed record ArtifactCapture(CapturedArtifact? Stored, string Sha256, long Size, bool Truncated, ArtifactRefusal Refusal, long Limit)
{
    /// <summary>The fields of the <c>file_skipped</c> event that replaces a refused capture.</summary>
    public (string Key, string? Value)[] SkippedFields() =>
    [
        ("reason", Refusal.ToWire()),
        ("size", Size.ToString(CultureInfo.InvariantCulture)),
        ("sha256", Sha256),
        ("limit", Limit.ToString(CultureInfo.InvariantCulture)),
        ("truncated", Truncated ? "true" : null),
    ];
}

/// <summary>
/// Stores what attackers upload under <c>&lt;artifacts&gt;/&lt;decky&gt;/&lt;service&gt;/</c> named
/// <c>&lt;UTC yyyyMMddTHHmmssZ&gt;_&lt;first 12 hex of sha256&gt;_&lt;sanitised basename&gt;</c>. The name never
/// carries attacker-controlled path syntax; the size is capped while streaming; each session may store a
/// bounded number of files; and every byte is reserved from the decky's and the host's
/// <see cref="ArtifactQuota"/> before it is written. A refused capture is still hashed and measured (up
/// to the size cap) so its <c>file_skipped</c> event says what the attacker sent.
/// </summary>
public static class ArtifactStore
{
    private const int MaxBaseNameLength = 64;

    public static string FolderFor(ServiceContext context, string service) =>
        Path.Combine(context.ArtifactsDirectory, FolderName(context.DeckyName), FolderName(service));

    /// <summary>Copies at most <paramref name="maxBytes"/> from <paramref name="source"/>; a longer upload is stored truncated and flagged.</summary>
    public static Task<ArtifactCapture> SaveAsync(
        HoneypotConnection connection, string service, string originalPath, Stream source, long maxBytes, CancellationToken cancellationToken, string? baseName = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return SaveAsync(connection.Context, connection.TryClaimArtifactSlot(), service, originalPath, source, maxBytes, cancellationToken, baseName);
    }

    /// <summary>
    /// Stores a file of a connectionless service (a TFTP transfer is one file on its own port, bounded by
    /// the service's per-address limits): the decky's and the host's quota apply, no session slot does.
    /// </summary>
    public static Task<ArtifactCapture> SaveAsync(
        ServiceContext context, string service, string originalPath, Stream source, long maxBytes, CancellationToken cancellationToken, string? baseName = null) =>
        SaveAsync(context, slotClaimed: true, service, originalPath, source, maxBytes, cancellationToken, baseName);

    private static async Task<ArtifactCapture> SaveAsync(
        ServiceContext context, bool slotClaimed, string service, string originalPath, Stream source, long maxBytes, CancellationToken cancellationToken, string? baseName)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(source);
        var quota = context.Artifacts;
        var refusal = slotClaimed ? ArtifactRefusal.None : ArtifactRefusal.FilesPerSession;
        var limit = refusal == ArtifactRefusal.FilesPerSession ? quota.Options.MaxFilesPerSession : 0L;
        var folder = FolderFor(context, service);
        string? partial = null;
        FileStream? file = null;
        long reserved = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        var truncated = false;
        try
        {
            if (refusal == ArtifactRefusal.None && quota.TryReserve(context.DeckyName, ArtifactQuota.FileOverhead) is var full and not ArtifactRefusal.None)
            {
                refusal = full;
                limit = LimitOf(quota, full);
            }
            else if (refusal == ArtifactRefusal.None)
            {
                reserved = ArtifactQuota.FileOverhead;
                Directory.CreateDirectory(folder);
                partial = Path.Combine(folder, ".partial-" + Guid.NewGuid().ToString("N"));
                file = new FileStream(partial, PrivateFile(FileMode.CreateNew));
            }
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var want = (int)Math.Min(buffer.Length, maxBytes - size + 1);
                var read = await source.ReadAsync(buffer.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                if (size + read > maxBytes)
                {
                    read = (int)(maxBytes - size);
                    truncated = true;
                }
                hash.AppendData(buffer, 0, read);
                size += read;
                if (file is not null)
                {
                    var refused = quota.TryReserve(context.DeckyName, read);
                    if (refused == ArtifactRefusal.None)
                    {
                        reserved += read;
                        await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        // Over quota: drop what was written, keep reading so the event still carries hash and size.
                        refusal = refused;
                        limit = LimitOf(quota, refused);
                        await file.DisposeAsync().ConfigureAwait(false);
                        file = null;
                        File.Delete(partial!);
                        partial = null;
                        quota.Release(context.DeckyName, reserved);
                        reserved = 0;
                    }
                }
                if (truncated)
                {
                    break;
                }
            }
            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (file is null)
            {
                return new ArtifactCapture(null, sha256, size, truncated, refusal, limit);
            }
            await file.DisposeAsync().ConfigureAwait(false);
            file = null;
            var storedAs = string.Create(CultureInfo.InvariantCulture, $"{context.Time.GetUtcNow().UtcDateTime:yyyyMMdd'T'HHmmss'Z'}_{sha256[..12]}_{baseName ?? SanitiseBaseName(originalPath)}");
            var finalPath = Path.Combine(folder, storedAs);
            if (File.Exists(finalPath))
            {
                // The same bytes under the same name in the same second: keep one copy, charge it once.
                File.Delete(partial!);
            }
            else
            {
                File.Move(partial!, finalPath);
                reserved = 0;
            }
            partial = null;
            return new ArtifactCapture(new CapturedArtifact(storedAs, finalPath, sha256, size, truncated), sha256, size, truncated, ArtifactRefusal.None, 0);
        }
        finally
        {
            // Anything not stored leaves neither a partial file nor a reservation behind.
            if (file is not null)
            {
                await file.DisposeAsync().ConfigureAwait(false);
            }
            if (partial is not null)
            {
                File.Delete(partial);
            }
            if (reserved > 0)
            {
                quota.Release(context.DeckyName, reserved);
            }
        }
    }

    /// <summary>Stores bytes already in memory (a mail message, a finished SSH upload).</summary>
    public static Task<ArtifactCapture> SaveAsync(
        HoneypotConnection connection, string service, string originalPath, ReadOnlyMemory<byte> content, CancellationToken cancellationToken, string? baseName = null)
    {
        var stream = new MemoryStream(content.ToArray(), writable: false);
        return SaveAsync(connection, service, originalPath, stream, content.Length, cancellationToken, baseName);
    }

    /// <summary>Publishes the outcome: <c>file_captured</c> for stored bytes, <c>file_skipped</c> otherwise, each with the service's own fields.</summary>
    public static void Report(HoneypotConnection connection, ArtifactCapture capture, string originalPath, params (string Key, string? Value)[] extra)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(capture);
        if (capture.Stored is { } stored)
        {
            connection.Emit("file_captured", null, EventSeverity.Notice,
            [
                ("stored_as", stored.StoredAs), ("sha256", stored.Sha256), ("size", stored.Size.ToString(CultureInfo.InvariantCulture)),
                ("orig_path", originalPath), ("truncated", stored.Truncated ? "true" : null), .. extra,
            ]);
            return;
        }
        connection.Emit("file_skipped", null, EventSeverity.Notice, [("orig_path", originalPath), .. capture.SkippedFields(), .. extra]);
    }

    private static long LimitOf(ArtifactQuota quota, ArtifactRefusal refusal) =>
        refusal == ArtifactRefusal.DeckyQuota ? quota.Options.MaxBytesPerDecky : quota.Options.MaxBytesTotal;

    private static FileStreamOptions PrivateFile(FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 64 * 1024, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        return options;
    }

    /// <summary>The last path segment, reduced to [A-Za-z0-9._-], without leading dots, at most 64 characters.</summary>
    public static string SanitiseBaseName(string originalPath)
    {
        var lastSlash = originalPath.LastIndexOfAny(['/', '\\']);
        var name = lastSlash >= 0 ? originalPath[(lastSlash + 1)..] : originalPath;
        var builder = new StringBuilder(Math.Min(name.Length, MaxBaseNameLength));
        foreach (var c in name)
        {
            if (builder.Length >= MaxBaseNameLength)
            {
                break;
            }
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }
        var result = builder.ToString().TrimStart('.');
        return result.Length == 0 ? "unnamed" : result;
    }

    /// <summary>The folder a decky or service name maps to (names are validated labels; this only guards the path).</summary>
    public static string FolderName(string name)
    {
        var cleaned = SanitiseBaseName(name);
        return cleaned == "unnamed" && name.Length == 0 ? "_" : cleaned;
    }
}
