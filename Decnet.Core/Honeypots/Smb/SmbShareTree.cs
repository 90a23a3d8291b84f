using System.Text;

namespace Decnet.Core.Honeypots.Smb;

/// <summary>One file or folder of the bait share.</summary>
public sealed record SmbEntry(string Path, string Name, bool IsDirectory, byte[] Content, ulong Id)
{
    public long Size => Content.Length;
}

/// <summary>
/// The read-only bait share: office folders with files an intruder wants (payroll, a password list,
/// a VPN profile). Paths are backslash-separated and compared without case, as Windows does.
/// </summary>
public sealed class SmbShareTree
{
    /// <summary>Every entry's timestamps: a share last touched a few weeks before "now" looks lived in.</summary>
    public static readonly DateTime Modified = new(2026, 2, 17, 9, 42, 11, DateTimeKind.Utc);

    private readonly Dictionary<string, SmbEntry> _entries = new(StringComparer.OrdinalIgnoreCase);
    private ulong _nextId = 0x0001_0000_0000_0100;

    public SmbShareTree(string hostname, string domain)
    {
        Add("", directory: true);
        AddFile("Finance\\Q4_2025_Payroll.xlsx", "PK\u0003\u0004" + new string('\0', 26) + "[Content_Types].xml" + new string('\0', 512));
        AddFile("Finance\\Vendor_Bank_Details.csv", "vendor,iban,bic,contact\nNorthwind Supplies,DE89370400440532013000,COBADEFFXXX,j.meyer@northwind.example\n");
        AddFile("IT\\passwords.txt", $"""
            {hostname} local admin: Administrator / Adm!n2025
            {domain}\svc_backup / Backup#Svc77
            printer web ui: admin / HPcolor4!
            """.Replace("\n", "\r\n", StringComparison.Ordinal) + "\r\n");
        AddFile("IT\\vpn-profile.ovpn", "client\r\ndev tun\r\nproto udp\r\nremote vpn." + domain + " 1194\r\nauth-user-pass\r\n");
        AddFile("HR\\Employee_Directory.csv", "name,title,extension,email\nAnna Schmidt,CFO,2201,a.schmidt@" + domain + "\nTom Becker,IT Admin,2310,t.becker@" + domain + "\n");
        Add("Scans", directory: true);
        AddFile("readme.txt", "Department share. Do not store personal data here.\r\n");
    }

    private void AddFile(string path, string content)
    {
        var slash = path.LastIndexOf('\\');
        if (slash > 0)
        {
            Add(path[..slash], directory: true);
        }
        Add(path, directory: false, Encoding.Latin1.GetBytes(content));
    }

    private void Add(string path, bool directory, byte[]? content = null)
    {
        if (!_entries.ContainsKey(path))
        {
            var name = path.Contains('\\', StringComparison.Ordinal) ? path[(path.LastIndexOf('\\') + 1)..] : path;
            _entries[path] = new SmbEntry(path, name, directory, content ?? [], _nextId++);
        }
    }

    /// <summary>The entry at a client path ("\\IT\\passwords.txt", "IT/passwords.txt", "" for the root), or null.</summary>
    public SmbEntry? Find(string clientPath) => _entries.GetValueOrDefault(Normalize(clientPath));

    public static string Normalize(string clientPath) => clientPath.Replace('/', '\\').Trim('\\');

    /// <summary>The children of a folder, "." and ".." first as Windows lists them.</summary>
    public IEnumerable<(string Name, SmbEntry Entry)> List(SmbEntry directory)
    {
        yield return (".", directory);
        yield return ("..", _entries[""]);
        var prefix = directory.Path.Length == 0 ? "" : directory.Path + "\\";
        foreach (var entry in _entries.Values.Where(e => e.Path.Length > prefix.Length
                     && e.Path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                     && e.Path.IndexOf('\\', prefix.Length) < 0).OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase))
        {
            yield return (entry.Name, entry);
        }
    }

    /// <summary>Windows-style wildcard match ('*' and '?'), linear in the input: no backtracking blow-up.</summary>
    public static bool Matches(string pattern, string name)
    {
        if (pattern is "*" or "" or "*.*")
        {
            return true;
        }
        int p = 0, n = 0, star = -1, mark = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(name[n])))
            {
                p++;
                n++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = n;
            }
            else if (star >= 0)
            {
                p = star + 1;
                n = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }
}
