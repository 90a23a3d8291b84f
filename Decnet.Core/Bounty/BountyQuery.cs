using Decnet.Core.Caching;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Decnet.Core.Bounty;

/// <summary>A page of bounties, newest first, and how many match in all.</summary>
public sealed record BountyPage(int Total, IReadOnlyList<BountyRecord> Items);

/// <summary>
/// Lists the bounty vault. The unfiltered first page is what every open Bounty page and most API calls
/// ask for, so it is cached briefly and loaded by one caller at a time (single-flight); filtered
/// queries always go to the database.
/// </summary>
public sealed class BountyQuery
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;
    public static readonly TimeSpan CacheDuration = TimeSpan.FromSeconds(5);

    /// <summary>Rows an export reads per query.</summary>
    public const int ExportChunk = 500;

    private readonly IDbContextFactory<DecnetDbContext> _dbFactory;
    private readonly SingleFlightCache<BountyPage> _firstPage;

    public BountyQuery(IDbContextFactory<DecnetDbContext> dbFactory, TimeProvider time)
    {
        _dbFactory = dbFactory;
        _firstPage = new SingleFlightCache<BountyPage>(time, CacheDuration, ct => LoadAsync(DefaultLimit, 0, null, null, ct));
    }

    /// <summary>Loads of the cached default page started so far (diagnostics and tests).</summary>
    public long FirstPageLoads => _firstPage.Loads;

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
        return LoadAsync(limit, offset, bountyType, search, cancellationToken);
    }

    /// <summary>The page every reader shares (no type, no search, default size, first): the same instance until it expires.</summary>
    public static bool IsSharedPage(int limit, int offset, string? bountyType, string? search) =>
        string.IsNullOrWhiteSpace(bountyType) && string.IsNullOrWhiteSpace(search) && offset == 0 && limit == DefaultLimit;

    /// <summary>New bounties were committed: the next default-page read goes to the database.</summary>
    public void Invalidate() => _firstPage.Invalidate();

    private async Task<BountyPage> LoadAsync(int limit, int offset, string? bountyType, string? search, CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var query = Filtered(db, bountyType, search);
        var total = await query.CountAsync(cancellationToken).ConfigureAwait(false);
        var items = await query.OrderByDescending(b => b.Id).Skip(offset).Take(limit).ToListAsync(cancellationToken).ConfigureAwait(false);
        return new BountyPage(total, items);
    }

    /// <summary>
    /// Every bounty the filter matches, newest first, for an export of any size: chunks of
    /// <see cref="ExportChunk"/> rows, each a short query resuming below the last id sent.
    /// </summary>
    public async IAsyncEnumerable<BountyRecord> ExportAsync(string? bountyType, string? search,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        bountyType = string.IsNullOrWhiteSpace(bountyType) ? null : bountyType.Trim();
        search = string.IsNullOrWhiteSpace(search) ? null : search.Trim();
        var below = long.MaxValue;
        while (true)
        {
            List<BountyRecord> chunk;
            await using (var db = await _dbFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
            {
                chunk = await Filtered(db, bountyType, search).Where(b => b.Id < below).OrderByDescending(b => b.Id)
                    .Take(ExportChunk).ToListAsync(cancellationToken).ConfigureAwait(false);
            }
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

    private static IQueryable<BountyRecord> Filtered(DecnetDbContext db, string? bountyType, string? search)
    {
        IQueryable<BountyRecord> query = db.Bounties.AsNoTracking();
        if (bountyType is not null)
        {
            query = query.Where(b => b.BountyType == bountyType);
        }
        if (search is not null)
        {
            // The search text is data, not a pattern: its own wildcards are escaped, then it is wrapped.
            var pattern = "%" + EscapeLike(search) + "%";
            query = query.Where(b =>
                EF.Functions.Like(b.Decky, pattern, "\\")
                || EF.Functions.Like(b.Service, pattern, "\\")
                || EF.Functions.Like(b.AttackerIp!, pattern, "\\")
                || EF.Functions.Like(b.Payload, pattern, "\\"));
        }
        return query;
    }

    public static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

}
