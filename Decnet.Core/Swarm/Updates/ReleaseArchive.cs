using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Decnet.Core.Swarm.Updates;

/// <summary>
/// A worker release on the wire: a gzip'd tar of regular files (paths relative to the release root) and
/// its SHA-256 over the content, so the master needs no git and the updater can check what it unpacked.
/// The digest hashes, in ordinal path order, each path, a NUL, its length and its bytes.
/// </summary>
public static class ReleaseArchive
{
    /// <summary>The manifest each release slot holds; never part of the release content.</summary>
    public const string ManifestFileName = ".decnet-release.json";

    /// <summary>Upper bounds an updater enforces on what it unpacks (an attacker on the wire cannot pass the pin, but a bug can).</summary>
    public const long MaxExpandedBytes = 512L * 1024 * 1024;
    public const int MaxEntries = 20_000;

    /// <summary>Writes the tarball of <paramref name="files"/> to <paramref name="destination"/> and returns the release SHA.</summary>
    public static async Task<string> WriteAsync(IEnumerable<(string Path, string RelativePath)> files, Stream destination, CancellationToken cancellationToken)
    {
        var ordered = files.OrderBy(f => f.RelativePath, StringComparer.Ordinal).ToList();
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var gzip = new GZipStream(destination, CompressionLevel.Fastest, leaveOpen: true))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, relative) in ordered)
            {
                await using var content = File.OpenRead(path);
                AppendHeader(digest, relative, content.Length);
                await HashAsync(digest, content, cancellationToken);
                content.Position = 0;
                var entry = new PaxTarEntry(TarEntryType.RegularFile, relative)
                {
                    DataStream = content,
                    Mode = ModeOf(relative),
                };
                await tar.WriteEntryAsync(entry, cancellationToken);
            }
        }
        return Convert.ToHexStringLower(digest.GetHashAndReset());
    }

    /// <summary>The release SHA of an unpacked tree (the manifest excluded), the same digest <see cref="WriteAsync"/> returns.</summary>
    public static async Task<string> DigestOfAsync(string root, CancellationToken cancellationToken)
    {
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => (Path: f, Relative: Path.GetRelativePath(root, f).Replace('\\', '/')))
            .Where(f => f.Relative != ManifestFileName)
            .OrderBy(f => f.Relative, StringComparer.Ordinal);
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (path, relative) in files)
        {
            await using var content = File.OpenRead(path);
            AppendHeader(digest, relative, content.Length);
            await HashAsync(digest, content, cancellationToken);
        }
        return Convert.ToHexStringLower(digest.GetHashAndReset());
    }

    /// <summary>
    /// Unpacks <paramref name="tarball"/> into the empty folder <paramref name="destination"/>. Only regular
    /// files and directories with relative paths that stay inside it are accepted, within
    /// <paramref name="maxBytes"/> and <paramref name="maxEntries"/>.
    /// </summary>
    /// <exception cref="ReleaseRejectedException">The first offending entry, named; the caller removes the folder.</exception>
    public static async Task ExtractAsync(Stream tarball, string destination, CancellationToken cancellationToken, long maxBytes = MaxExpandedBytes, int maxEntries = MaxEntries)
    {
        var root = Path.GetFullPath(destination);
        Directory.CreateDirectory(root);
        long total = 0;
        var count = 0;
        try
        {
            await using var gzip = new GZipStream(tarball, CompressionMode.Decompress, leaveOpen: true);
            await using var reader = new TarReader(gzip, leaveOpen: true);
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                if (++count > maxEntries)
                {
                    throw new ReleaseRejectedException(entry.Name, $"the release has more than {maxEntries} entries");
                }
                var target = SafeTarget(root, entry.Name);
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        Directory.CreateDirectory(target);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                        total += entry.Length;
                        if (total > maxBytes)
                        {
                            throw new ReleaseRejectedException(entry.Name, $"the release expands beyond {maxBytes} bytes");
                        }
                        if (File.Exists(target) || Directory.Exists(target))
                        {
                            throw new ReleaseRejectedException(entry.Name, "the release holds this path twice");
                        }
                        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        await using (var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write))
                        {
                            if (entry.DataStream is { } data)
                            {
                                await CopyBoundedAsync(data, file, entry.Length, entry.Name, cancellationToken);
                            }
                        }
                        if (!OperatingSystem.IsWindows())
                        {
                            // Keep the execute bits (the apphost); never setuid/setgid/sticky.
                            File.SetUnixFileMode(target, (entry.Mode & (UnixFileMode)Convert.ToInt32("755", 8)) | UnixFileMode.UserRead | UnixFileMode.UserWrite);
                        }
                        break;
                    case TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes:
                        break;
                    default:
                        throw new ReleaseRejectedException(entry.Name, $"{entry.EntryType} entries are not allowed (regular files and directories only)");
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new ReleaseRejectedException("(archive)", $"not a gzip'd tar: {ex.Message}");
        }
    }

    private static string SafeTarget(string root, string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ReleaseRejectedException(name, "empty entry name");
        }
        if (name.StartsWith('/') || name.StartsWith('\\') || Path.IsPathRooted(name) || (name.Length > 1 && name[1] == ':'))
        {
            throw new ReleaseRejectedException(name, "absolute paths are not allowed");
        }
        var parts = name.Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Any(p => p == ".."))
        {
            throw new ReleaseRejectedException(name, "'..' is not allowed in a release path");
        }
        if (parts.Length == 0 || parts.All(p => p == "."))
        {
            return root;
        }
        if (parts[^1] == ManifestFileName)
        {
            throw new ReleaseRejectedException(name, "the release may not carry its own manifest");
        }
        var target = Path.GetFullPath(Path.Combine(root, Path.Combine(parts)));
        if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ReleaseRejectedException(name, "the path leaves the release folder");
        }
        return target;
    }

    private static async Task CopyBoundedAsync(Stream source, Stream destination, long declared, string name, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long copied = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            copied += read;
            if (copied > declared)
            {
                throw new ReleaseRejectedException(name, "the entry holds more data than its header declares");
            }
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    /// <summary>The apphost and createdump run; everything else is read-only data.</summary>
    private static UnixFileMode ModeOf(string relative) =>
        (UnixFileMode)Convert.ToInt32(relative is "Decnet.Agent" or "createdump" ? "755" : "644", 8);

    private static void AppendHeader(IncrementalHash digest, string relative, long length)
    {
        digest.AppendData(Encoding.UTF8.GetBytes(relative));
        digest.AppendData([0]);
        Span<byte> size = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(size, length);
        digest.AppendData(size);
    }

    private static async Task HashAsync(IncrementalHash digest, Stream content, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
        {
            digest.AppendData(buffer, 0, read);
        }
    }
}

/// <summary>A release the updater refuses, naming the entry at fault; nothing was installed.</summary>
public sealed class ReleaseRejectedException(string entry, string reason) : IOException($"{entry}: {reason}")
{
    public string Entry { get; } = entry;

    public string Reason { get; } = reason;
}
