using Decnet.Core.Caching;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Caching;

public sealed class SingleFlightCacheTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Concurrent_callers_while_a_load_is_in_flight_share_that_one_load()
    {
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var cache = new SingleFlightCache<int>(_time, TimeSpan.FromSeconds(5), async _ =>
        {
            Interlocked.Increment(ref calls);
            return await release.Task;
        });

        var callers = Enumerable.Range(0, 100).Select(_ => Task.Run(() => cache.GetAsync(CancellationToken.None))).ToArray();
        // Every caller has asked before the load can finish.
        await Task.WhenAll(callers.Select(c => Task.WhenAny(c, Task.Delay(50))));
        Assert.All(callers, c => Assert.False(c.IsCompleted));
        release.SetResult(42);

        Assert.All(await Task.WhenAll(callers), v => Assert.Equal(42, v));
        Assert.Equal(1, calls);
        Assert.Equal(1, cache.Loads);
    }

    [Fact]
    public async Task The_value_is_shared_for_its_lifetime_then_loaded_again()
    {
        var calls = 0;
        var cache = new SingleFlightCache<int>(_time, TimeSpan.FromSeconds(5), _ => Task.FromResult(Interlocked.Increment(ref calls)));

        Assert.Equal(1, await cache.GetAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(1, await cache.GetAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(2, await cache.GetAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_writer_advancing_the_generation_makes_the_next_read_fresh()
    {
        long generation = 0;
        var calls = 0;
        var cache = new SingleFlightCache<int>(_time, TimeSpan.FromMinutes(1), _ => Task.FromResult(Interlocked.Increment(ref calls)), () => Interlocked.Read(ref generation));

        Assert.Equal(1, await cache.GetAsync(CancellationToken.None));
        Assert.Equal(1, await cache.GetAsync(CancellationToken.None));
        Interlocked.Increment(ref generation);
        Assert.Equal(2, await cache.GetAsync(CancellationToken.None));
        cache.Invalidate();
        Assert.Equal(3, await cache.GetAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_failed_load_is_not_kept()
    {
        var calls = 0;
        var cache = new SingleFlightCache<int>(_time, TimeSpan.FromMinutes(1), _ =>
            Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("database locked") : Task.FromResult(7));

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync(CancellationToken.None));
        Assert.Equal(7, await cache.GetAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_cancel_the_load_for_the_others()
    {
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        CancellationToken loadToken = default;
        var cache = new SingleFlightCache<int>(_time, TimeSpan.FromSeconds(5), async ct =>
        {
            loadToken = ct;
            return await release.Task;
        });
        using var impatient = new CancellationTokenSource();
        var first = cache.GetAsync(impatient.Token);
        var second = cache.GetAsync(CancellationToken.None);
        await impatient.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        release.SetResult(9);
        Assert.Equal(9, await second);
        Assert.False(loadToken.CanBeCanceled);
        Assert.Equal(1, cache.Loads);
    }
}
