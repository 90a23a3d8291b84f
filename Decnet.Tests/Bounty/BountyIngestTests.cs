using Decnet.Core.Bounty;
using Decnet.Core.Events;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Notifications;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Bounty;

/// <summary>The running ingest on a real migrated database writes bounties with the batch, once each.</summary>
[Trait("Category", TestCategories.Integration)]
public abstract class BountyIngestTests(StorageProvider provider) : IngestTestContext(provider)
{
    public sealed class OnSqlite() : BountyIngestTests(StorageProvider.Sqlite);

    public sealed class OnPostgres() : BountyIngestTests(StorageProvider.Postgres);

    private BountyQuery Query => Bed.Services.GetRequiredService<BountyQuery>();

    private static HoneypotEvent Attempt(string ip, string user, string password, int second) => new(
        new DateTimeOffset(2026, 4, 18, 10, 0, second, TimeSpan.Zero), "decky-1", "ssh", "auth_attempt",
        [new("src_ip", ip), new("src_port", "40000"), new("username", user), new("password", password), new("method", "password")]);

    private async Task<List<BountyRecord>> BountiesAsync()
    {
        await using var db = await Bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        return await db.Bounties.AsNoTracking().OrderBy(b => b.Id).ToListAsync();
    }

    [Fact]
    public async Task The_same_credential_tried_twice_is_stored_once_and_announced()
    {
        var found = new List<int>();
        using var subscription = Bed.Services.GetRequiredService<NotificationHub>().Subscribe<BountiesFound>(b =>
        {
            lock (found)
            {
                found.Add(b.Count);
            }
            return Task.CompletedTask;
        });
        Start();

        Sink.Publish(Attempt("203.0.113.5", "root", "toor", 1));
        Sink.Publish(Attempt("203.0.113.5", "root", "toor", 2));
        Sink.Publish(Attempt("203.0.113.5", "root", "123456", 3));
        await WaitForAsync(c => c.Ingested >= 3);
        // A later batch repeating a known credential adds nothing either.
        Sink.Publish(Attempt("203.0.113.5", "root", "toor", 4));
        Sink.Publish(Attempt("203.0.113.6", "root", "toor", 5));
        await WaitForAsync(c => c.Ingested >= 5);

        var rows = await BountiesAsync();
        Assert.Equal(3, rows.Count);
        Assert.Equal(
            [("203.0.113.5", "toor"), ("203.0.113.5", "123456"), ("203.0.113.6", "toor")],
            rows.Select(r => (r.AttackerIp!, System.Text.Json.JsonDocument.Parse(r.Payload).RootElement.GetProperty("password").GetString()!)));
        var first = rows[0];
        Assert.Equal(("decky-1", "ssh", BountyExtractor.Credential, new DateTime(2026, 4, 18, 10, 0, 1)), (first.Decky, first.Service, first.BountyType, first.Timestamp));
        Assert.NotNull(first.DedupKey);

        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            lock (found)
            {
                if (found.Sum() == 3)
                {
                    break;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, "BountiesFound did not total 3");
            await Task.Delay(20);
        }
        Assert.Equal(3, (await Query.ListAsync(BountyQuery.DefaultLimit, 0, null, null, CancellationToken.None)).Total);
    }

    [Fact]
    public async Task A_replayed_batch_writes_no_second_bounty_and_logs_and_bounties_share_the_transaction()
    {
        var lines = new[]
        {
            new IngestLine(Rfc5424Formatter.Format(Attempt("203.0.113.7", "admin", "admin", 1)), "a"),
            new IngestLine(Rfc5424Formatter.Format(new HoneypotEvent(new DateTimeOffset(2026, 4, 18, 10, 0, 2, TimeSpan.Zero), "decky-2", "http", "request",
                [new("src_ip", "203.0.113.7"), new("method", "GET"), new("path", "/"), new("user_agent", "Nuclei")])), "b"),
        };
        var announced = new TaskCompletionSource<EventsIngested>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = Bed.Services.GetRequiredService<NotificationHub>().Subscribe<EventsIngested>(e =>
        {
            announced.TrySetResult(e);
            return Task.CompletedTask;
        });
        Assert.Equal(2, await Ingester.WriteBatchAsync(lines, CancellationToken.None));
        Assert.Equal(0, await Ingester.WriteBatchAsync(lines, CancellationToken.None));

        var rows = await BountiesAsync();
        Assert.Equal([BountyExtractor.Credential, BountyExtractor.Fingerprint], rows.Select(r => r.BountyType));
        await using var db = await Bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        Assert.Equal(2, await db.Logs.CountAsync());
        // The bounty inserts come after last_insert_rowid: live views are told the logs row, not a bounty row.
        var logsMax = await db.Logs.MaxAsync(l => l.Id);
        Assert.Equal(logsMax, (await announced.Task.WaitAsync(TimeSpan.FromSeconds(5))).LastId);
    }

    [Fact]
    public async Task Query_filters_by_type_searches_with_literal_wildcards_and_pages_newest_first()
    {
        var lines = new List<IngestLine>();
        for (var i = 0; i < 60; i++)
        {
            lines.Add(new(Rfc5424Formatter.Format(Attempt($"198.51.100.{i}", "user_" + i, i == 7 ? "100%_sure" : $"pw{i}", i % 60)), $"c{i}"));
        }
        lines.Add(new(Rfc5424Formatter.Format(new HoneypotEvent(DateTimeOffset.UnixEpoch.AddYears(56), "decky-9", "vnc", "version",
            [new("src_ip", "192.0.2.1"), new("client_version", "RFB 003.008")])), "v"));
        await Ingester.WriteBatchAsync(lines, CancellationToken.None);

        var all = await Query.ListAsync(50, 0, null, null, CancellationToken.None);
        Assert.Equal(61, all.Total);
        Assert.Equal(50, all.Items.Count);
        Assert.Equal("fingerprint", all.Items[0].BountyType);
        Assert.Equal(11, (await Query.ListAsync(50, 50, null, null, CancellationToken.None)).Items.Count);

        var fingerprints = await Query.ListAsync(50, 0, BountyExtractor.Fingerprint, null, CancellationToken.None);
        Assert.Equal("decky-9", Assert.Single(fingerprints.Items).Decky);
        Assert.Equal(60, (await Query.ListAsync(1000, 0, BountyExtractor.Credential, null, CancellationToken.None)).Total);

        // '%' and '_' are literal: only the one password that contains "0%_" matches.
        var literal = await Query.ListAsync(50, 0, null, "0%_", CancellationToken.None);
        Assert.Equal("198.51.100.7", Assert.Single(literal.Items).AttackerIp);
        Assert.Single((await Query.ListAsync(50, 0, null, "198.51.100.42", CancellationToken.None)).Items);
        Assert.Single((await Query.ListAsync(50, 0, null, "DECKY-9", CancellationToken.None)).Items);
        Assert.Equal(0, (await Query.ListAsync(50, 0, BountyExtractor.Payload, null, CancellationToken.None)).Total);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Query.ListAsync(1001, 0, null, null, CancellationToken.None));
    }

    [Fact]
    public async Task The_default_page_is_cached_until_new_bounties_commit()
    {
        var empty = await Query.ListAsync(BountyQuery.DefaultLimit, 0, null, null, CancellationToken.None);
        Assert.Equal(0, empty.Total);
        await using (var db = await Bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync())
        {
            // Written behind the ingest's back: the cached page does not see it, a filtered query does.
            db.Bounties.Add(new BountyRecord { Decky = "d", Service = "s", BountyType = "credential", Payload = "{}", Timestamp = DateTime.UtcNow });
            await db.SaveChangesAsync();
        }
        Assert.Same(empty, await Query.ListAsync(BountyQuery.DefaultLimit, 0, null, null, CancellationToken.None));
        Assert.Equal(1, (await Query.ListAsync(BountyQuery.DefaultLimit, 0, "credential", null, CancellationToken.None)).Total);

        await Ingester.WriteBatchAsync([new(Rfc5424Formatter.Format(Attempt("203.0.113.8", "a", "b", 1)), "x")], CancellationToken.None);
        Assert.Equal(2, (await Query.ListAsync(BountyQuery.DefaultLimit, 0, null, null, CancellationToken.None)).Total);
    }
}
