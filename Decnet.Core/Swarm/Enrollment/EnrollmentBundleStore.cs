using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Decnet.Core.Notifications;
using Decnet.Core.Storage;
using Decnet.Core.Swarm.Pki;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
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

    /// <summary>No such token (never issued, used by a completed install, or swept).</summary>
    Unknown,

    /// <summary>The token expired, or this part was downloaded as often as a token allows.</summary>
    Gone,
}

/// <summary>
/// Pending enrollment bundles: a row per token in <c>enrollment_tokens</c> (the token's SHA-256 only) and
/// two owner-only files named by that hash. A failed install can download both parts again (up to
/// <see cref="SwarmOptions.BundleDownloadsPerToken"/> times each) until the token ends: at the host's
/// first heartbeat (<see cref="CompleteAsync"/>), or at expiry, when <see cref="SweepAsync"/> removes the
/// bundle and, if the host never connected, the host itself (its fingerprints tombstoned). Everything
/// lives on disk and in the database, so a master restart loses no pending enrollment.
/// </summary>
public sealed partial class EnrollmentBundleStore
{
    public const string SweptReason = "enrollment expired without a first heartbeat";

    private readonly IDbContextFactory<DecnetDbContext> _dbFactory;
    private readonly SwarmStore _swarm;
    private readonly SwarmOverview _overview;
    private readonly NotificationHub _hub;
    private readonly TimeProvider _time;
    private readonly ILogger<EnrollmentBundleStore> _logger;
    private readonly SwarmOptions _options;

    public EnrollmentBundleStore(
        IDbContextFactory<DecnetDbContext> dbFactory, SwarmStore swarm, SwarmOverview overview, NotificationHub hub, IOptions<SwarmOptions> options,
        IOptions<StorageOptions> storage, TimeProvider time, ILogger<EnrollmentBundleStore> logger)
    {
        _dbFactory = dbFactory;
        _swarm = swarm;
        _overview = overview;
        _hub = hub;
        _time = time;
        _logger = logger;
        _options = options.Value;
        Directory = _options.ResolveBundleDirectory(storage.Value.DataPath);
    }

    public string Directory { get; }

    /// <summary>A token is 24 random bytes, base64url: 32 characters, nothing a path could abuse.</summary>
    public static bool IsWellFormed(string? token) => token is not null && TokenShape().IsMatch(token);

    /// <summary>What is stored for a token: its SHA-256, lower-case hex.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(token)));

    public string PathOf(string tokenHash, BundlePart part) => Path.Combine(Directory, tokenHash + (part == BundlePart.Script ? ".sh" : ".tgz"));

    /// <summary>Creates an owner-only file for a part of a bundle being built.</summary>
    public FileStream Create(string tokenHash, BundlePart part)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = SecretFile.OwnerOnly;
        }
        return new FileStream(PathOf(tokenHash, part), options);
    }

    /// <summary>Makes a fully written bundle downloadable (the row is the token's only record).</summary>
    public async Task PublishAsync(EnrollmentToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        db.EnrollmentTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Removes the files of a bundle that will never be published (enrollment failed half way).</summary>
    public void Discard(string tokenHash) => DeleteFiles(tokenHash);

    public async Task<int> PendingCountAsync(CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.EnrollmentTokens.CountAsync(cancellationToken);
    }

    /// <summary>
    /// Opens one part of a bundle for download while its token is valid and has downloads left; each
    /// attempt is counted. The file stays for the next attempt (a failed install is retried).
    /// </summary>
    public async Task<(BundleTakeStatus Status, Stream? Content)> TakeAsync(string token, BundlePart part, CancellationToken cancellationToken)
    {
        if (!IsWellFormed(token))
        {
            return (BundleTakeStatus.Unknown, null);
        }
        var hash = Hash(token);
        var now = _time.GetUtcNow().UtcDateTime;
        var max = _options.BundleDownloadsPerToken;
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.EnrollmentTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (row is null)
        {
            return (BundleTakeStatus.Unknown, null);
        }
        if (now >= row.ExpiresAt)
        {
            return (BundleTakeStatus.Gone, null);
        }
        // The count is claimed atomically: concurrent downloads cannot exceed the limit.
        var claimed = part == BundlePart.Script
            ? await db.EnrollmentTokens.Where(t => t.TokenHash == hash && t.ScriptDownloads < max)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.ScriptDownloads, t => t.ScriptDownloads + 1), cancellationToken)
            : await db.EnrollmentTokens.Where(t => t.TokenHash == hash && t.ArchiveDownloads < max)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.ArchiveDownloads, t => t.ArchiveDownloads + 1), cancellationToken);
        if (claimed == 0)
        {
            _logger.LogWarning("The enrollment bundle of {Host} was downloaded {Max} times ({Part}): refused", row.HostName, max, part);
            return (BundleTakeStatus.Gone, null);
        }
        try
        {
            Stream content = new FileStream(PathOf(hash, part), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous);
            _logger.LogInformation("Serving the enrollment {Part} of {Host}", part, row.HostName);
            return (BundleTakeStatus.Served, content);
        }
        catch (FileNotFoundException)
        {
            return (BundleTakeStatus.Gone, null);
        }
    }

    /// <summary>The host's install works (its first heartbeat arrived): its tokens and bundle files go.</summary>
    public async Task<int> CompleteAsync(Guid hostId, CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var hashes = await db.EnrollmentTokens.Where(t => t.HostId == hostId).Select(t => t.TokenHash).ToListAsync(cancellationToken);
        if (hashes.Count == 0)
        {
            return 0;
        }
        await db.EnrollmentTokens.Where(t => t.HostId == hostId).ExecuteDeleteAsync(cancellationToken);
        foreach (var hash in hashes)
        {
            DeleteFiles(hash);
        }
        return hashes.Count;
    }

    /// <summary>
    /// Ends expired tokens: their files go, and a host that never sent a first heartbeat is removed with
    /// its fingerprints tombstoned (the certificate in that bundle can never authenticate). Files no token
    /// owns are deleted once older than a bundle lifetime. Returns how many tokens and files went.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var removed = 0;
        List<EnrollmentToken> expired;
        HashSet<string> live;
        await using (var db = await _dbFactory.CreateDbContextAsync(cancellationToken))
        {
            expired = await db.EnrollmentTokens.AsNoTracking().Where(t => t.ExpiresAt <= now).ToListAsync(cancellationToken);
            live = (await db.EnrollmentTokens.AsNoTracking().Where(t => t.ExpiresAt > now).Select(t => t.TokenHash).ToListAsync(cancellationToken))
                .ToHashSet(StringComparer.Ordinal);
            foreach (var token in expired)
            {
                var neverConnected = await _overview.NeverConnectedAsync(token.HostId, cancellationToken);
                await db.EnrollmentTokens.Where(t => t.TokenHash == token.TokenHash).ExecuteDeleteAsync(cancellationToken);
                DeleteFiles(token.TokenHash);
                removed++;
                if (neverConnected && await _swarm.RemoveHostAsync(token.HostId, SweptReason, cancellationToken, SwarmChangeReasons.Swept))
                {
                    _logger.LogWarning("{Host} never connected before its enrollment expired: removed, its certificate revoked", token.HostName);
                }
            }
        }
        if (System.IO.Directory.Exists(Directory))
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory))
            {
                var hash = Path.GetFileName(file).Split('.')[0];
                if (!live.Contains(hash) && File.GetLastWriteTimeUtc(file) < now - _options.BundleLifetime)
                {
                    File.Delete(file);
                    removed++;
                }
            }
        }
        return removed;
    }

    private void DeleteFiles(string tokenHash)
    {
        foreach (var part in new[] { BundlePart.Script, BundlePart.Archive })
        {
            try
            {
                File.Delete(PathOf(tokenHash, part));
            }
            catch (IOException ex)
            {
                _logger.LogWarning("Could not delete {File}: {Error}", PathOf(tokenHash, part), ex.Message);
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{32}$")]
    private static partial Regex TokenShape();
}
