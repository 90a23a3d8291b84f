namespace Decnet.Core.Honeypots.Http;

/// <summary>
/// The persona's <c>files</c> folder, served read-only for GET and HEAD. A request path can only reach
/// regular files inside the folder: no traversal, no symbolic links, no dot files, bounded size.
/// </summary>
public sealed class StaticFiles
{
    public const long MaxFileBytes = 16 * 1024 * 1024;

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=UTF-8",
        [".htm"] = "text/html; charset=UTF-8",
        [".txt"] = "text/plain; charset=UTF-8",
        [".css"] = "text/css",
        [".js"] = "application/javascript",
        [".json"] = "application/json",
        [".xml"] = "application/xml",
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".gif"] = "image/gif",
        [".ico"] = "image/x-icon",
        [".svg"] = "image/svg+xml",
        [".pdf"] = "application/pdf",
        [".zip"] = "application/zip",
    };

    private readonly string _root;

    private StaticFiles(string root) => _root = root;

    public sealed record StaticFile(byte[] Content, string ContentType);

    public static StaticFiles? From(string? folder) =>
        folder is not null && Directory.Exists(folder) ? new StaticFiles(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar) : null;

    public StaticFile? Find(string requestPath)
    {
        var decoded = Uri.UnescapeDataString(requestPath).Replace('\\', '/');
        var segments = decoded.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Any(s => s.StartsWith('.') || s.Contains('\0', StringComparison.Ordinal)))
        {
            return null;
        }
        var relative = segments.Length == 0 ? "index.html" : string.Join(Path.DirectorySeparatorChar, segments);
        var full = Path.GetFullPath(Path.Combine(_root, relative));
        if (Directory.Exists(full))
        {
            full = Path.Combine(full, "index.html");
        }
        if (!full.StartsWith(_root, StringComparison.Ordinal))
        {
            return null;
        }
        var info = new FileInfo(full);
        if (!info.Exists || info.LinkTarget is not null || info.Length > MaxFileBytes)
        {
            return null;
        }
        var type = ContentTypes.GetValueOrDefault(info.Extension, "application/octet-stream");
        return new StaticFile(File.ReadAllBytes(full), type);
    }
}
