using Decnet.Core.Events;
using Decnet.Core.Notifications;
using Decnet.Core.Overview;
using Decnet.Core.Search;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Search;
using Decnet.Web.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Decnet.Tests.Streaming;

/// <summary>The per-client producer on the real search and database, without HTTP in between.</summary>
[Trait("Category", TestCategories.Unit)]
public sealed class EventStreamSessionTests : IAsyncLifetime
{
    private CoreTestBed _bed = null!;
    private User _user = null!;

    public async ValueTask InitializeAsync()
    {
        _bed = await CoreTestBed.StartAsync();
        _user = await _bed.CreateActiveUserAsync("reader", "reader-password-1", UserRole.Viewer);
    }

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    private EventStreamSession Session(EventStreamOptions options, string query = "")
    {
        var hub = new EventStreamHub(_bed.Services.GetRequiredService<EventStatistics>(), Options.Create(options), TimeProvider.System);
        return new EventStreamSession(LogQuery.Parse(query).Query!, 0, new StreamTicket(_user.Id, _user.SecurityStamp, DateTimeOffset.MaxValue),
            _bed.Services.GetRequiredService<LogSearch>(), hub, _bed.Services.GetRequiredService<NotificationHub>(), _bed.Users, options, TimeProvider.System);
    }

    [Fact]
    public async Task A_client_that_does_not_read_is_dropped_once_its_queue_stays_full()
    {
        var options = new EventStreamOptions { BufferSize = 5, SlowClientTimeout = TimeSpan.FromMilliseconds(200), StatsInterval = TimeSpan.FromHours(1), RevalidateInterval = TimeSpan.FromHours(1) };
        using var session = Session(options);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = session.RunAsync(stop.Token);

        var at = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        await LogSearchTests.SeedAsync(_bed.Services, [.. Enumerable.Range(0, 20).Select(i => LogSearchTests.Row(at.AddSeconds(i), "d1", "ssh", "command", "10.0.0.1", "line " + i))]);
        _bed.Services.GetRequiredService<NotificationHub>().Publish(new EventsIngested(20, 20, []));

        await run.WaitAsync(stop.Token);
        Assert.True(session.Dropped);
        Assert.Equal("dropped", session.EndReason);
        // Nothing beyond the bound was kept: the stats message and four rows fill the five places.
        var queued = new List<StreamMessage>();
        await foreach (var message in session.Messages.ReadAllAsync(stop.Token))
        {
            queued.Add(message);
        }
        Assert.Equal(5, queued.Count);
        Assert.Equal(["stats", "log", "log", "log", "log"], queued.Select(m => m.Type));
    }

    [Fact]
    public async Task A_client_that_keeps_reading_gets_a_burst_larger_than_its_queue_in_order()
    {
        var options = new EventStreamOptions { BufferSize = 5, StatsInterval = TimeSpan.FromHours(1), RevalidateInterval = TimeSpan.FromHours(1) };
        using var session = Session(options, "decky:d2");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = session.RunAsync(stop.Token);
        Assert.Equal("stats", (await session.Messages.ReadAsync(stop.Token)).Type);

        var at = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        await LogSearchTests.SeedAsync(_bed.Services, [.. Enumerable.Range(0, 30).Select(i => LogSearchTests.Row(at.AddSeconds(i), i % 2 == 0 ? "d1" : "d2", "ssh", "command", "10.0.0.1", "line " + i))]);
        _bed.Services.GetRequiredService<NotificationHub>().Publish(new EventsIngested(30, 30, []));

        var lines = new List<string>();
        while (lines.Count < 15)
        {
            var message = await session.Messages.ReadAsync(stop.Token);
            lines.Add(message.Row!.RawLine);
        }
        Assert.Equal(Enumerable.Range(0, 30).Where(i => i % 2 == 1).Select(i => "line " + i), lines);
        Assert.False(session.Dropped);
        await stop.CancelAsync();
        await run;
    }
}
