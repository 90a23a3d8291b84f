using Decnet.Core.Events;
using Decnet.Core.Search;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Search;

/// <summary>The search on a real migrated database with seeded rows.</summary>
[Trait("Category", TestCategories.Integration)]
public abstract class LogSearchTests(StorageProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : LogSearchTests(StorageProvider.Sqlite);

    public sealed class OnPostgres() : LogSearchTests(StorageProvider.Postgres);

    private static readonly DateTime T0 = new(2026, 1, 1, 10, 0, 0, DateTimeKind.Utc);
    private CoreTestBed _bed = null!;

    private LogSearch Search => _bed.Services.GetRequiredService<LogSearch>();

    public async ValueTask InitializeAsync()
    {
        _bed = await CoreTestBed.StartAsync(provider);
        await SeedAsync(_bed.Services,
            Row(T0, "d1", "ssh", "login", "10.0.0.1", "user=root pass=toor", """{"user":"root","port":22}"""),
            Row(T0.AddMinutes(5), "d1", "http", "request", "10.0.0.2", "GET /admin%20x", """{"path":"/admin","stored_as":"abc.bin"}"""),
            Row(T0.AddMinutes(20), "d2", "ssh", "login", "10.0.0.1", "user=admin", """{"user":"admin"}"""),
            // PostgreSQL's json column refuses malformed JSON; a document that is no object is its unreadable case.
            Row(T0.AddMinutes(50), "d2", "redis", "command", null, "CONFIG SET dir_x", provider == StorageProvider.Postgres ? "[1]" : "not json"),
            Row(T0.AddMinutes(61), "d3", "ftp", "login", "10.0.0.3", "100% sure_thing", """{"user":"anonymous"}"""));
    }

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    internal static LogEntry Row(DateTime at, string decky, string service, string eventType, string? ip, string raw, string fields = "{}") =>
        new() { Timestamp = at, Decky = decky, Service = service, EventType = eventType, AttackerIp = ip, RawLine = raw, Fields = fields };

    internal static async Task SeedAsync(IServiceProvider services, params LogEntry[] rows)
    {
        var factory = services.GetRequiredService<IDbContextFactory<DecnetDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        db.Logs.AddRange(rows);
        await db.SaveChangesAsync();
    }

    private async Task<LogPage> FindAsync(string query, DateTime? start = null, DateTime? end = null, int limit = 100, int offset = 0)
    {
        var parsed = LogQuery.Parse(query);
        Assert.True(parsed.Succeeded, parsed.Error);
        return await Search.SearchAsync(parsed.Query!, start, end, limit, offset, CancellationToken.None);
    }

    private async Task<string[]> RawLinesAsync(string query) => [.. (await FindAsync(query)).Data.Select(r => r.RawLine)];

    [Fact]
    public async Task Unfiltered_returns_everything_newest_first_with_the_total()
    {
        var page = await FindAsync("");
        Assert.Equal(5, page.Total);
        Assert.Equal(["d3", "d2", "d2", "d1", "d1"], page.Data.Select(r => r.Decky));
        Assert.All(page.Data, r => Assert.Equal(DateTimeKind.Utc, r.Timestamp.Kind));
    }

    [Fact]
    public async Task Paging_applies_limit_and_offset_but_total_counts_all_matches()
    {
        var page = await FindAsync("event:login", limit: 1, offset: 1);
        Assert.Equal(3, page.Total);
        Assert.Equal("user=admin", Assert.Single(page.Data).RawLine);
    }

    [Theory]
    [InlineData("user:root")]
    [InlineData("username:root")]
    [InlineData("USER:root")]
    public async Task User_and_username_are_one_field_to_the_operator(string query)
    {
        // SSH, FTP and MySQL log "username", the emulated shell logs "user": the pages show either, the search finds both.
        await SeedAsync(_bed.Services,
            Row(T0.AddMinutes(70), "d4", "ssh", "auth_attempt", "10.0.0.4", "username=root password=123456", """{"username":"root","password":"123456","result":"failure"}"""),
            Row(T0.AddMinutes(71), "d4", "ssh", "auth_attempt", "10.0.0.4", "username=rooted", """{"username":"rooted"}"""));

        Assert.Equal(["username=root password=123456", "user=root pass=toor"], await RawLinesAsync(query));
    }

    [Theory]
    [InlineData("pass:123456")]
    [InlineData("password:123456")]
    public async Task Pass_and_password_are_one_field(string query)
    {
        await SeedAsync(_bed.Services,
            Row(T0.AddMinutes(70), "d4", "ssh", "auth_attempt", "10.0.0.4", "ssh attempt", """{"username":"root","password":"123456"}"""),
            Row(T0.AddMinutes(71), "d4", "ftp", "auth_attempt", "10.0.0.5", "ftp attempt", """{"user":"root","pass":"123456"}"""));

        Assert.Equal(["ftp attempt", "ssh attempt"], await RawLinesAsync(query));
    }

    [Theory]
    [InlineData("decky:d1", 2)]
    [InlineData("service:ssh", 2)]
    [InlineData("event:login", 3)]
    [InlineData("attacker:10.0.0.1", 2)]
    [InlineData("attacker-ip:10.0.0.2", 1)]
    [InlineData("attacker_ip:10.0.0.3", 1)]
    [InlineData("decky:d", 0)]
    [InlineData("decky:d1 service:ssh", 1)]
    public async Task Column_terms_are_exact_and_combine_with_and(string query, int count) =>
        Assert.Equal(count, (await FindAsync(query)).Total);

    [Fact]
    public async Task Field_terms_match_json_values_exactly_and_skip_malformed_json()
    {
        Assert.Equal(["user=root pass=toor"], await RawLinesAsync("user:root"));
        Assert.Equal(["GET /admin%20x"], await RawLinesAsync("stored_as:abc.bin"));
        Assert.Empty(await RawLinesAsync("user:roo"));
        Assert.Empty(await RawLinesAsync("nosuchkey:1"));
    }

    [Fact]
    public async Task Text_terms_are_case_insensitive_substrings_of_raw_line_decky_service_or_ip()
    {
        Assert.Equal(2, (await FindAsync("ADMIN")).Total);
        Assert.Equal(1, (await FindAsync("redis")).Total);
        Assert.Equal(2, (await FindAsync("d2")).Total);
        Assert.Equal(1, (await FindAsync("0.0.3")).Total);
        Assert.Equal(1, (await FindAsync("ssh root")).Total);
    }

    [Fact]
    public async Task Like_wildcards_in_text_terms_are_literal()
    {
        Assert.Equal(["100% sure_thing", "GET /admin%20x"], (await RawLinesAsync("%")).Order(StringComparer.Ordinal));
        Assert.Equal(["100% sure_thing", "CONFIG SET dir_x"], (await RawLinesAsync("_")).Order(StringComparer.Ordinal));
        Assert.Empty(await RawLinesAsync("\\\\"));
        Assert.Equal(["GET /admin%20x"], await RawLinesAsync("n%2"));
    }

    [Fact]
    public async Task Keyset_pages_walk_every_row_once_in_the_offset_order_even_while_new_rows_arrive()
    {
        // Rows sharing one timestamp: the id breaks the tie, as in the offset order.
        await SeedAsync(_bed.Services, [.. Enumerable.Range(0, 7).Select(i => Row(T0.AddMinutes(30), "d9", "smb", "connect", $"10.9.0.{i}", $"tie {i}"))]);
        var byOffset = (await FindAsync("", limit: 100)).Data.Select(r => r.Id).ToList();
        Assert.Equal(12, byOffset.Count);

        var walked = new List<long>();
        LogCursor? cursor = null;
        var pages = 0;
        do
        {
            var page = await Search.SearchAsync(LogQuery.Empty, null, null, 5, 0, cursor, CancellationToken.None);
            walked.AddRange(page.Data.Select(r => r.Id));
            cursor = page.NextCursor is { } next && LogCursor.TryParse(next, out var parsed) ? parsed : null;
            if (pages++ == 0)
            {
                // A newer row after the first page moves offsets, never a keyset walk.
                await SeedAsync(_bed.Services, Row(T0.AddDays(1), "d9", "smb", "connect", "10.9.9.9", "newest"));
            }
        }
        while (cursor is not null);

        Assert.Equal(byOffset, walked);
        Assert.Equal(3, pages);
        var filtered = await Search.SearchAsync(LogQuery.Parse("decky:d9").Query!, null, null, 3, 0, LogCursor.TryParse((await Search.SearchAsync(LogQuery.Parse("decky:d9").Query!, null, null, 3, 0, CancellationToken.None)).NextCursor, out var third) ? third : null, CancellationToken.None);
        // The first d9 page was "newest", tie 6, tie 5.
        Assert.Equal(["tie 4", "tie 3", "tie 2"], filtered.Data.Select(r => r.RawLine));
    }

    [Fact]
    public void A_cursor_is_two_plain_numbers_and_anything_else_does_not_parse()
    {
        var cursor = new LogCursor(T0, 42);
        Assert.True(LogCursor.TryParse(cursor.ToString(), out var parsed));
        Assert.Equal(cursor, parsed);
        foreach (var bad in new[] { "", "42", ".42", "1.", "-1.2", "1.-2", "1.2.3", "x.1", "99999999999999999999.1", "1 .2", new string('1', 41) + ".1" })
        {
            Assert.False(LogCursor.TryParse(bad, out _), bad);
        }
    }

    [Fact]
    public async Task Start_and_end_bound_the_timestamp_inclusively()
    {
        var page = await FindAsync("", T0.AddMinutes(5), T0.AddMinutes(50));
        Assert.Equal(3, page.Total);
        Assert.Equal(["d2", "d2", "d1"], page.Data.Select(r => r.Decky));
        Assert.Equal(1, (await FindAsync("event:login", start: T0.AddMinutes(1), end: T0.AddMinutes(30))).Total);
    }

    [Fact]
    public async Task Rows_carry_their_parsed_fields_and_artifact_marker()
    {
        var rows = (await FindAsync("")).Data;
        var http = rows.Single(r => r.Service == "http");
        Assert.True(http.HasArtifact);
        Assert.Equal("/admin", http.Fields["path"]);
        Assert.Equal("22", rows.Single(r => r.RawLine.StartsWith("user=root", StringComparison.Ordinal)).Fields["port"]);
        Assert.Empty(rows.Single(r => r.Service == "redis").Fields);
    }

    [Fact]
    public async Task Histogram_counts_matching_rows_per_epoch_aligned_bucket()
    {
        var all = await Search.HistogramAsync(LogQuery.Empty, null, null, 15, CancellationToken.None);
        Assert.Equal(
            [new HistogramBucket(T0, 2), new HistogramBucket(T0.AddMinutes(15), 1), new HistogramBucket(T0.AddMinutes(45), 1), new HistogramBucket(T0.AddMinutes(60), 1)],
            all);
        Assert.All(all, b => Assert.Equal(DateTimeKind.Utc, b.Time.Kind));

        var logins = await Search.HistogramAsync(LogQuery.Parse("event:login").Query!, null, T0.AddMinutes(30), 60, CancellationToken.None);
        Assert.Equal([new HistogramBucket(T0, 2)], logins);

        var fields = await Search.HistogramAsync(LogQuery.Parse("user:admin").Query!, null, null, 7, CancellationToken.None);
        Assert.Equal(1, Assert.Single(fields).Count);
    }

    [Fact]
    public async Task After_id_returns_newer_matching_rows_oldest_first()
    {
        var all = (await FindAsync("")).Data.OrderBy(r => r.Id).ToList();
        var after = await Search.AfterIdAsync(all[0].Id, LogQuery.Parse("event:login").Query!, 10, CancellationToken.None);
        Assert.Equal([all[2].Id, all[4].Id], after.Select(r => r.Id));
        Assert.Empty(await Search.AfterIdAsync(all[^1].Id, LogQuery.Empty, 10, CancellationToken.None));
    }

    [Fact]
    public async Task The_unfiltered_total_is_shared_for_two_seconds_but_filtered_totals_are_live()
    {
        Assert.Equal(5, (await FindAsync("")).Total);
        await SeedAsync(_bed.Services, Row(T0.AddHours(3), "d9", "ssh", "login", "10.0.0.9", "late"));
        Assert.Equal(5, (await FindAsync("")).Total);
        Assert.Equal(6, (await FindAsync("", start: T0)).Total);
        Assert.Equal(1, (await FindAsync("decky:d9")).Total);
    }

    [Fact]
    public async Task Concurrent_unfiltered_requests_all_get_the_total()
    {
        var pages = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => FindAsync("", limit: 1)));
        Assert.All(pages, p => Assert.Equal(5, p.Total));
    }

    [Fact]
    public async Task Hostile_values_are_data_and_never_break_the_sql()
    {
        foreach (var query in new[] { "\"'; DROP TABLE logs;--\"", "decky:x' OR '1'='1", "key$.x:1", "%_\\\\", "1x:\"') OR 1=1--\"", "user:\"root' --\"" })
        {
            var page = await FindAsync(query);
            Assert.Equal(0, page.Total);
            await Search.HistogramAsync(LogQuery.Parse(query).Query!, null, null, 1, CancellationToken.None);
        }
        Assert.Equal(5, (await FindAsync("", start: T0.AddYears(-1))).Total);
    }
}
