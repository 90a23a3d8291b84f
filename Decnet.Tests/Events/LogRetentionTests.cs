using System.Globalization;
using Decnet.Core.Events;
using Decnet.Core.Events.Retention;
using Decnet.Core.Settings;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Events;

/// <summary>The retention purge on a real, migrated database of each provider: by age, by row count, in batches.</summary>
[Trait("Category", TestCategories.Integration)]
public abstract class LogRetentionTests(StorageProvider provider)
{
    public sealed class OnSqlite() : LogRetentionTests(StorageProvider.Sqlite);

    public sealed class OnPostgres() : LogRetentionTests(StorageProvider.Postgres);

    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    internal static async Task InsertAsync(IServiceProvider services, IEnumerable<DateTime> timestamps)
    {
        var dbFactory = services.GetRequiredService<IDbContextFactory<DecnetDbContext>>();
        await using var db = await dbFactory.CreateDbContextAsync();
        var sequence = 0;
        foreach (var timestamp in timestamps)
        {
            sequence++;
            db.Logs.Add(new LogEntry
            {
                Timestamp = timestamp,
                Decky = "decky-01",
                Service = "ssh",
                EventType = "login_attempt",
                AttackerIp = "203.0.113.9",
                RawLine = "line " + sequence.ToString(CultureInfo.InvariantCulture),
            });
        }
        await db.SaveChangesAsync();
    }

    internal static async Task<List<LogEntry>> RowsAsync(IServiceProvider services)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        return await db.Logs.AsNoTracking().OrderBy(l => l.Id).ToListAsync();
    }

    [Fact]
    public async Task Rows_older_than_the_retention_days_are_deleted_in_batches_and_younger_ones_kept()
    {
        await using var bed = await CoreTestBed.StartAsync(provider, time: new FakeTimeProvider(Now));
        // 23 rows 31-53 days old, 17 rows 0-16 days old; a batch of 5 needs several rounds.
        await InsertAsync(bed.Services, Enumerable.Range(31, 23).Select(d => Now.UtcDateTime.AddDays(-d)).Concat(Enumerable.Range(0, 17).Select(d => Now.UtcDateTime.AddDays(-d))));
        var settings = bed.Services.GetRequiredService<SystemSettingsService>();
        Assert.True((await settings.SetLogRetentionAsync("admin", 30, 1_000_000, CancellationToken.None)).Succeeded);

        var result = await bed.Services.GetRequiredService<LogPurger>().PurgeAsync(5, CancellationToken.None);

        Assert.Equal((23L, 0L, 17L), (result.RemovedByAge, result.RemovedByCount, result.Remaining));
        var rows = await RowsAsync(bed.Services);
        Assert.Equal(17, rows.Count);
        Assert.All(rows, r => Assert.True(r.Timestamp >= Now.UtcDateTime.AddDays(-30), r.Timestamp.ToString("O", CultureInfo.InvariantCulture)));
        Assert.Same(result, bed.Services.GetRequiredService<LogPurger>().LastResult);
    }

    [Fact]
    public async Task Beyond_the_row_limit_the_oldest_stored_rows_go_first()
    {
        await using var bed = await CoreTestBed.StartAsync(provider, time: new FakeTimeProvider(Now));
        await InsertAsync(bed.Services, Enumerable.Range(0, 2_600).Select(i => Now.UtcDateTime.AddMinutes(-i)));
        var before = await RowsAsync(bed.Services);
        Assert.True((await bed.Services.GetRequiredService<SystemSettingsService>().SetLogRetentionAsync("admin", 365, 1_000, CancellationToken.None)).Succeeded);

        var result = await bed.Services.GetRequiredService<LogPurger>().PurgeAsync(300, CancellationToken.None);

        Assert.Equal((0L, 1_600L, 1_000L), (result.RemovedByAge, result.RemovedByCount, result.Remaining));
        Assert.Equal(before.TakeLast(1_000).Select(r => r.Id), (await RowsAsync(bed.Services)).Select(r => r.Id));

        // A second pass within the bounds removes nothing.
        var again = await bed.Services.GetRequiredService<LogPurger>().PurgeAsync(300, CancellationToken.None);
        Assert.Equal((0L, 1_000L), (again.Removed, again.Remaining));
    }

    [Fact]
    public async Task Defaults_apply_until_an_operator_sets_the_retention_and_bad_values_are_refused_with_every_reason()
    {
        await using var bed = await CoreTestBed.StartAsync(provider);
        var settings = bed.Services.GetRequiredService<SystemSettingsService>();
        Assert.Equal(new LogRetentionPolicy(90, 5_000_000), LogRetentionPolicy.From(await settings.GetAsync(CancellationToken.None)));

        var bad = await settings.SetLogRetentionAsync("admin", 0, 999, CancellationToken.None);
        Assert.False(bad.Succeeded);
        Assert.Contains("between 1 and 3650 days", bad.Error, StringComparison.Ordinal);
        Assert.Contains("between 1,000 and 1,000,000,000", bad.Error, StringComparison.Ordinal);
        Assert.False((await settings.SetLogRetentionAsync("admin", 3651, 5_000, CancellationToken.None)).Succeeded);
        Assert.False((await settings.SetLogRetentionAsync("admin", 30, 1_000_000_001, CancellationToken.None)).Succeeded);

        Assert.True((await settings.SetLogRetentionAsync("admin", 14, 250_000, CancellationToken.None)).Succeeded);
        var fresh = new SystemSettingsService(bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>(), bed.Services.GetRequiredService<Decnet.Core.Audit.AuditTrail>());
        Assert.Equal(new LogRetentionPolicy(14, 250_000), LogRetentionPolicy.From(await fresh.GetAsync(CancellationToken.None)));
    }
}
