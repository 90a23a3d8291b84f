using Decnet.Core.Attackers;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Attackers;

public abstract class AttackerProfilerTests(StorageProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : AttackerProfilerTests(StorageProvider.Sqlite);

    public sealed class OnPostgres() : AttackerProfilerTests(StorageProvider.Postgres);

    private CoreTestBed _bed = null!;

    public async ValueTask InitializeAsync() => _bed = await CoreTestBed.StartAsync(provider);

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    private AttackerProfiler NewProfiler() =>
        new(_bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>(), TimeProvider.System, NullLogger<AttackerProfiler>.Instance);

    private async Task<List<Attacker>> AttackersAsync()
    {
        await using var db = await _bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        return await db.Attackers.AsNoTracking().Include(a => a.Behavior).OrderBy(a => a.Ip).ToListAsync();
    }

    [Fact]
    public async Task An_ip_touching_two_deckies_gets_a_traversal_path_commands_fingerprints_and_credentials()
    {
        await AttackerSeed.AddAsync(_bed.Services, AttackerSeed.Scenario());

        var pass = await _bed.Services.GetRequiredService<AttackerProfiler>().RunOnceAsync(CancellationToken.None);

        Assert.Equal(9, pass.Rows);
        Assert.Equal(["198.51.100.7", "203.0.113.9"], pass.Ips);
        var attackers = await AttackersAsync();
        Assert.Equal(2, attackers.Count);
        var a = attackers[0];
        Assert.Equal("198.51.100.7", a.Ip);
        Assert.Equal(7, a.EventCount);
        Assert.Equal(AttackerSeed.T0, a.FirstSeen);
        Assert.Equal(AttackerSeed.T0.AddSeconds(40), a.LastSeen);
        Assert.True(a.IsTraversal);
        Assert.Equal("decky-01 → decky-02", a.TraversalPath);
        Assert.Equal(["decky-01", "decky-02"], AttackerJson.ReadList<string>(a.Deckies));
        Assert.Equal(["http", "ssh"], AttackerJson.ReadList<string>(a.Services));
        Assert.Equal(2, a.ServiceCount);
        Assert.Equal(1, a.CredentialCount);
        var commands = AttackerJson.ReadList<AttackerCommand>(a.Commands);
        Assert.Equal(["uname -a", "cat /etc/passwd", "wget http://x/y"], commands.Select(c => c.Cmd));
        Assert.Equal("decky-02", commands[2].Decky);
        var fingerprints = AttackerJson.ReadList<AttackerFingerprint>(a.Fingerprints);
        Assert.Contains(fingerprints, f => f.Type == "ssh_client_version" && f.Value.StartsWith("SSH-2.0-libssh", StringComparison.Ordinal));
        Assert.Contains(fingerprints, f => f.Type == "hassh" && f.Value == "abc123");
        Assert.Contains(fingerprints, f => f.Type == "http_user_agent" && f.Value == "curl/8.5.0");
        Assert.NotNull(a.Behavior);
        Assert.Equal(["curl", "libssh"], AttackerJson.ReadList<string>(a.Behavior.ToolGuesses));
        var timing = AttackerJson.Read<TimingStats>(a.Behavior.TimingStats)!;
        Assert.Equal(7, timing.EventCount);
        Assert.Equal(40, timing.DurationS);
        var phases = AttackerJson.Read<PhaseSequence>(a.Behavior.PhaseSequence)!;
        Assert.Equal(["recon", "credential_access", "execution", "exfiltration"], phases.Phases.Select(p => p.Phase));

        var b = attackers[1];
        Assert.False(b.IsTraversal);
        Assert.Null(b.TraversalPath);
        Assert.Equal(1, b.EventCount);
        Assert.Equal(BehaviorAnalyzer.Unknown, b.Behavior!.BehaviorClass);
    }

    [Fact]
    public async Task The_cursor_is_persisted_and_a_fresh_profiler_continues_without_double_counting()
    {
        var rows = AttackerSeed.Scenario();
        await AttackerSeed.AddAsync(_bed.Services, rows[..4]);
        var first = NewProfiler();
        var pass = await first.RunOnceAsync(CancellationToken.None, batchSize: 3);
        Assert.Equal(4, pass.Rows);
        Assert.Equal(pass.Cursor, await first.GetCursorAsync(CancellationToken.None));
        Assert.True(pass.Cursor > 0);

        // Nothing new: a second pass (and a restart) must not count anything again.
        Assert.Equal(0, (await first.RunOnceAsync(CancellationToken.None)).Rows);
        await AttackerSeed.AddAsync(_bed.Services, rows[4..]);
        var restarted = NewProfiler();
        Assert.Equal(pass.Cursor, await restarted.GetCursorAsync(CancellationToken.None));
        var second = await restarted.RunOnceAsync(CancellationToken.None, batchSize: 2);
        Assert.Equal(5, second.Rows);

        var a = (await AttackersAsync()).Single(x => x.Ip == "198.51.100.7");
        Assert.Equal(7, a.EventCount);
        Assert.Equal("decky-01 → decky-02", a.TraversalPath);
        Assert.Equal(3, AttackerJson.ReadList<AttackerCommand>(a.Commands).Count);
        Assert.Equal(1, a.CredentialCount);
    }

    [Fact]
    public async Task Rebuild_from_the_logs_table_equals_the_incremental_result()
    {
        var rows = AttackerSeed.Scenario();
        await AttackerSeed.AddAsync(_bed.Services, rows[..5]);
        var profiler = NewProfiler();
        await profiler.RunOnceAsync(CancellationToken.None, batchSize: 2);
        await AttackerSeed.AddAsync(_bed.Services, rows[5..]);
        await profiler.RunOnceAsync(CancellationToken.None, batchSize: 3);
        var incremental = await AttackersAsync();

        var rebuilt = await profiler.RebuildAsync(CancellationToken.None);
        Assert.Equal(9, rebuilt.Rows);
        var after = await AttackersAsync();

        Assert.Equal(Snapshot(incremental), Snapshot(after));
    }

    [Fact]
    public async Task Only_the_newest_commands_are_kept()
    {
        var rows = Enumerable.Range(0, AttackerProfiler.MaxCommands + 20)
            .Select(i => AttackerSeed.Log(i, "decky-01", "telnet", "command", "192.0.2.1", $$"""{"cmd":"echo {{i}}"}"""))
            .ToArray();
        await AttackerSeed.AddAsync(_bed.Services, rows);
        await NewProfiler().RunOnceAsync(CancellationToken.None, batchSize: 100);

        var commands = AttackerJson.ReadList<AttackerCommand>((await AttackersAsync()).Single().Commands);
        Assert.Equal(AttackerProfiler.MaxCommands, commands.Count);
        Assert.Equal("echo 20", commands[0].Cmd);
        Assert.Equal($"echo {AttackerProfiler.MaxCommands + 19}", commands[^1].Cmd);
    }

    private static List<string> Snapshot(List<Attacker> attackers) =>
        attackers.Select(a => string.Join("|", a.Ip, a.FirstSeen.ToString("O"), a.LastSeen.ToString("O"), a.EventCount, a.ServiceCount, a.DeckyCount,
            a.Services, a.Deckies, a.TraversalPath, a.IsTraversal, a.CredentialCount, a.BountyCount, a.Fingerprints, a.Commands,
            a.Behavior?.BehaviorClass, a.Behavior?.TimingStats, a.Behavior?.ToolGuesses, a.Behavior?.PhaseSequence)).ToList();
}
