using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Decnet.Core.Events;
using Decnet.Core.Health;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Notifications;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Events;

/// <summary>The ingest on a real migrated database, fed through the same channel the deckies publish to.</summary>
[Trait("Category", TestCategories.Integration)]
public abstract class EventIngesterTests(StorageProvider provider) : IngestTestContext(provider)
{
    public sealed class OnSqlite() : EventIngesterTests(StorageProvider.Sqlite);

    public sealed class OnPostgres() : EventIngesterTests(StorageProvider.Postgres);


    private async Task<List<LogEntry>> RowsAsync()
    {
        await using var db = await Bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        return await db.Logs.AsNoTracking().OrderBy(l => l.Id).ToListAsync();
    }

    private static HoneypotEvent Event(int i, string? message = null) => new(
        new DateTimeOffset(2026, 4, 18, 10, 0, 0, TimeSpan.Zero).AddSeconds(i),
        $"decky-{i % 3}", "ssh", "auth",
        [new("src_ip", $"198.51.100.{i % 250}"), new("username", "root"), new("password", $"pw\"{i}]")],
        message);

    [Fact]
    public async Task N_published_events_become_exactly_n_rows_with_the_right_columns()
    {
        Start();
        const int count = 1234;
        for (var i = 0; i < count; i++)
        {
            Sink.Publish(Event(i, i == 7 ? "seventh" : null));
        }

        await WaitForAsync(c => c.Ingested == count);

        var rows = await RowsAsync();
        Assert.Equal(count, rows.Count);
        Assert.Equal(count, rows.Select(r => r.EventKey).Distinct().Count());
        var seventh = rows[7];
        Assert.Equal(new DateTime(2026, 4, 18, 10, 0, 7), seventh.Timestamp);
        Assert.Equal(("decky-1", "ssh", "auth", "198.51.100.7"), (seventh.Decky, seventh.Service, seventh.EventType, seventh.AttackerIp));
        Assert.Equal("seventh", seventh.Msg);
        Assert.Equal(Rfc5424Formatter.Format(Event(7, "seventh")), seventh.RawLine);
        var fields = JsonSerializer.Deserialize<Dictionary<string, string>>(seventh.Fields)!;
        Assert.Equal("pw\"7]", fields["password"]);
        Assert.Equal("root", fields["username"]);
        Assert.Null(rows[8].Msg);
        Assert.Equal(0, Ingester.Counters.Duplicates);
    }

    [Fact]
    public async Task A_backlog_is_stored_in_batches_bounded_by_rows_and_by_characters()
    {
        var rows = Channel.CreateUnbounded<IngestLine>();
        for (var i = 0; i < 5000; i++)
        {
            rows.Writer.TryWrite(new IngestLine(Rfc5424Formatter.Format(Event(i)), $"row-{i}"));
        }
        rows.Writer.Complete();
        await Ingester.RunAsync(rows.Reader, TestContext.Current.CancellationToken);
        Assert.Equal((5000L, 3L), (Ingester.Counters.Ingested, Ingester.Counters.Batches));

        // 40 lines of 60,000 characters: a batch stops past 2 MiB of text, whatever the row count.
        var big = Channel.CreateUnbounded<IngestLine>();
        for (var i = 0; i < 40; i++)
        {
            // Past the formatter's own message bound: a line as a container or a spool file may carry it.
            big.Writer.TryWrite(new IngestLine($"<134>1 2026-04-18T11:00:{i:00}Z decky-big ssh - auth - {new string('x', 60_000)}", $"big-{i}"));
        }
        big.Writer.Complete();
        await Ingester.RunAsync(big.Reader, TestContext.Current.CancellationToken);
        Assert.Equal((5040L, 5L), (Ingester.Counters.Ingested, Ingester.Counters.Batches));
        Assert.Equal(5040, (await RowsAsync()).Count);
    }

    [Fact]
    public async Task Publishing_the_same_event_twice_inserts_it_once_but_a_lookalike_is_a_new_row()
    {
        Start();
        var original = Event(1);
        var lookalike = original with { Id = Guid.NewGuid() };
        Sink.Publish(original);
        await WaitForAsync(c => c.Ingested == 1);

        Sink.Publish(original);
        Sink.Publish(lookalike);
        await WaitForAsync(c => c.Ingested == 2 && c.Duplicates == 1);

        var rows = await RowsAsync();
        Assert.Equal(2, rows.Count);
        Assert.Equal(rows[0].RawLine, rows[1].RawLine);
    }

    [Fact]
    public async Task A_replayed_batch_inserts_nothing()
    {
        IngestLine[] lines = [.. Enumerable.Range(0, 10).Select(i => new IngestLine(Rfc5424Formatter.Format(Event(i)), $"src:{i}"))];

        Assert.Equal(10, await Ingester.WriteBatchAsync(lines, CancellationToken.None));
        Assert.Equal(0, await Ingester.WriteBatchAsync(lines, CancellationToken.None));

        Assert.Equal(10, (await RowsAsync()).Count);
        Assert.Equal((10, 10), (Ingester.Counters.Ingested, Ingester.Counters.Duplicates));
    }

    [Fact]
    public async Task Malformed_lines_are_counted_and_kept_while_the_rest_is_stored()
    {
        var lines = Channel.CreateUnbounded<IngestLine>();
        Start(lines.Reader);
        await lines.Writer.WriteAsync(new IngestLine("not syslog at all", "a"));
        await lines.Writer.WriteAsync(new IngestLine("<38>1 2026-04-18T10:00:00Z decky sshd 812 login - Accepted password for root from 203.0.113.5", "b"));
        await lines.Writer.WriteAsync(new IngestLine("<134>1 2026-04-18T10:00:00Z d s - t [relay@55555 broken", "c"));
        await lines.Writer.WriteAsync(new IngestLine("<134>1 2026-04-18T10:00:00Z d s - t - " + new string('x', 70_000), "d"));

        await WaitForAsync(c => c.Ingested == 2 && c.Malformed == 2);

        Assert.Equal(["not syslog at all", "<134>1 2026-04-18T10:00:00Z d s - t [relay@55555 broken"], Ingester.RecentMalformed);
        Assert.Equal(1, Ingester.Counters.Truncated);
        var rows = await RowsAsync();
        Assert.Equal(("sshd", "login"), (rows[0].Service, rows[0].EventType));
        Assert.Equal(Rfc5424Parser.MaxLineLength, rows[1].RawLine.Length);
    }

    [Fact]
    public async Task A_batch_is_announced_and_traced_with_the_rows_trace_ids()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == EventIngester.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var announced = new TaskCompletionSource<EventsIngested>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = Bed.Services.GetRequiredService<NotificationHub>().Subscribe<EventsIngested>(e =>
        {
            announced.TrySetResult(e);
            return Task.CompletedTask;
        });
        Start();
        for (var i = 0; i < 30; i++)
        {
            Sink.Publish(Event(i));
        }

        var message = await announced.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await WaitForAsync(c => c.Ingested == 30);

        var rows = await RowsAsync();
        Assert.Equal(rows.Take(message.Count).Last().Id, message.LastId);
        Assert.Equal(Math.Min(message.Count, EventIngester.NewestInNotification), message.Newest.Count);
        Assert.Equal(rows[message.Count - 1].Decky, message.Newest[0].Decky);
        Assert.All(rows, r => Assert.Matches("^[0-9a-f]{32}$", r.TraceId!));
        Assert.All(rows, r => Assert.Matches("^[0-9a-f]{16}$", r.SpanId!));
        var latest = await Bed.Services.GetRequiredService<Decnet.Core.Search.EventLog>().LatestAsync(20, CancellationToken.None);
        Assert.Equal(20, latest.Count);
        Assert.Equal(rows[^1].Timestamp, latest[0].TimestampUtc);
    }

    [Fact]
    public async Task The_ingestion_probe_is_ok_only_while_the_worker_runs()
    {
        var probe = Bed.Services.GetServices<IHealthProbe>().Single(p => p.Name == "ingestion");
        Assert.True(probe.Critical);
        Assert.Equal(ProbeStatus.Failing, (await probe.ProbeAsync(CancellationToken.None)).Status);

        Start();
        Assert.Equal(ProbeStatus.Ok, (await probe.ProbeAsync(CancellationToken.None)).Status);

        await StopAsync();
        var stopped = await probe.ProbeAsync(CancellationToken.None);
        Assert.Equal(ProbeStatus.Failing, stopped.Status);
        Assert.Contains("not running", stopped.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_batch_fails_the_probe_with_the_error_and_is_retried()
    {
        var probe = Bed.Services.GetServices<IHealthProbe>().Single(p => p.Name == "ingestion");
        await using (var db = await Bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync())
        {
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE logs RENAME TO logs_away");
        }
        Start();
        Sink.Publish(Event(1));
        await WaitForAsync(c => c.LastError is not null);

        var failing = await probe.ProbeAsync(CancellationToken.None);
        Assert.Equal(ProbeStatus.Failing, failing.Status);
        Assert.Contains(Bed.Provider == StorageProvider.Postgres ? "relation \"logs\" does not exist" : "no such table", failing.Detail, StringComparison.Ordinal);

        await using (var db = await Bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync())
        {
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE logs_away RENAME TO logs");
        }
        await WaitForAsync(c => c.Ingested == 1);
        Assert.Equal(ProbeStatus.Ok, (await probe.ProbeAsync(CancellationToken.None)).Status);
    }
}
