using Decnet.Core.Caching;
using Decnet.Core.Events;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;

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
/// <see cref="FirstPageLifetime"/> or until the profiler commits; filtered or later pages always go to the
/// database.
/// </summary>
public sealed class AttackerDirectory
{
    public const int MaxArtifacts = 200;
    public static readonly TimeSpan FirstPageLifetime = TimeSpan.FromSeconds(2);
    private static readonly AttackerQuery DefaultQuery = new();

    private readonly IDbContextFactory<DecnetDbContext> _dbFactory;
    private readonly SingleFlightCache<AttackerPage>[] _firstPages;

    public AttackerDirectory(IDbContextFactory<DecnetDbContext> dbFactory, AttackerProfiler profiler, TimeProvider time)
    {
        _dbFactory = dbFactory;
        _firstPages = [.. Enum.GetValues<AttackerSort>().Select(sort =>
            new SingleFlightCache<AttackerPage>(time, FirstPageLifetime, ct => LoadAsync(DefaultQuery with { Sort = sort }, ct), () => profiler.CommittedBatches))];
    }

    /// <summary>Loads of the cached first pages started so far, all sorts together (diagnostics and tests).</summary>
    public long FirstPageLoads => _firstPages.Sum(c => c.Loads);

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
        return LoadAsync(query, cancellationToken);
    }

    private async Task<AttackerPage> LoadAsync(AttackerQuery query, CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var attackers = Filtered(db, query);
        var total = await attackers.CountAsync(cancellationToken);
        var data = await Ordered(attackers, query.Sort).Skip(query.Offset).Take(query.Limit).Include(a => a.Behavior).ToListAsync(cancellationToken);
        return new AttackerPage(total, data);
    }

    /// <summary>
    /// Every profile the filter matches, in the list's order, for an export of any size. One streamed
    /// query (rows are read as they are written out, never held together): profiles change while the
    /// profiler runs, and one read snapshot exports each exactly once. The command list is not read.
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

    private static IQueryable<Attacker> Filtered(DecnetDbContext db, AttackerQuery query)
    {
        IQueryable<Attacker> attackers = db.Attackers.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var pattern = "%" + EscapeLike(query.Search.Trim()) + "%";
            attackers = attackers.Where(a => EF.Functions.Like(a.Ip, pattern, "\\"));
        }
        if (!string.IsNullOrWhiteSpace(query.Service))
        {
            // Services is a JSON list of strings: matching the quoted, JSON-encoded name finds whole names only.
            var pattern = "%" + EscapeLike(AttackerJson.Serialize(query.Service.Trim())) + "%";
            attackers = attackers.Where(a => EF.Functions.Like(a.Services, pattern, "\\"));
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

    /// <summary>Makes user text literal inside a LIKE pattern whose escape character is a backslash.</summary>
    public static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
