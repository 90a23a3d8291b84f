using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Decnet.Core.Storage;
using Decnet.Core.Swarm.Pki;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Swarm.Enrollment;

/// <summary>The two downloads of a pending enrollment.</summary>
public enum BundlePart
{
    /// <summary><c>{token}.sh</c>: the bootstrap script piped into <c>sudo bash</c>.</summary>
    Script,

    /// <summary><c>{token}.tgz</c>: the worker bundle the script fetches.</summary>
    Archive,
}

/// <summary>Outcome of a download attempt.</summary>
public enum BundleTakeStatus
{
    Served,

    /// <summary>No such token (never issued, or swept).</summary>
    Unknown,

    /// <summary>The token existed but expired or this part was already downloaded.</summary>
    Gone,
}

/// <summary>
/// Pending bundles on disk (0600 files named by their token) with their expiry. Each part is served
/// exactly once: the file is opened delete-on-close by the first download and never again. The sweeper
/// removes expired, served and orphaned files.
/// </summary>
public sealed partial class EnrollmentBundleStore
{
    private readonly ConcurrentDictionary<string, PendingBundle> _pending = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;

    public EnrollmentBundleStore(IOptions<SwarmOptions> options, IOptions<StorageOptions> storage, TimeProvider time)
    {
        _time = time;
        _lifetime = options.Value.BundleLifetime;
        Directory = options.Value.ResolveBundleDirectory(storage.Value.DataPath);
    }

    public string Directory { get; }

    public int PendingCount => _pending.Count;

    /// <summary>A token is 24 random bytes, base64url: 32 characters, nothing a path could abuse.</summary>
    public static bool IsWellFormed(string? token) => token is not null && TokenShape().IsMatch(token);

    public string PathOf(string token, BundlePart part) => Path.Combine(Directory, token + (part == BundlePart.Script ? ".sh" : ".tgz"));

    /// <summary>Creates an owner-only file for a part of a bundle being built.</summary>
    public FileStream Create(string token, BundlePart part)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = SecretFile.OwnerOnly;
        }
        return new FileStream(PathOf(token, part), options);
    }

    /// <summary>Makes a fully written bundle downloadable until <paramref name="expiresAt"/>.</summary>
    public void Publish(string token, DateTimeOffset expiresAt) => _pending[token] = new PendingBundle(expiresAt);

    /// <summary>Removes a bundle that will never be published (enrollment failed half way).</summary>
    public void Discard(string token)
    {
        _pending.TryRemove(token, out _);
        Delete(token);
    }

    /// <summary>
    /// Hands out one part of a bundle, once. The returned stream deletes the file when disposed, so the
    /// bytes exist on disk only until the single download finishes.
    /// </summary>
    public BundleTakeStatus TryTake(string token, BundlePart part, out Stream? content)
    {
        content = null;
        if (!IsWellFormed(token) || !_pending.TryGetValue(token, out var pending))
        {
            return BundleTakeStatus.Unknown;
        }
        if (_time.GetUtcNow() >= pending.ExpiresAt)
        {
            Discard(token);
            return BundleTakeStatus.Gone;
        }
        if (!pending.Claim(part))
        {
            return BundleTakeStatus.Gone;
        }
        try
        {
            content = new FileStream(PathOf(token, part), FileMode.Open, FileAccess.Read, FileShare.Delete, 64 * 1024, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            return BundleTakeStatus.Served;
        }
        catch (FileNotFoundException)
        {
            return BundleTakeStatus.Gone;
        }
    }

    /// <summary>Deletes expired and fully served bundles, and files no pending bundle owns (older than a lifetime).</summary>
    public int Sweep()
    {
        var now = _time.GetUtcNow();
        var removed = 0;
        foreach (var (token, pending) in _pending)
        {
            if (now >= pending.ExpiresAt || pending.FullyServed)
            {
                if (_pending.TryRemove(token, out _))
                {
                    Delete(token);
                    removed++;
                }
            }
        }
        if (System.IO.Directory.Exists(Directory))
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory))
            {
                var token = Path.GetFileName(file).Split('.')[0];
                if (!_pending.ContainsKey(token) && File.GetLastWriteTimeUtc(file) < now.UtcDateTime - _lifetime)
                {
                    File.Delete(file);
                    removed++;
                }
            }
        }
        return removed;
    }

    private void Delete(string token)
    {
        foreach (var part in new[] { BundlePart.Script, BundlePart.Archive })
        {
            try
            {
                File.Delete(PathOf(token, part));
            }
            catch (IOException)
            {
                // Being downloaded right now: delete-on-close removes it.
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{32}$")]
    private static partial Regex TokenShape();

    private sealed class PendingBundle(DateTimeOffset expiresAt)
    {
        private int _scriptServed;
        private int _archiveServed;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        public bool FullyServed => Volatile.Read(ref _scriptServed) == 1 && Volatile.Read(ref _archiveServed) == 1;

        public bool Claim(BundlePart part) => part == BundlePart.Script
            ? Interlocked.Exchange(ref _scriptServed, 1) == 0
            : Interlocked.Exchange(ref _archiveServed, 1) == 0;
    }
}
