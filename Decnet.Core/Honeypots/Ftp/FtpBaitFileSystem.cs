using System.Globalization;
using System.Text;

namespace Decnet.Core.Honeypots.Ftp;

/// <summary>
/// The read-only tree the FTP server shows: a few directories and files chosen to make an intruder
/// download them (backups, credentials, firmware). Paths are absolute, '/'-separated, normalised.
/// </summary>
public sealed class FtpBaitFileSystem
{
    private static readonly DateTime Modified = new(2026, 3, 2, 10, 15, 0, DateTimeKind.Utc);

    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal) { "/" };

    public FtpBaitFileSystem(string hostname)
    {
        AddFile("/README.txt", $"{hostname} file exchange\nUploads go to /upload. Files older than 30 days are removed.\n");
        AddFile("/backup/db_backup_2026-02-28.sql", """
            -- MySQL dump 10.13  Distrib 5.7.38, for Linux (x86_64)
            -- Host: localhost    Database: crm
            CREATE TABLE `users` (`id` int NOT NULL, `email` varchar(255), `password_hash` varchar(255));
            INSERT INTO `users` VALUES (1,'admin@corp.local','$2y$10$Qk3Zb1c9kJ4rW8vH2mN0eOa7yLx5pTq6uRs3dFg8hJk1lZx2cVb4n');

            """);
        AddFile("/backup/credentials.txt", "vpn gateway: svc_vpn / Winter2025!\nnas admin: admin / Nas#4412\n");
        AddFile("/pub/firmware_v2.3.1.bin", Encoding.ASCII.GetString([0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0]) + new string('\0', 248));
        AddFile("/pub/notes.txt", "Maintenance window moved to Sunday 02:00. Ask Dave for the new root password.\n");
        _directories.Add("/upload");
    }

    private void AddFile(string path, string content)
    {
        _files[path] = Encoding.Latin1.GetBytes(content);
        for (var parent = Parent(path); parent != "/"; parent = Parent(parent))
        {
            _directories.Add(parent);
        }
    }

    public bool IsDirectory(string path) => _directories.Contains(path);

    public byte[]? File(string path) => _files.GetValueOrDefault(path);

    /// <summary>Resolves <paramref name="argument"/> against <paramref name="cwd"/>; ".." never climbs above "/".</summary>
    public static string Resolve(string cwd, string? argument)
    {
        var combined = string.IsNullOrEmpty(argument) ? cwd : argument.StartsWith('/') ? argument : cwd.TrimEnd('/') + "/" + argument;
        var parts = new List<string>();
        foreach (var part in combined.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }
            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
                continue;
            }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }

    /// <summary>Entries of a directory as (name, isDirectory, size).</summary>
    public IEnumerable<(string Name, bool IsDirectory, long Size)> List(string directory)
    {
        var prefix = directory == "/" ? "/" : directory + "/";
        var dirs = _directories.Where(d => d != "/" && Parent(d) == directory).Select(d => (d[prefix.Length..], true, 4096L));
        var files = _files.Where(f => Parent(f.Key) == directory).Select(f => (f.Key[prefix.Length..], false, (long)f.Value.Length));
        return dirs.Concat(files).OrderBy(e => e.Item1, StringComparer.Ordinal);
    }

    /// <summary>One line per entry in the ls -l format vsftpd uses.</summary>
    public string LongListing(string directory)
    {
        var builder = new StringBuilder();
        foreach (var (name, isDirectory, size) in List(directory))
        {
            builder.Append(isDirectory ? "drwxr-xr-x" : "-rw-r--r--")
                .Append(isDirectory ? "    2 " : "    1 ")
                .Append("ftp      ftp ")
                .Append(size.ToString(CultureInfo.InvariantCulture).PadLeft(12))
                .Append(' ')
                .Append(Modified.ToString("MMM dd HH:mm", CultureInfo.InvariantCulture))
                .Append(' ')
                .Append(name)
                .Append("\r\n");
        }
        return builder.ToString();
    }

    public string NameListing(string directory) => string.Concat(List(directory).Select(e => e.Name + "\r\n"));

    public static DateTime ModifiedAt => Modified;

    private static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }
}
