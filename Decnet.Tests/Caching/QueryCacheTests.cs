using Decnet.Core.Caching;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Caching;

public sealed class QueryCacheTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Concurrent_callers_of_one_query_share_one_load_while_other_queries_load_their_own()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var cache = new QueryCache<string, string>(_time, TimeSpan.FromSeconds(2), 16, async (key, _) =>
        {
            calls.AddOrUpdate(key, 1, (_, n) => n + 1);
            await release.Task;
            return "rows of " + key;
        });

        var callers = Enumerable.Range(0, 90).Select(i => Task.Run(() => cache.GetAsync(i % 3 == 0 ? "service:ssh" : i % 3 == 1 ? "decky:d1" : "event:login", CancellationToken.None))).ToArray();
        await Task.WhenAll(callers.Select(c => Task.WhenAny(c, Task.Delay(50))));
        release.SetResult();

        var results = await Task.WhenAll(callers);
        Assert.Equal("rows of service:ssh", results[0]);
        Assert.Equal("rows of decky:d1", results[1]);
        Assert.Equal(3, cache.Loads);
        Assert.All(calls.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task A_query_is_loaded_again_after_its_lifetime_or_when_the_generation_moves()
    {
        var loads = 0;
        long generation = 0;
        var cache = new QueryCache<string, int>(_time, TimeSpan.FromSeconds(2), 16,
            (_, _) => Task.FromResult(Interlocked.Increment(ref loads)), () => Interlocked.Read(ref generation));

        Assert.Equal(1, await cache.GetAsync("q", CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.Equal(1, await cache.GetAsync("q", CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal(2, await cache.GetAsync("q", CancellationToken.None));
        Interlocked.Increment(ref generation);
        Assert.Equal(3, await cache.GetAsync("q", CancellationToken.None));
        Assert.Equal(3, await cache.GetAsync("q", CancellationToken.None));
    }

    [Fact]
    public async Task However_many_distinct_queries_arrive_the_cache_holds_at_most_its_capacity()
    {
        var cache = new QueryCache<int, int>(_time, TimeSpan.FromMinutes(1), 50, (key, _) => Task.FromResult(key * 2));

        for (var i = 0; i < 10_000; i++)
        {
            Assert.Equal(i * 2, await cache.GetAsync(i, CancellationToken.None));
            Assert.InRange(cache.Count, 1, 50);
        }
        Assert.Equal(10_000, cache.Loads);
    }

    [Fact]
    public async Task A_failed_load_is_not_kept_and_a_caller_giving_up_does_not_fail_the_others()
    {
        var attempt = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cache = new QueryCache<string, string>(_time, TimeSpan.FromSeconds(2), 16, async (_, _) =>
        {
            if (Interlocked.Increment(ref attempt) == 1)
            {
                throw new InvalidOperationException("database away");
            }
            await release.Task;
            return "fresh";
        });

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("q", CancellationToken.None));
        using var impatient = new CancellationTokenSource();
        var gaveUp = cache.GetAsync("q", impatient.Token);
        var patient = cache.GetAsync("q", CancellationToken.None);
        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gaveUp);
        release.SetResult();
        Assert.Equal("fresh", await patient);
        Assert.Equal(2, cache.Loads);
    }
    [Fact]
    public async Task However_large_the_values_the_cache_holds_at_most_its_byte_budget_dropping_expired_entries_first()
    {
        // Values are their own size in bytes: a stand-in for pages of attacker-written rows.
        var cache = new QueryCache<int, long>(_time, TimeSpan.FromSeconds(2), 1000,
            (key, _) => Task.FromResult(1_000L + (key * 7919 % 50_000)), null, v => v, 200_000);
        var random = new Random(7);
        for (var i = 0; i < 5_000; i++)
        {
            var key = random.Next(2_000);
            Assert.Equal(1_000L + (key * 7919 % 50_000), await cache.GetAsync(key, CancellationToken.None));
            Assert.InRange(cache.Bytes, 0, 200_000);
            if (i % 500 == 0)
            {
                _time.Advance(TimeSpan.FromSeconds(3));
            }
        }
        // Eviction stops once the budget is met: the cache stays useful, it is not emptied.
        Assert.True(cache.Bytes > 100_000, $"{cache.Bytes} bytes in {cache.Count} entries kept");

        // Expired entries go before live ones: after the lifetime, a new value evicts only what has expired.
        var fresh = new QueryCache<string, long>(_time, TimeSpan.FromSeconds(2), 1000, (key, _) => Task.FromResult(long.Parse(key[1..], System.Globalization.CultureInfo.InvariantCulture)), null, v => v, 100);
        await fresh.GetAsync("a40", CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(3));
        await fresh.GetAsync("b40", CancellationToken.None);
        await fresh.GetAsync("c40", CancellationToken.None);
        Assert.Equal(80, fresh.Bytes);
        var loads = fresh.Loads;
        await fresh.GetAsync("b40", CancellationToken.None);
        await fresh.GetAsync("c40", CancellationToken.None);
        Assert.Equal(loads, fresh.Loads);
    }

    [Fact]
    public async Task A_value_larger_than_the_whole_budget_answers_its_callers_but_is_not_kept()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cache = new QueryCache<string, string>(_time, TimeSpan.FromMinutes(1), 16, async (key, _) =>
        {
            await release.Task;
            return new string('x', key == "huge" ? 10_000 : 10);
        }, null, v => v.Length, 1_000);

        var small = cache.GetAsync("small", CancellationToken.None);
        var waiting = Enumerable.Range(0, 10).Select(_ => cache.GetAsync("huge", CancellationToken.None)).ToArray();
        release.SetResult();
        Assert.All(await Task.WhenAll(waiting), v => Assert.Equal(10_000, v.Length));
        Assert.Equal(10, (await small).Length);
        Assert.Equal(2, cache.Loads);
        Assert.Equal(10, cache.Bytes);
        Assert.Equal(1, cache.Count);

        Assert.Equal(10_000, (await cache.GetAsync("huge", CancellationToken.None)).Length);
        Assert.Equal(3, cache.Loads);
        await cache.GetAsync("small", CancellationToken.None);
        Assert.Equal(3, cache.Loads);
    }
    [Fact]
    public async Task While_an_aged_value_reloads_others_get_it_but_never_after_a_commit()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loads = 0;
        long generation = 0;
        var cache = new QueryCache<string, int>(_time, TimeSpan.FromSeconds(2), 16, async (_, _) =>
        {
            var n = Interlocked.Increment(ref loads);
            if (n > 1)
            {
                await gate.Task;
            }
            return n;
        }, () => Interlocked.Read(ref generation));

        Assert.Equal(1, await cache.GetAsync("q", CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(2.5));
        var reloader = cache.GetAsync("q", CancellationToken.None);
        Assert.False(reloader.IsCompleted);
        Assert.Equal(1, await cache.GetAsync("q", CancellationToken.None));
        gate.SetResult();
        Assert.Equal(2, await reloader);
        Assert.Equal(2, await cache.GetAsync("q", CancellationToken.None));

        // A commit: nobody gets the value loaded before it, everybody waits for the new load.
        gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Increment(ref generation);
        var first = cache.GetAsync("q", CancellationToken.None);
        var second = cache.GetAsync("q", CancellationToken.None);
        Assert.False(second.IsCompleted);
        gate.SetResult();
        Assert.Equal(3, await first);
        Assert.Equal(3, await second);

        // Aged by more than a lifetime past its expiry: too old to stand in, callers wait.
        gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _time.Advance(TimeSpan.FromSeconds(4.5));
        var late = cache.GetAsync("q", CancellationToken.None);
        var other = cache.GetAsync("q", CancellationToken.None);
        Assert.False(other.IsCompleted);
        gate.SetResult();
        Assert.Equal(4, await late);
        Assert.Equal(4, await other);
        Assert.Equal(4, cache.Loads);
    }
}
