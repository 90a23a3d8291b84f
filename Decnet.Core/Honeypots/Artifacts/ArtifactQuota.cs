using System.Collections.Concurrent;

namespace Decnet.Core.Honeypots.Artifacts;

/// <summary>How much attackers may leave in the artifacts folder. Section <c>Decnet:Honeypots:Artifacts</c>.</summary>
public sealed class ArtifactQuotaOptions
{
    /// <summary>Bytes of stored artifacts one decky may hold, all its services together. 0 stores nothing.</summary>
    public long MaxBytesPerDecky { get; set; } = 256L * 1024 * 1024;

    /// <summary>Bytes of stored artifacts of every decky of this host together.</summary>
    public long MaxBytesTotal { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Files one attacker session may store (scp records, SFTP handles, FTP STORs, mail messages).</summary>
    public int MaxFilesPerSession { get; set; } = 64;
}

/// <summary>Why a capture was not stored; <see cref="None"/> when it was.</summary>
public enum ArtifactRefusal
{
    None,
    SizeCap,
    DeckyQuota,
    TotalQuota,
    FilesPerSession,

    /// <summary>The service dropped the file itself once it had it all (a message over its size limit, an empty aborted upload).</summary>
    NotKept,
}

public static class ArtifactRefusalNames
{
    /// <summary>The <c>reason</c> field of a <c>file_skipped</c> event.</summary>
    public static string ToWire(this ArtifactRefusal refusal) => refusal switch
    {
        ArtifactRefusal.SizeCap => "size_cap",
        ArtifactRefusal.DeckyQuota => "decky_quota",
        ArtifactRefusal.TotalQuota => "total_quota",
        ArtifactRefusal.FilesPerSession => "files_per_session",
        ArtifactRefusal.NotKept => "not_kept",
        _ => "stored",
    };
}

/// <summary>
/// Disk used by captured artifacts under one artifacts root (<c>&lt;root&gt;/&lt;decky&gt;/&lt;service&gt;/</c>),
/// per decky and in total. Stores reserve bytes before writing them and give back what they did not
/// keep; a reservation that would cross a quota is refused, and the capture becomes a <c>file_skipped</c>
/// event. What is already on disk is counted once, the first time the quota is asked; each file also
/// costs <see cref="FileOverhead"/>.
/// </summary>
public sealed class ArtifactQuota(string root, ArtifactQuotaOptions options)
{
    /// <summary>
    /// Every stored file is charged this much on top of its bytes (one filesystem block), so the byte
    /// quota also bounds how many files, empty ones included, attackers can create.
    /// </summary>
    public const long FileOverhead = 4096;

    private static readonly ConcurrentDictionary<string, ArtifactQuota> SharedQuotas = new(StringComparer.Ordinal);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _byDecky = new(StringComparer.Ordinal);
    private readonly HashSet<string> _adopted = new(StringComparer.Ordinal);
    private long _total;
    private bool _counted;

    public string Root { get; } = Path.GetFullPath(root);

    public ArtifactQuotaOptions Options => options;

    /// <summary>
    /// The one quota of <paramref name="root"/> in this process, with default limits: what a service context
    /// built without an explicit quota uses, so no capture path is ever unbounded.
    /// </summary>
    public static ArtifactQuota Shared(string root) => SharedQuotas.GetOrAdd(Path.GetFullPath(root), r => new ArtifactQuota(r, new ArtifactQuotaOptions()));

    public long UsedBy(string decky)
    {
        lock (_gate)
        {
            EnsureCounted();
            return _byDecky.GetValueOrDefault(ArtifactStore.FolderName(decky));
        }
    }

    public long Used
    {
        get
        {
            lock (_gate)
            {
                EnsureCounted();
                return _total;
            }
        }
    }

    /// <summary>Takes <paramref name="bytes"/> of the decky's and the host's quota, or says which one is full.</summary>
    public ArtifactRefusal TryReserve(string decky, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var key = ArtifactStore.FolderName(decky);
        lock (_gate)
        {
            EnsureCounted();
            var used = _byDecky.GetValueOrDefault(key);
            if (bytes > options.MaxBytesPerDecky - used)
            {
                return ArtifactRefusal.DeckyQuota;
            }
            if (bytes > options.MaxBytesTotal - _total)
            {
                return ArtifactRefusal.TotalQuota;
            }
            _byDecky[key] = used + bytes;
            _total += bytes;
            return ArtifactRefusal.None;
        }
    }

    /// <summary>
    /// Charges the files already in <paramref name="folder"/> (outside the artifacts root, such as a
    /// service's shell recordings) to the decky, once per folder and process, so what earlier runs left
    /// there still counts after a restart.
    /// </summary>
    public void Adopt(string decky, string folder)
    {
        var full = Path.GetFullPath(folder);
        var key = ArtifactStore.FolderName(decky);
        lock (_gate)
        {
            EnsureCounted();
            if (full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !_adopted.Add(full) || !Directory.Exists(full))
            {
                return;
            }
            long bytes = 0;
            foreach (var file in new DirectoryInfo(full).EnumerateFiles("*", new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint }))
            {
                bytes += file.Length + FileOverhead;
            }
            _byDecky[key] = _byDecky.GetValueOrDefault(key) + bytes;
            _total += bytes;
        }
    }

    /// <summary>Gives back bytes reserved but not kept (a refused or failed capture).</summary>
    public void Release(string decky, long bytes)
    {
        var key = ArtifactStore.FolderName(decky);
        lock (_gate)
        {
            var left = Math.Max(0, _byDecky.GetValueOrDefault(key) - bytes);
            _byDecky[key] = left;
            _total = Math.Max(0, _total - bytes);
        }
    }

    private void EnsureCounted()
    {
        if (_counted)
        {
            return;
        }
        _counted = true;
        if (!Directory.Exists(Root))
        {
            return;
        }
        var walk = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var deckyFolder in new DirectoryInfo(Root).EnumerateDirectories("*", new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint }))
        {
            long bytes = 0;
            foreach (var file in deckyFolder.EnumerateFiles("*", walk))
            {
                bytes += file.Length + FileOverhead;
            }
            _byDecky[deckyFolder.Name] = bytes;
            _total += bytes;
        }
    }
}
