using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Artifacts;

/// <summary>A file an attacker handed over, as stored.</summary>
public sealed record CapturedArtifact(string StoredAs, string FullPath, string Sha256, long Size, bool Truncated);

/// <summary>
/// Stores what attackers upload under <c>&lt;artifacts&gt;/&lt;decky&gt;/&lt;service&gt;/</c> named
/// <c>&lt;UTC yyyyMMddTHHmmssZ&gt;_&lt;first 12 hex of sha256&gt;_&lt;sanitised basename&gt;</c>. The name never
/// carries attacker-controlled path syntax, and the size is capped while streaming, so an upload can
/// neither escape the folder nor fill the disk.
/// </summary>
public static class ArtifactStore
{
    private const int MaxBaseNameLength = 64;

    public static string FolderFor(ServiceContext context, string service) =>
        Path.Combine(context.ArtifactsDirectory, SanitiseName(context.DeckyName), SanitiseName(service));

    /// <summary>Copies at most <paramref name="maxBytes"/> from <paramref name="source"/>; a longer upload is stored truncated and flagged.</summary>
    public static async Task<CapturedArtifact> SaveAsync(
        ServiceContext context, string service, string originalPath, Stream source, long maxBytes, CancellationToken cancellationToken)
    {
        var folder = FolderFor(context, service);
        Directory.CreateDirectory(folder);
        var partial = Path.Combine(folder, ".partial-" + Guid.NewGuid().ToString("N"));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        var truncated = false;
        try
        {
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
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
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    size += read;
                    if (truncated)
                    {
                        break;
                    }
                }
            }
            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            var storedAs = string.Create(CultureInfo.InvariantCulture, $"{context.Time.GetUtcNow().UtcDateTime:yyyyMMdd'T'HHmmss'Z'}_{sha256[..12]}_{SanitiseBaseName(originalPath)}");
            var finalPath = Path.Combine(folder, storedAs);
            File.Move(partial, finalPath, overwrite: true);
            return new CapturedArtifact(storedAs, finalPath, sha256, size, truncated);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    /// <summary>Stores bytes already in memory (a mail message, a small payload).</summary>
    public static Task<CapturedArtifact> SaveAsync(ServiceContext context, string service, string originalName, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var stream = new MemoryStream(content.ToArray(), writable: false);
        return SaveAsync(context, service, originalName, stream, content.Length, cancellationToken);
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

    private static string SanitiseName(string name)
    {
        var cleaned = SanitiseBaseName(name);
        return cleaned == "unnamed" && name.Length == 0 ? "_" : cleaned;
    }
}
