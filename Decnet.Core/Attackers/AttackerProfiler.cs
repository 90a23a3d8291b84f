using System.Text.Json;
using Decnet.Core.Events;
using Decnet.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Attackers;

/// <summary>What one profiler pass did.</summary>
/// <param name="Rows">Log rows read past the cursor.</param>
/// <param name="Ips">Attackers whose profile changed, in first-touch order.</param>
/// <param name="Cursor">The persisted cursor after the pass.</param>
public sealed record ProfilerPass(int Rows, IReadOnlyList<string> Ips, long Cursor);

/// <summary>
/// Folds new <c>logs</c> rows into per-IP <c>attackers</c> and <c>attacker_behavior</c> rows.
/// Incremental: it reads only rows past a cursor kept in <c>pipeline_cursors</c>, and each batch's upserts
/// and the cursor advance commit in one transaction, so a crash replays the batch exactly once and a restart
/// continues from the stored profiles (upstream kept the history in memory and lost it on restart).
/// The behaviour profile is recomputed per touched IP from its newest <see cref="BehaviorWindow"/> events,
/// because timing statistics cannot be merged incrementally.
/// </summary>
public sealed class AttackerProfiler(IDbContextFactory<DecnetDbContext> dbFactory, TimeProvider time, ILogger<AttackerProfiler> logger)
{
    public const string CursorName = "attacker-profiler";
    public const int DefaultBatchSize = 1000;
    public const int MaxCommands = 500;
    public const int MaxFingerprints = 100;
    public const int BehaviorWindow = 5000;

    /// <summary>Event types whose text field is a command the attacker ran.</summary>
    private static readonly HashSet<string> CommandTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "command", "exec", "execute", "run", "query", "sql_query", "redis_command", "shell_input", "input",
    };

    private static readonly string[] CommandFields = ["cmd", "command", "query", "input", "line", "sql"];

    /// <summary>Fields that identify the client software: (field, fingerprint type).</summary>
    private static readonly (string Field, string Type)[] FingerprintFields =
    [
        ("client_version", "ssh_client_version"),
        ("hassh", "hassh"),
        ("user_agent", "http_user_agent"),
        ("x_mailer", "x_mailer"),
    ];

    /// <summary>Request headers (a JSON object in the <c>headers</c> field) that identify the client: (header, fingerprint type).</summary>
    private static readonly (string Header, string Type)[] FingerprintHeaders =
    [
        ("User-Agent", "http_user_agent"),
        ("X-Mailer", "x_mailer"),
    ];

    /// <summary>The passive sniffer's SYN fingerprint event and its p0f-style OS label field.</summary>
    private const string SynFingerprintEvent = "tcp_syn_fingerprint";

    /// <summary>One pass at a time: the worker's timer, its event trigger and a rebuild never interleave.</summary>
    private readonly SemaphoreSlim _gate = new(1, 1);

    private long _committedBatches;

    /// <summary>
    /// Batches (and rebuild clears) committed so far: read caches compare it with the value they loaded
    /// at, so a committed pass makes the next read fresh.
    /// </summary>
    public long CommittedBatches => Interlocked.Read(ref _committedBatches);

    /// <summary>Processes every row past the cursor in batches; returns what changed.</summary>
    public async Task<ProfilerPass> RunOnceAsync(CancellationToken cancellationToken, int batchSize = DefaultBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await RunLockedAsync(batchSize, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets every profile and the cursor, then profiles the whole <c>logs</c> table again.</summary>
    public async Task<ProfilerPass> RebuildAsync(CancellationToken cancellationToken, int batchSize = DefaultBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            {
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                await db.AttackerBehaviors.ExecuteDeleteAsync(cancellationToken);
                await db.Attackers.ExecuteDeleteAsync(cancellationToken);
                await db.PipelineCursors.Where(c => c.Name == CursorName).ExecuteDeleteAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                Interlocked.Increment(ref _committedBatches);
            }
            logger.LogInformation("Attacker profiles cleared; rebuilding from the logs table");
            return await RunLockedAsync(batchSize, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<long> GetCursorAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.PipelineCursors.AsNoTracking().Where(c => c.Name == CursorName).Select(c => c.Position).FirstOrDefaultAsync(cancellationToken);
    }

    private async Task<ProfilerPass> RunLockedAsync(int batchSize, CancellationToken cancellationToken)
    {
        var rows = 0;
        var touched = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long cursor;
        while (true)
        {
            var (count, ips, position) = await ProcessBatchAsync(batchSize, cancellationToken);
            rows += count;
            cursor = position;
            foreach (var ip in ips.Where(seen.Add))
            {
                touched.Add(ip);
            }
            if (count < batchSize)
            {
                break;
            }
        }
        return new ProfilerPass(rows, touched, cursor);
    }

    private async Task<(int Count, List<string> Ips, long Cursor)> ProcessBatchAsync(int batchSize, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var cursor = await db.PipelineCursors.FirstOrDefaultAsync(c => c.Name == CursorName, cancellationToken);
        var position = cursor?.Position ?? 0;
        var rows = await db.Logs.AsNoTracking()
            .Where(l => l.Id > position)
            .OrderBy(l => l.Id)
            .Take(batchSize)
            .Select(l => new Row(l.Id, l.Timestamp, l.Decky, l.Service, l.EventType, l.AttackerIp, l.Fields))
            .ToListAsync(cancellationToken);
        if (rows.Count == 0)
        {
            return (0, [], position);
        }
        var lastId = rows[^1].Id;
        var now = time.GetUtcNow().UtcDateTime;

        // Rows without a usable source address advance the cursor but profile nobody.
        var byIp = rows.Where(r => IsAttackerIp(r.AttackerIp)).GroupBy(r => r.AttackerIp!, StringComparer.Ordinal).ToList();
        var ips = byIp.Select(g => g.Key).ToList();
        var existing = ips.Count == 0
            ? new Dictionary<string, Attacker>(StringComparer.Ordinal)
            : await db.Attackers.Include(a => a.Behavior).Where(a => ips.Contains(a.Ip)).ToDictionaryAsync(a => a.Ip, StringComparer.Ordinal, cancellationToken);
        var bounties = ips.Count == 0
            ? new Dictionary<string, int>(StringComparer.Ordinal)
            : await db.Bounties.AsNoTracking().Where(b => b.AttackerIp != null && ips.Contains(b.AttackerIp))
                .GroupBy(b => b.AttackerIp!).Select(g => new { Ip = g.Key, Count = g.Count() })
                .ToDictionaryAsync(g => g.Ip, g => g.Count, StringComparer.Ordinal, cancellationToken);

        foreach (var group in byIp)
        {
            if (!existing.TryGetValue(group.Key, out var attacker))
            {
                attacker = new Attacker { Ip = group.Key, FirstSeen = group.Min(r => r.Timestamp), LastSeen = group.Max(r => r.Timestamp) };
                db.Attackers.Add(attacker);
            }
            Merge(attacker, group.ToList());
            attacker.BountyCount = bounties.GetValueOrDefault(group.Key);
            attacker.UpdatedAt = now;
            await ProfileBehaviorAsync(db, attacker, lastId, now, cancellationToken);
        }

        if (cursor is null)
        {
            db.PipelineCursors.Add(new PipelineCursor { Name = CursorName, Position = lastId, UpdatedAt = now });
        }
        else
        {
            cursor.Position = lastId;
            cursor.UpdatedAt = now;
        }
        // One SaveChanges is one transaction: the upserts and the cursor land together or not at all.
        await db.SaveChangesAsync(cancellationToken);
        Interlocked.Increment(ref _committedBatches);
        return (rows.Count, ips, lastId);
    }

    /// <summary>Folds one batch's rows (in id order) of a single IP into its profile.</summary>
    private static void Merge(Attacker attacker, List<Row> rows)
    {
        var isNew = attacker.EventCount == 0;
        attacker.FirstSeen = isNew ? rows.Min(r => r.Timestamp) : Min(attacker.FirstSeen, rows.Min(r => r.Timestamp));
        attacker.LastSeen = isNew ? rows.Max(r => r.Timestamp) : Max(attacker.LastSeen, rows.Max(r => r.Timestamp));
        attacker.EventCount += rows.Count;

        var services = new SortedSet<string>(AttackerJson.ReadList<string>(attacker.Services), StringComparer.Ordinal);
        services.UnionWith(rows.Select(r => r.Service));
        attacker.Services = AttackerJson.Serialize(services.ToList());
        attacker.ServiceCount = services.Count;

        // Deckies keep first-touch order: known ones stay put, new ones follow in the order this batch first touched them.
        var deckies = AttackerJson.ReadList<string>(attacker.Deckies);
        var known = new HashSet<string>(deckies, StringComparer.Ordinal);
        foreach (var decky in rows.GroupBy(r => r.Decky, StringComparer.Ordinal).OrderBy(g => g.Min(r => r.Timestamp)).ThenBy(g => g.Min(r => r.Id)).Select(g => g.Key))
        {
            if (known.Add(decky))
            {
                deckies.Add(decky);
            }
        }
        attacker.Deckies = AttackerJson.Serialize(deckies);
        attacker.DeckyCount = deckies.Count;
        attacker.IsTraversal = deckies.Count >= 2;
        attacker.TraversalPath = attacker.IsTraversal ? string.Join(" → ", deckies) : null;

        var commands = AttackerJson.ReadList<AttackerCommand>(attacker.Commands);
        var fingerprints = AttackerJson.ReadList<AttackerFingerprint>(attacker.Fingerprints);
        var fingerprintKeys = new HashSet<(string, string)>(fingerprints.Select(f => (f.Type, f.Value)));
        var commandsChanged = false;
        var fingerprintsChanged = false;
        foreach (var row in rows)
        {
            var fields = ReadFields(row.Fields);
            if (CommandTypes.Contains(row.EventType))
            {
                var text = CommandFields.Select(f => fields.GetValueOrDefault(f)).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
                if (text is not null)
                {
                    commands.Add(new AttackerCommand(Utc(row.Timestamp), row.Decky, row.Service, text));
                    commandsChanged = true;
                }
            }
            if (BehaviorAnalyzer.IsCredentialEvent(row.EventType) && !string.IsNullOrEmpty(fields.GetValueOrDefault("password")))
            {
                attacker.CredentialCount++;
            }
            foreach (var (type, value) in ClientFingerprints(row.EventType, fields))
            {
                if (!string.IsNullOrWhiteSpace(value) && fingerprints.Count < MaxFingerprints && fingerprintKeys.Add((type, value)))
                {
                    fingerprints.Add(new AttackerFingerprint(type, value, row.Decky, row.Service, Utc(row.Timestamp)));
                    fingerprintsChanged = true;
                }
            }
        }
        if (commandsChanged)
        {
            // Only the newest commands are kept: an attacker looping a script must not grow the row without bound.
            if (commands.Count > MaxCommands)
            {
                commands.RemoveRange(0, commands.Count - MaxCommands);
            }
            attacker.Commands = AttackerJson.Serialize(commands);
        }
        if (fingerprintsChanged)
        {
            attacker.Fingerprints = AttackerJson.Serialize(fingerprints);
        }
    }

    private static async Task ProfileBehaviorAsync(DecnetDbContext db, Attacker attacker, long lastId, DateTime now, CancellationToken cancellationToken)
    {
        var ip = attacker.Ip;
        // Bounded by the batch's last id so a replay of the same batch computes the same profile.
        var recent = await db.Logs.AsNoTracking()
            .Where(l => l.AttackerIp == ip && l.Id <= lastId)
            .OrderByDescending(l => l.Id)
            .Take(BehaviorWindow)
            .Select(l => new BehaviorEvent(l.Timestamp, l.Decky, l.Service, l.EventType))
            .ToListAsync(cancellationToken);
        var fingerprints = AttackerJson.ReadList<AttackerFingerprint>(attacker.Fingerprints);
        List<string> Of(params string[] types) => [.. fingerprints.Where(f => types.Contains(f.Type)).Select(f => f.Value)];
        var evidence = new ClientEvidence(Of("ssh_client_version", "http_user_agent"), Of("hassh"), Of("x_mailer"), Of("p0f_os"));
        var profile = BehaviorAnalyzer.Analyze(recent, evidence);
        var behavior = attacker.Behavior;
        if (behavior is null)
        {
            behavior = new AttackerBehavior { AttackerId = attacker.Id };
            attacker.Behavior = behavior;
        }
        behavior.BehaviorClass = profile.BehaviorClass;
        behavior.BeaconIntervalSeconds = profile.BeaconIntervalSeconds;
        behavior.BeaconJitterPct = profile.BeaconJitterPct;
        behavior.TimingStats = AttackerJson.Serialize(profile.Timing);
        behavior.ToolGuesses = AttackerJson.Serialize(profile.ToolGuesses);
        behavior.PhaseSequence = AttackerJson.Serialize(profile.Phases);
        behavior.UpdatedAt = now;
    }

    /// <summary>
    /// The client-identifying values of one event: its own fields (client version, HASSH, user agent,
    /// X-Mailer), the same headers inside a <c>headers</c> JSON object (rows that carry only the headers),
    /// and the sniffer's OS label.
    /// </summary>
    private static IEnumerable<(string Type, string? Value)> ClientFingerprints(string eventType, Dictionary<string, string> fields)
    {
        foreach (var (field, type) in FingerprintFields)
        {
            yield return (type, fields.GetValueOrDefault(field));
        }
        if (fields.TryGetValue("headers", out var headersJson))
        {
            var headers = ReadFields(headersJson);
            foreach (var (header, type) in FingerprintHeaders)
            {
                yield return (type, headers.FirstOrDefault(h => string.Equals(h.Key, header, StringComparison.OrdinalIgnoreCase)).Value);
            }
        }
        if (string.Equals(eventType, SynFingerprintEvent, StringComparison.OrdinalIgnoreCase))
        {
            yield return ("p0f_os", fields.GetValueOrDefault("os_guess"));
        }
    }

    /// <summary>Upstream writes "Unknown" when no address field exists; that is nobody, not an attacker.</summary>
    private static bool IsAttackerIp(string? ip) =>
        !string.IsNullOrWhiteSpace(ip) && !string.Equals(ip, "Unknown", StringComparison.OrdinalIgnoreCase);

    private static Dictionary<string, string> ReadFields(string? json)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(json) || json == "{}")
        {
            return result;
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return result;
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                result[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() ?? "" : property.Value.GetRawText();
            }
        }
        catch (JsonException)
        {
            // A malformed fields column must not stall the profiler; the row still counts as an event.
        }
        return result;
    }

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);

    private static DateTime Min(DateTime a, DateTime b) => a <= b ? a : b;

    private static DateTime Max(DateTime a, DateTime b) => a >= b ? a : b;

    private sealed record Row(long Id, DateTime Timestamp, string Decky, string Service, string EventType, string? AttackerIp, string Fields);
}
