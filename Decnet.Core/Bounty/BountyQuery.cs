using Decnet.Core.Caching;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Bounty;

/// <summary>A page of bounties, newest first, and how many match in all.</summary>
public sealed record BountyPage(int Total, IReadOnlyList<BountyRecord> Items);

/// <summary>
/// Lists the bounty vault. The unfiltered first page is what every open Bounty page and most API calls
/// ask for, so it is cached briefly and loaded by one caller at a time (single-flight); other pages are
/// shared the same way under their query for <see cref="QueryLifetime"/>. Both are dropped when new
/// bounties commit. Reads run through <see cref="DatabaseReaders"/>.
/// </summary>
public sealed class BountyQuery
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;
    public const int QueryCacheCapacity = 256;

    /// <summary>Estimated bytes the cached pages may hold together: payloads are attacker-written.</summary>
    public const long QueryCacheBytes = 16L * 1024 * 1024;
    public static readonly TimeSpan CacheDuration = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan QueryLifetime = TimeSpan.FromSeconds(2);

    /// <summary>Rows an export reads per query.</summary>
    public const int ExportChunk = 500;

    private readonly DatabaseReaders _readers;
    private readonly bool _postgres;
    private readonly SingleFlightCache<BountyPage> _firstPage;
    private readonly QueryCache<PageKey, BountyPage> _pages;
    private long _generation;

    public BountyQuery(DatabaseReaders readers, IOptions<StorageOptions> storage, TimeProvider time)
    {
        _readers = readers;
        _postgres = storage.Value.Kind == StorageProvider.Postgres;
        _firstPage = new SingleFlightCache<BountyPage>(time, CacheDuration, ct => LoadAsync(new PageKey(DefaultLimit, 0, null, null), ct));
        _pages = new QueryCache<PageKey, BountyPage>(time, QueryLifetime, QueryCacheCapacity, LoadAsync, () => Interlocked.Read(ref _generation),
            SizeOf, QueryCacheBytes);
    }

    /// <summary>Loads of the cached default page started so far (diagnostics and tests).</summary>
    public long FirstPageLoads => _firstPage.Loads;

    /// <summary>Estimated memory of a cached page: the bounties' text and payloads.</summary>
    public static long SizeOf(BountyPage page)
    {
        var bytes = CacheSize.RowOverhead;
        foreach (var b in page.Items)
        {
            bytes += CacheSize.RowOverhead + CacheSize.Of(b.Decky, b.Service, b.AttackerIp, b.BountyType, b.Payload, b.DedupKey);
        }
        return bytes;
    }

    public static bool IsValidLimit(int limit) => limit is >= 1 and <= MaxLimit;

    public Task<BountyPage> ListAsync(int limit, int offset, string? bountyType, string? search, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (IsSharedPage(limit, offset, bountyType, search))
        {
            return _firstPage.GetAsync(cancellationToken);
        }
        bountyType = string.IsNullOrWhiteSpace(bountyType) ? null : bountyType.Trim();
        search = string.IsNullOrWhiteSpace(search) ? null : search.Trim();
        return _pages.GetAsync(new PageKey(limit, offset, bountyType, search), cancellationToken);
    }

    /// <summary>The page every reader shares (no type, no search, default size, first): the same instance until it expires.</summary>
    public static bool IsSharedPage(int limit, int offset, string? bountyType, string? search) =>
        string.IsNullOrWhiteSpace(bountyType) && string.IsNullOrWhiteSpace(search) && offset == 0 && limit == DefaultLimit;

    /// <summary>New bounties were committed: the next default-page read goes to the database.</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _firstPage.Invalidate();
    }

    private Task<BountyPage> LoadAsync(PageKey key, CancellationToken cancellationToken) =>
        _readers.ReadAsync(async (db, ct) =>
        {
            var query = Filtered(db, key.BountyType, key.Search);
            var total = await query.CountAsync(ct).ConfigureAwait(false);
            var items = await query.OrderByDescending(b => b.Id).Skip(key.Offset).Take(key.Limit).ToListAsync(ct).ConfigureAwait(false);
            return new BountyPage(total, items);
        }, cancellationToken);

    /// <summary>
    /// Every bounty the filter matches, newest first, for an export of any size: chunks of
    /// <see cref="ExportChunk"/> rows, each a short pooled read resuming below the last id sent.
    /// </summary>
    public async IAsyncEnumerable<BountyRecord> ExportAsync(string? bountyType, string? search,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        bountyType = string.IsNullOrWhiteSpace(bountyType) ? null : bountyType.Trim();
        search = string.IsNullOrWhiteSpace(search) ? null : search.Trim();
        var below = long.MaxValue;
        while (true)
        {
            var from = below;
            var chunk = await _readers.ReadAsync((db, ct) =>
                Filtered(db, bountyType, search).Where(b => b.Id < from).OrderByDescending(b => b.Id)
                    .Take(ExportChunk).ToListAsync(ct), cancellationToken).ConfigureAwait(false);
            foreach (var record in chunk)
            {
                yield return record;
            }
            if (chunk.Count < ExportChunk)
            {
                yield break;
            }
            below = chunk[^1].Id;
        }
    }

    private IQueryable<BountyRecord> Filtered(DecnetDbContext db, string? bountyType, string? search)
    {
        IQueryable<BountyRecord> query = db.Bounties.AsNoTracking();
        if (bountyType is not null)
        {
            query = query.Where(b => b.BountyType == bountyType);
        }
        if (search is not null)
        {
            // The search text is data, not a pattern: its own wildcards are escaped, then it is wrapped.
            // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE is the same match.
            var pattern = "%" + EscapeLike(search) + "%";
            query = _postgres
                ? query.Where(b =>
                    EF.Functions.ILike(b.Decky, pattern, "\\")
                    || EF.Functions.ILike(b.Service, pattern, "\\")
                    || EF.Functions.ILike(b.AttackerIp!, pattern, "\\")
                    || EF.Functions.ILike(b.Payload, pattern, "\\"))
                : query.Where(b =>
                    EF.Functions.Like(b.Decky, pattern, "\\")
                    || EF.Functions.Like(b.Service, pattern, "\\")
                    || EF.Functions.Like(b.AttackerIp!, pattern, "\\")
                    || EF.Functions.Like(b.Payload, pattern, "\\"));
        }
        return query;
    }

    private readonly record struct PageKey(int Limit, int Offset, string? BountyType, string? Search);

    public static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

}
