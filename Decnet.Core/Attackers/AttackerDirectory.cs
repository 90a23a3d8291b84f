using Decnet.Core.Caching;
using Decnet.Core.Events;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Attackers;

/// <summary>How the attacker list is ordered.</summary>
public enum AttackerSort
{
    /// <summary>Most recently seen first.</summary>
    Recent,

    /// <summary>Most events first.</summary>
    Active,

    /// <summary>Traversals first, the widest (most deckies) leading.</summary>
    Traversals,
}

public sealed record AttackerQuery(int Limit = 50, int Offset = 0, string? Search = null, AttackerSort Sort = AttackerSort.Recent, string? Service = null);

public sealed record AttackerPage(int Total, IReadOnlyList<Attacker> Data);

public sealed record CommandPage(int Total, IReadOnlyList<AttackerCommand> Data);

/// <summary>What an export carries of a profile: the list's columns and the behaviour verdicts, not the command list.</summary>
/// <param name="Services">JSON list of service names, as stored.</param>
/// <param name="Deckies">JSON list of decky names, as stored.</param>
/// <param name="ToolGuesses">JSON list of tool names, as stored; null before the behaviour analysis ran.</param>
public sealed record AttackerExportRow(
    Guid Id, string Ip, DateTime FirstSeen, DateTime LastSeen, int EventCount, int ServiceCount, int DeckyCount, string Services, string Deckies,
    bool IsTraversal, string? TraversalPath, int BountyCount, int CredentialCount, string? OsGuess, string? BehaviorClass, string? ToolGuesses);

/// <summary>
/// Read side of the profiles for the API and the pages. The unfiltered first page of each sort is what
/// every open Attackers page and API poll asks for: it is loaded by one caller at a time and shared for
/// <see cref="FirstPageLifetime"/> or until the profiler commits. Other pages (searches, filters, later
/// pages) are shared the same way under their query for <see cref="QueryLifetime"/>. List reads run
/// through <see cref="DatabaseReaders"/>.
/// </summary>
public sealed class AttackerDirectory
{
    public const int MaxArtifacts = 200;
    public const int QueryCacheCapacity = 256;

    /// <summary>
    /// Estimated bytes the cached pages may hold together: a profile carries attacker-written JSON (up to
    /// 500 commands, fingerprints), so 256 pages of 1,000 profiles would otherwise be gigabytes.
    /// </summary>
    public const long QueryCacheBytes = 16L * 1024 * 1024;
    public static readonly TimeSpan FirstPageLifetime = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan QueryLifetime = TimeSpan.FromSeconds(2);
    private static readonly AttackerQuery DefaultQuery = new();

    private readonly IDbContextFactory<DecnetDbContext> _dbFactory;
    private readonly DatabaseReaders _readers;
    private readonly bool _postgres;
    private readonly SingleFlightCache<AttackerPage>[] _firstPages;
    private readonly QueryCache<AttackerQuery, AttackerPage> _pages;

    public AttackerDirectory(IDbContextFactory<DecnetDbContext> dbFactory, DatabaseReaders readers, IOptions<StorageOptions> storage, AttackerProfiler profiler, TimeProvider time)
    {
        _dbFactory = dbFactory;
        _readers = readers;
        _postgres = storage.Value.Kind == StorageProvider.Postgres;
        Func<long> committed = () => profiler.CommittedBatches;
        _firstPages = [.. Enum.GetValues<AttackerSort>().Select(sort =>
            new SingleFlightCache<AttackerPage>(time, FirstPageLifetime, ct => LoadAsync(DefaultQuery with { Sort = sort }, ct), committed))];
        _pages = new QueryCache<AttackerQuery, AttackerPage>(time, QueryLifetime, QueryCacheCapacity, LoadAsync, committed, SizeOf, QueryCacheBytes);
    }

    /// <summary>Loads of the cached first pages started so far, all sorts together (diagnostics and tests).</summary>
    public long FirstPageLoads => _firstPages.Sum(c => c.Loads);

    /// <summary>Loads of the per-query cache started so far (diagnostics and tests).</summary>
    public long QueryLoads => _pages.Loads;

    /// <summary>What the per-query cache holds now (diagnostics and tests): keys and estimated bytes.</summary>
    public (int Pages, long Bytes) QueryCacheHeld => (_pages.Count, _pages.Bytes);

    /// <summary>Estimated memory of a cached page: the profiles' text and JSON columns.</summary>
    public static long SizeOf(AttackerPage page)
    {
        var bytes = CacheSize.RowOverhead;
        foreach (var a in page.Data)
        {
            bytes += CacheSize.RowOverhead + CacheSize.Of(a.Ip, a.Services, a.Deckies, a.TraversalPath, a.Fingerprints, a.Commands);
            if (a.Behavior is { } b)
            {
                bytes += CacheSize.RowOverhead + CacheSize.Of(b.OsGuess, b.TcpFingerprint, b.BehaviorClass, b.ToolGuesses, b.TimingStats, b.PhaseSequence);
            }
        }
        return bytes;
    }

    /// <summary>A page every reader shares (unfiltered, default size, first, one per sort): the same instance until it expires.</summary>
    public static bool IsSharedPage(AttackerQuery query) =>
        string.IsNullOrWhiteSpace(query.Search) && string.IsNullOrWhiteSpace(query.Service)
        && query.Limit == DefaultQuery.Limit && query.Offset == 0 && Enum.IsDefined(query.Sort);

    public Task<AttackerPage> ListAsync(AttackerQuery query, CancellationToken cancellationToken)
    {
        if (IsSharedPage(query))
        {
            return _firstPages[(int)query.Sort].GetAsync(cancellationToken);
        }
        // The filters are trimmed before they reach SQL: "10.1.2" and " 10.1.2 " share one entry.
        return _pages.GetAsync(query with { Search = Normalised(query.Search), Service = Normalised(query.Service) }, cancellationToken);
    }

    private Task<AttackerPage> LoadAsync(AttackerQuery query, CancellationToken cancellationToken) =>
        _readers.ReadAsync(async (db, ct) =>
        {
            var attackers = Filtered(db, query);
            var total = await attackers.CountAsync(ct).ConfigureAwait(false);
            var data = await Ordered(attackers, query.Sort).Skip(query.Offset).Take(query.Limit).Include(a => a.Behavior).ToListAsync(ct).ConfigureAwait(false);
            return new AttackerPage(total, data);
        }, cancellationToken);

    /// <summary>
    /// Every profile the filter matches, in the list's order, for an export of any size. One streamed
    /// query (rows are read as they are written out, never held together): profiles change while the
    /// profiler runs, and one read snapshot exports each exactly once. The command list is not read.
    /// An export holds its connection for as long as the client reads, so it does not take one of the
    /// bounded pool's readers.
    /// </summary>
    public async IAsyncEnumerable<AttackerExportRow> ExportAsync(AttackerQuery query,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = Ordered(Filtered(db, query), query.Sort).Select(a => new AttackerExportRow(
            a.Id, a.Ip, a.FirstSeen, a.LastSeen, a.EventCount, a.ServiceCount, a.DeckyCount, a.Services, a.Deckies,
            a.IsTraversal, a.TraversalPath, a.BountyCount, a.CredentialCount,
            a.Behavior == null ? null : a.Behavior.OsGuess,
            a.Behavior == null ? null : a.Behavior.BehaviorClass,
            a.Behavior == null ? null : a.Behavior.ToolGuesses));
        await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return row;
        }
    }

    private IQueryable<Attacker> Filtered(DecnetDbContext db, AttackerQuery query)
    {
        IQueryable<Attacker> attackers = db.Attackers.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var pattern = "%" + EscapeLike(query.Search.Trim()) + "%";
            // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE is the same match.
            attackers = _postgres
                ? attackers.Where(a => EF.Functions.ILike(a.Ip, pattern, "\\"))
                : attackers.Where(a => EF.Functions.Like(a.Ip, pattern, "\\"));
        }
        if (!string.IsNullOrWhiteSpace(query.Service))
        {
            // Services is a JSON list of strings: matching the quoted, JSON-encoded name finds whole names only.
            var pattern = "%" + EscapeLike(AttackerJson.Serialize(query.Service.Trim())) + "%";
            attackers = _postgres
                ? attackers.Where(a => EF.Functions.ILike(a.Services, pattern, "\\"))
                : attackers.Where(a => EF.Functions.Like(a.Services, pattern, "\\"));
        }
        return attackers;
    }

    private static IOrderedQueryable<Attacker> Ordered(IQueryable<Attacker> attackers, AttackerSort sort) => (sort switch
    {
        AttackerSort.Active => attackers.OrderByDescending(a => a.EventCount).ThenByDescending(a => a.LastSeen),
        AttackerSort.Traversals => attackers.OrderByDescending(a => a.IsTraversal).ThenByDescending(a => a.DeckyCount).ThenByDescending(a => a.LastSeen),
        _ => attackers.OrderByDescending(a => a.LastSeen),
    }).ThenBy(a => a.Ip);

    public async Task<Attacker?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Attackers.AsNoTracking().Include(a => a.Behavior).FirstOrDefaultAsync(a => a.Id == id, cancellationToken);
    }

    /// <summary>The attacker's commands, newest first, optionally of one service; null when the attacker does not exist.</summary>
    public async Task<CommandPage?> CommandsAsync(Guid id, int limit, int offset, string? service, CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var json = await db.Attackers.AsNoTracking().Where(a => a.Id == id).Select(a => a.Commands).FirstOrDefaultAsync(cancellationToken);
        if (json is null)
        {
            return null;
        }
        // At most 500 commands per attacker are stored, so paging the list in memory is cheap.
        IEnumerable<AttackerCommand> commands = AttackerJson.ReadList<AttackerCommand>(json);
        if (!string.IsNullOrWhiteSpace(service))
        {
            commands = commands.Where(c => string.Equals(c.Service, service.Trim(), StringComparison.OrdinalIgnoreCase));
        }
        var newestFirst = commands.Reverse().ToList();
        return new CommandPage(newestFirst.Count, newestFirst.Skip(offset).Take(limit).ToList());
    }

    /// <summary>The <c>file_captured</c> events of the attacker's address, newest first; null when the attacker does not exist.</summary>
    public async Task<IReadOnlyList<LogEntry>?> ArtifactsAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var ip = await db.Attackers.AsNoTracking().Where(a => a.Id == id).Select(a => a.Ip).FirstOrDefaultAsync(cancellationToken);
        if (ip is null)
        {
            return null;
        }
        return await db.Logs.AsNoTracking()
            .Where(l => l.AttackerIp == ip && l.EventType == "file_captured")
            .OrderByDescending(l => l.Id)
            .Take(MaxArtifacts)
            .ToListAsync(cancellationToken);
    }

    /// <summary>Every service any attacker touched, for the list's filter.</summary>
    public async Task<IReadOnlyList<string>> ServicesAsync(CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Logs.AsNoTracking().Where(l => l.AttackerIp != null).Select(l => l.Service).Distinct().OrderBy(s => s).ToListAsync(cancellationToken);
    }

    private static string? Normalised(string? filter) => string.IsNullOrWhiteSpace(filter) ? null : filter.Trim();

    /// <summary>Makes user text literal inside a LIKE pattern whose escape character is a backslash.</summary>
    public static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
