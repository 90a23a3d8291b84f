using System.Net;
using System.Text.Json;
using Decnet.Core.Storage;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Search;

/// <summary>/logs, /logs/histogram and /stats over HTTP, including hostile searches.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class LogsApiTests : IAsyncLifetime
{
    private static readonly DateTime T0 = new(2026, 1, 1, 10, 0, 0, DateTimeKind.Utc);
    private readonly DecnetWebFactory _factory = new();
    private HttpClient _viewer = null!;

    public async ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        _viewer = _factory.CreateClient((await _factory.CreateActiveUserAsync("reader", UserRole.Viewer)).Token);
        await LogSearchTests.SeedAsync(_factory.Services,
            LogSearchTests.Row(T0, "d1", "ssh", "login", "10.0.0.1", "user=root", """{"user":"root"}"""),
            LogSearchTests.Row(T0.AddMinutes(20), "d2", "http", "request", "10.0.0.2", "GET /", """{"stored_as":"x.bin"}"""));
    }

    public async ValueTask DisposeAsync()
    {
        _viewer.Dispose();
        await _factory.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string url)
    {
        using var response = await _viewer.GetAsync(new Uri(url, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task Logs_pages_in_snake_case_with_defaults()
    {
        var (status, body) = await GetAsync("/api/v1/logs");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetProperty("total").GetInt64());
        Assert.Equal(50, body.GetProperty("limit").GetInt32());
        Assert.Equal(0, body.GetProperty("offset").GetInt32());
        var first = body.GetProperty("data")[0];
        Assert.Equal("d2", first.GetProperty("decky").GetString());
        Assert.Equal("10.0.0.2", first.GetProperty("attacker_ip").GetString());
        Assert.Equal("x.bin", first.GetProperty("fields").GetProperty("stored_as").GetString());
        Assert.Equal("request", first.GetProperty("event_type").GetString());
    }

    [Fact]
    public async Task Logs_page_by_cursor_and_refuse_a_forged_cursor_or_one_mixed_with_an_offset()
    {
        var (_, first) = await GetAsync("/api/v1/logs?limit=1");
        Assert.Equal("d2", first.GetProperty("data")[0].GetProperty("decky").GetString());
        var next = first.GetProperty("next_cursor").GetString();
        Assert.False(string.IsNullOrEmpty(next));

        var (status, second) = await GetAsync("/api/v1/logs?limit=1&cursor=" + Uri.EscapeDataString(next!));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("d1", second.GetProperty("data")[0].GetProperty("decky").GetString());
        Assert.Equal(2, second.GetProperty("total").GetInt64());
        var (_, last) = await GetAsync("/api/v1/logs?limit=1&cursor=" + Uri.EscapeDataString(second.GetProperty("next_cursor").GetString()!));
        Assert.Equal(0, last.GetProperty("data").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, last.GetProperty("next_cursor").ValueKind);

        var (forged, problem) = await GetAsync("/api/v1/logs?cursor=' OR 1=1 --");
        Assert.Equal(HttpStatusCode.BadRequest, forged);
        Assert.Contains("cursor", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var (mixed, _) = await GetAsync("/api/v1/logs?offset=5&cursor=" + Uri.EscapeDataString(next!));
        Assert.Equal(HttpStatusCode.BadRequest, mixed);
    }

    [Fact]
    public async Task Logs_filter_by_search_and_time_and_treat_null_strings_as_absent()
    {
        var (_, bySearch) = await GetAsync("/api/v1/logs?search=" + Uri.EscapeDataString("user:root decky:d1"));
        Assert.Equal(1, bySearch.GetProperty("total").GetInt64());
        var (_, byTime) = await GetAsync("/api/v1/logs?start_time=2026-01-01T10:10:00Z&end_time=null");
        Assert.Equal("d2", Assert.Single(byTime.GetProperty("data").EnumerateArray()).GetProperty("decky").GetString());
        var (_, absent) = await GetAsync("/api/v1/logs?start_time=undefined&end_time=&limit=1&offset=1");
        Assert.Equal("d1", Assert.Single(absent.GetProperty("data").EnumerateArray()).GetProperty("decky").GetString());
    }

    [Fact]
    public async Task Shared_first_pages_are_written_once_with_a_length_and_match_the_same_rows_asked_with_a_filter()
    {
        // The unfiltered first page and histogram are cached bytes; a time filter that matches every row goes to the database.
        foreach (var (shared, filtered) in new[]
        {
            ("/api/v1/logs", "/api/v1/logs?start_time=2025-01-01T00:00:00Z"),
            ("/api/v1/logs/histogram", "/api/v1/logs/histogram?start_time=2025-01-01T00:00:00Z"),
        })
        {
            using var first = await _viewer.GetAsync(new Uri(shared, UriKind.Relative));
            var bytes = await first.Content.ReadAsByteArrayAsync();
            Assert.Equal("application/json", first.Content.Headers.ContentType?.MediaType);
            Assert.Equal(bytes.Length, first.Content.Headers.ContentLength);
            using var again = await _viewer.GetAsync(new Uri(shared, UriKind.Relative));
            Assert.Equal(bytes, await again.Content.ReadAsByteArrayAsync());
            using var fromDatabase = await _viewer.GetAsync(new Uri(filtered, UriKind.Relative));
            Assert.Equal(await fromDatabase.Content.ReadAsStringAsync(), System.Text.Encoding.UTF8.GetString(bytes));
        }
        var (_, stats) = await GetAsync("/api/v1/stats");
        Assert.Equal(2, stats.GetProperty("total_logs").GetInt64());
    }

    [Fact]
    public async Task A_cached_search_is_the_same_answer_for_every_role_refused_without_a_token_and_shows_a_new_event_at_once()
    {
        const string search = "/api/v1/logs?search=service%3Assh&limit=10";
        using var first = await _viewer.GetAsync(new Uri(search, UriKind.Relative));
        var viewerBytes = await first.Content.ReadAsByteArrayAsync();
        using var admin = _factory.CreateClient((await _factory.CreateActiveUserAsync("lead", UserRole.Admin)).Token);
        using var asAdmin = await admin.GetAsync(new Uri(search, UriKind.Relative));
        Assert.Equal(viewerBytes, await asAdmin.Content.ReadAsByteArrayAsync());
        using var anonymous = _factory.CreateClient();
        using var refused = await anonymous.GetAsync(new Uri(search, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var forged = _factory.CreateClient("not-a-token");
        using var refusedForged = await forged.GetAsync(new Uri(search, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, refusedForged.StatusCode);

        // The search's cache lives for seconds; an operator must still see an attack the moment it is stored.
        var e = new Decnet.Core.Honeypots.Events.HoneypotEvent(DateTimeOffset.UtcNow, "d9", "ssh", "auth_attempt", [new("src_ip", "10.0.0.9"), new("username", "oracle")]);
        await _factory.Services.GetRequiredService<Decnet.Core.Ingest.EventIngester>()
            .WriteBatchAsync([new(Decnet.Core.Honeypots.Events.Rfc5424Formatter.Format(e), "api-cache-1")], CancellationToken.None);
        var (_, after) = await GetAsync(search);
        Assert.Equal(2, after.GetProperty("total").GetInt64());
        var newest = after.GetProperty("data")[0];
        Assert.Equal("d9", newest.GetProperty("decky").GetString());
        Assert.Equal("oracle", newest.GetProperty("fields").GetProperty("username").GetString());
    }

    [Theory]
    [InlineData("/api/v1/logs?limit=0", "limit")]
    [InlineData("/api/v1/logs?limit=1001", "limit")]
    [InlineData("/api/v1/logs?offset=-1", "offset")]
    [InlineData("/api/v1/logs?start_time=yesterday", "start_time")]
    [InlineData("/api/v1/logs?search=%27open", "quote")]
    [InlineData("/api/v1/logs?search=%3Ax", "field name")]
    [InlineData("/api/v1/logs/histogram?interval_minutes=0", "interval_minutes")]
    [InlineData("/api/v1/logs/histogram?search=a%22b", "quote")]
    public async Task Bad_input_is_a_400_problem_with_the_reason(string url, string reason)
    {
        var (status, body) = await GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(reason, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Histogram_buckets_matches_by_interval()
    {
        var (status, body) = await GetAsync("/api/v1/logs/histogram?interval_minutes=60");
        Assert.Equal(HttpStatusCode.OK, status);
        var bucket = Assert.Single(body.EnumerateArray());
        Assert.Equal(T0, bucket.GetProperty("time").GetDateTime().ToUniversalTime());
        Assert.Equal(2, bucket.GetProperty("count").GetInt64());
        var (_, filtered) = await GetAsync("/api/v1/logs/histogram?search=service%3Assh");
        Assert.Equal(1, Assert.Single(filtered.EnumerateArray()).GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task Stats_reports_the_headline_numbers()
    {
        var (status, body) = await GetAsync("/api/v1/stats");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetProperty("total_logs").GetInt64());
        Assert.True(body.TryGetProperty("unique_attackers", out _));
        Assert.True(body.TryGetProperty("active_deckies", out _));
    }

    public static TheoryData<string> Hostile => new()
    {
        "'; DROP TABLE logs;--",
        "decky:x' OR '1'='1",
        "foo\"bar",
        "key$.x:1",
        "%_\\",
        "\"; DROP TABLE logs;--",
        "user:' OR 1=1 --'",
        "1x:\"') OR json_extract(Fields,'$') --\"",
        "decky:\"x\\\" OR 1=1\"",
        "' UNION SELECT * FROM users --'",
        "a:b:c",
        "\0",
        new string('\'', 2) + new string('x', 600),
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task Injection_attempts_get_results_or_a_400_and_the_table_survives(string search)
    {
        foreach (var path in new[] { "/api/v1/logs", "/api/v1/logs/histogram" })
        {
            var (status, _) = await GetAsync($"{path}?search={Uri.EscapeDataString(search)}");
            Assert.True(status is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"{path} {search}: {status}");
        }
        var factory = _factory.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        Assert.Equal(2, await db.Logs.CountAsync());
        var (_, page) = await GetAsync("/api/v1/logs?start_time=2000-01-01T00:00:00Z");
        Assert.Equal(2, page.GetProperty("total").GetInt64());
    }
}
