using System.Collections.Concurrent;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Storage;

/// <summary>The bounded reader pool: SQLite reads never hold thread-pool threads, and never more than the configured connections at once.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class DatabaseReadersTests
{
    [Fact]
    public async Task Sqlite_reads_run_on_at_most_the_configured_reader_threads_never_on_the_thread_pool()
    {
        await using var bed = await CoreTestBed.StartAsync(new Dictionary<string, string?> { ["Decnet:Storage:ReaderConnections"] = "3" });
        var readers = bed.Services.GetRequiredService<DatabaseReaders>();
        var threads = new ConcurrentDictionary<string, bool>();
        var running = 0;
        var peak = 0;

        var reads = Enumerable.Range(0, 300).Select(i => readers.ReadAsync(async (db, ct) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            threads[Thread.CurrentThread.Name ?? "unnamed"] = Thread.CurrentThread.IsThreadPoolThread;
            var users = await db.Users.CountAsync(ct);
            Thread.Sleep(1);
            Interlocked.Decrement(ref running);
            return users + i;
        }, CancellationToken.None)).ToArray();

        var results = await Task.WhenAll(reads);
        Assert.Equal(Enumerable.Range(1, 300), results);
        Assert.InRange(peak, 1, 3);
        Assert.InRange(threads.Count, 1, 3);
        Assert.All(threads, t => Assert.StartsWith("decnet-db-reader-", t.Key, StringComparison.Ordinal));
        Assert.All(threads, t => Assert.False(t.Value, "a read ran on a thread-pool thread"));
    }

    [Fact]
    public async Task A_failing_read_fails_only_its_caller_and_the_reader_serves_the_next_one()
    {
        await using var bed = await CoreTestBed.StartAsync(new Dictionary<string, string?> { ["Decnet:Storage:ReaderConnections"] = "1" });
        var readers = bed.Services.GetRequiredService<DatabaseReaders>();

        await Assert.ThrowsAnyAsync<Exception>(() => readers.ReadAsync<int>((db, ct) =>
            db.Database.SqlQueryRaw<int>("SELECT no_such_column FROM users").FirstAsync(ct), CancellationToken.None));
        Assert.Equal(1, await readers.ReadAsync((db, ct) => db.Users.CountAsync(ct), CancellationToken.None));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        do
        {
            current = Volatile.Read(ref target);
            if (current >= value)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref target, value, current) != current);
    }
}
