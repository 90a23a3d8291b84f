namespace Decnet.Core.Honeypots.Shell;

/// <summary>A file or directory of the fake filesystem.</summary>
public sealed record ShellNode(bool IsDirectory, byte[] Content, string Mode, string Owner, DateTimeOffset Modified)
{
    public static ShellNode Directory(DateTimeOffset modified, string owner = "root") => new(true, [], "drwxr-xr-x", owner, modified);

    public static ShellNode File(byte[] content, DateTimeOffset modified, string mode = "-rw-r--r--", string owner = "root") => new(false, content, mode, owner, modified);
}

/// <summary>
/// The decky's persona filesystem (shared, read-only) with a per-session copy-on-write overlay. The
/// overlay is bounded so an attacker cannot grow memory with <c>echo &gt;&gt;</c> loops.
/// </summary>
public sealed class ShellFileSystem(IReadOnlyDictionary<string, ShellNode> persona, TimeProvider time, long maxOverlayBytes = 4 * 1024 * 1024, int maxOverlayEntries = 2000)
{
    private readonly Dictionary<string, ShellNode?> _overlay = new(StringComparer.Ordinal);
    private long _overlayBytes;

    public ShellNode? Get(string path)
    {
        path = Normalize("/", path);
        return _overlay.TryGetValue(path, out var node) ? node : persona.GetValueOrDefault(path);
    }

    public bool IsDirectory(string path) => Get(path)?.IsDirectory == true;

    /// <summary>Names directly inside a directory, sorted like ls.</summary>
    public IReadOnlyList<string> List(string directory)
    {
        directory = Normalize("/", directory);
        var prefix = directory == "/" ? "/" : directory + "/";
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var key in persona.Keys.Concat(_overlay.Keys))
        {
            if (key.Length > prefix.Length && key.StartsWith(prefix, StringComparison.Ordinal) && key.IndexOf('/', prefix.Length) < 0 && Get(key) is not null)
            {
                names.Add(key[prefix.Length..]);
            }
        }
        return [.. names];
    }

    /// <summary>Writes a file; false when the parent is missing or the overlay is full.</summary>
    public bool Write(string path, byte[] content, bool append = false, string owner = "root")
    {
        path = Normalize("/", path);
        if (!IsDirectory(Parent(path)) || IsDirectory(path))
        {
            return false;
        }
        var existing = Get(path);
        var data = append && existing is not null ? [.. existing.Content, .. content] : content;
        return Put(path, ShellNode.File(data, time.GetUtcNow(), existing?.Mode ?? "-rw-r--r--", owner));
    }

    public bool CreateDirectory(string path, string owner = "root")
    {
        path = Normalize("/", path);
        return IsDirectory(Parent(path)) && Get(path) is null && Put(path, ShellNode.Directory(time.GetUtcNow(), owner));
    }

    public bool Remove(string path, bool recursive)
    {
        path = Normalize("/", path);
        var node = Get(path);
        if (node is null || path == "/" || (node.IsDirectory && !recursive))
        {
            return false;
        }
        if (node.IsDirectory)
        {
            foreach (var child in List(path))
            {
                Remove(path + "/" + child, true);
            }
        }
        return Put(path, null);
    }

    public bool Copy(string from, string to) => Get(from) is { IsDirectory: false } node && Write(to, node.Content);

    public bool Move(string from, string to)
    {
        var node = Get(from);
        if (node is null || node.IsDirectory)
        {
            return node is not null && CreateDirectory(to) && Remove(from, true);
        }
        return Write(to, node.Content) && Remove(from, false);
    }

    public bool SetMode(string path, string mode)
    {
        var node = Get(path);
        return node is not null && Put(Normalize("/", path), node with { Mode = mode });
    }

    private bool Put(string path, ShellNode? node)
    {
        var size = node?.Content.LongLength ?? 0;
        var previous = _overlay.TryGetValue(path, out var old) ? old?.Content.LongLength ?? 0 : 0;
        if (_overlayBytes - previous + size > maxOverlayBytes || (!_overlay.ContainsKey(path) && _overlay.Count >= maxOverlayEntries))
        {
            return false;
        }
        _overlayBytes += size - previous;
        _overlay[path] = node;
        return true;
    }

    public static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }

    /// <summary>Resolves a path against a working directory, folding "." and ".." like the kernel.</summary>
    public static string Normalize(string cwd, string path, string home = "/root")
    {
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
        {
            path = home + path[1..];
        }
        var full = path.StartsWith('/') ? path : cwd.TrimEnd('/') + "/" + path;
        var parts = new List<string>();
        foreach (var part in full.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
            }
            else if (part != ".")
            {
                parts.Add(part);
            }
        }
        return "/" + string.Join('/', parts);
    }
}
