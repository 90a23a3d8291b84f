using System.Net;
using System.Text.Json;
using Decnet.Core.Attackers;
using Decnet.Core.Bounty;
using Decnet.Core.Events;
using Decnet.Core.Export;
using Decnet.Core.Storage;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Search;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Export;

/// <summary>
/// The export endpoints over HTTP as a viewer: the same filters as the lists, every matching row exactly
/// once across the database chunks, attacker text neutralised, and the usual refusals.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ExportApiTests : IAsyncLifetime
{
    private static readonly DateTime T0 = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);
    private readonly DecnetWebFactory _factory = new();
    private readonly TempDirectory _files = new("decnet-export");
    private HttpClient _viewer = null!;

    public async ValueTask InitializeAsync()
    {
        _factory.CreateClient().Dispose();
        _viewer = _factory.CreateClient((await _factory.CreateActiveUserAsync("analyst", UserRole.Viewer)).Token);
    }

    public async ValueTask DisposeAsync()
    {
        _viewer.Dispose();
        await _factory.DisposeAsync();
        _files.Dispose();
    }

    private async Task<DecnetDbContext> DbAsync() =>
        await _factory.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();

    private async Task<HttpResponseMessage> GetAsync(string url, HttpClient? client = null) =>
        await (client ?? _viewer).GetAsync(new Uri(url, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);

    private async Task<IReadOnlyList<IReadOnlyList<string>>> CsvAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var path = Path.Combine(_files.Path, Guid.NewGuid().ToString("N") + ".csv");
        await using (var file = File.Create(path))
        {
            await response.Content.CopyToAsync(file);
        }
        return await PythonCsv.ReadAsync(path);
    }

    [Fact]
    public async Task Log_export_streams_every_matching_row_once_newest_first_across_chunks_with_equal_times()
    {
        // More rows than one database chunk, many sharing a timestamp, so the resume point falls inside a run of equal times.
        var rows = new List<LogEntry>();
        for (var i = 0; i < 2 * Decnet.Core.Search.LogSearch.ExportChunk + 137; i++)
        {
            rows.Add(LogSearchTests.Row(T0.AddSeconds(i / 7), i % 3 == 0 ? "web" : "db", "ssh", "auth_attempt", $"198.51.100.{i % 200}",
                $"login {i}", $$"""{"username":"u{{i}}","password":"=HYPERLINK(\"http://x\")"}"""));
        }
        rows.Add(LogSearchTests.Row(T0.AddDays(-40), "web", "ssh", "auth_attempt", "203.0.113.9", "too old", "{}"));
        await LogSearchTests.SeedAsync(_factory.Services, [.. rows]);
        var expected = rows.Where(r => r.Decky == "web" && r.Timestamp >= T0).OrderByDescending(r => r.Timestamp).ThenByDescending(r => r.Id).ToList();

        using var response = await GetAsync("/api/v1/logs/export?search=" + Uri.EscapeDataString("decky:web") + "&start_time=2026-03-01T00:00:00Z");
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Matches(@"^""?decnet-logs-\d{8}T\d{6}Z\.csv""?$", response.Content.Headers.ContentDisposition?.FileName);
        var csv = await CsvAsync(response);

        Assert.Equal(ExportTables.LogColumns, csv[0]);
        Assert.Equal(expected.Select(r => r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), csv.Skip(1).Select(r => r[0]));
        var first = csv[1];
        Assert.Equal(DateTime.SpecifyKind(expected[0].Timestamp, DateTimeKind.Utc).ToString("O"), first[1]);
        Assert.Equal(["web", "ssh", "auth_attempt", expected[0].AttackerIp!], first.Skip(2).Take(4));
        Assert.Equal(expected[0].RawLine, first[7]);
        // The fields column is the stored JSON object, its text made safe: backslashes doubled, no formula.
        Assert.Contains("=HYPERLINK", first[6], StringComparison.Ordinal);
        Assert.StartsWith("{", first[6], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_export_as_json_is_one_array_with_the_fields_as_objects()
    {
        await LogSearchTests.SeedAsync(_factory.Services,
            LogSearchTests.Row(T0, "gate", "ssh", "auth_attempt", "192.0.2.1", "user=root", """{"username":"root","password":"<b>x</b>"}"""),
            LogSearchTests.Row(T0.AddMinutes(1), "gate", "http", "request", "192.0.2.2", "GET /", """{"path":"/"}"""));

        using var response = await GetAsync("/api/v1/logs/export?format=json&search=" + Uri.EscapeDataString("user:root"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(body);

        var row = Assert.Single(document.RootElement.EnumerateArray());
        Assert.Equal("gate", row.GetProperty("decky").GetString());
        Assert.Equal("<b>x</b>", row.GetProperty("fields").GetProperty("password").GetString());
        Assert.DoesNotContain("<b>", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bounty_export_follows_the_type_and_search_filters()
    {
        await using (var db = await DbAsync())
        {
            db.Bounties.AddRange(
                new BountyRecord { Timestamp = T0, Decky = "web-1", Service = "http", AttackerIp = "203.0.113.1", BountyType = BountyExtractor.Credential,
                    Payload = """{"username":"admin","password":"@admin","outcome":"failure"}""", DedupKey = "b1" },
                new BountyRecord { Timestamp = T0.AddSeconds(1), Decky = "ssh-1", Service = "ssh", AttackerIp = "203.0.113.2", BountyType = BountyExtractor.Fingerprint,
                    Payload = """{"fingerprint_type":"ssh_client","value":"SSH-2.0-Go"}""", DedupKey = "b2" },
                new BountyRecord { Timestamp = T0.AddSeconds(2), Decky = "ssh-1", Service = "ssh", AttackerIp = "203.0.113.3", BountyType = BountyExtractor.Credential,
                    Payload = """{"username":"root","password":"toor","outcome":"success"}""", DedupKey = "b3" });
            await db.SaveChangesAsync();
        }

        var credentials = await CsvAsync(await GetAsync("/api/v1/bounty/export?bounty_type=credential"));
        Assert.Equal(ExportTables.BountyColumns, credentials[0]);
        Assert.Equal(["203.0.113.3", "203.0.113.1"], credentials.Skip(1).Select(r => r[4]));
        Assert.Contains("\"password\":\"toor\"", credentials[1][6], StringComparison.Ordinal);

        using var json = await GetAsync("/api/v1/bounty/export?format=json&search=SSH-2.0");
        using var document = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        var only = Assert.Single(document.RootElement.EnumerateArray());
        Assert.Equal("SSH-2.0-Go", only.GetProperty("payload").GetProperty("value").GetString());
    }

    [Fact]
    public async Task Attacker_export_has_the_lists_order_and_filters_without_command_lists()
    {
        await using (var db = await DbAsync())
        {
            db.Attackers.AddRange(
                new Attacker { Ip = "192.0.2.10", FirstSeen = T0, LastSeen = T0.AddHours(1), EventCount = 5, Services = """["ssh"]""", Deckies = """["gate"]""" },
                new Attacker { Ip = "192.0.2.11", FirstSeen = T0, LastSeen = T0.AddHours(2), EventCount = 50, Services = """["ssh","http"]""", Deckies = """["gate","web"]""",
                    IsTraversal = true, TraversalPath = "gate -> web", DeckyCount = 2, ServiceCount = 2,
                    Commands = """[{"timestamp":"2026-03-01T12:00:00Z","decky":"gate","service":"ssh","cmd":"cat /etc/shadow"}]""",
                    Behavior = new AttackerBehavior { OsGuess = "linux", BehaviorClass = "interactive", ToolGuesses = """["nmap"]""" } },
                new Attacker { Ip = "203.0.113.5", FirstSeen = T0, LastSeen = T0.AddHours(3), EventCount = 1, Services = """["http"]""", Deckies = """["web"]""" });
            await db.SaveChangesAsync();
        }

        var active = await CsvAsync(await GetAsync("/api/v1/attackers/export?sort_by=active&service=ssh"));
        Assert.Equal(ExportTables.AttackerColumns, active[0]);
        Assert.Equal(["192.0.2.11", "192.0.2.10"], active.Skip(1).Select(r => r[1]));
        var top = active[1];
        Assert.Equal(["50", "2", "2", "ssh http", "gate web", "true", "gate -> web"], top.Skip(4).Take(7));
        Assert.Equal(["linux", "interactive", "nmap"], top.Skip(13));
        Assert.DoesNotContain(active, r => string.Join(',', r).Contains("shadow", StringComparison.Ordinal));

        using var json = await GetAsync("/api/v1/attackers/export?format=json&search=203.0");
        using var document = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        var only = Assert.Single(document.RootElement.EnumerateArray());
        Assert.Equal(["http"], only.GetProperty("services").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(JsonValueKind.Null, only.GetProperty("os_guess").ValueKind);
    }

    [Theory]
    [InlineData("/api/v1/logs/export?format=xlsx", "format must be csv or json")]
    [InlineData("/api/v1/logs/export?search=%24%25%3Aroot", "no usable field name")]
    [InlineData("/api/v1/logs/export?start_time=yesterday", "ISO 8601")]
    [InlineData("/api/v1/attackers/export?sort_by=name", "sort_by must be")]
    [InlineData("/downloads/export/logs?range=2y", "range must be one of")]
    public async Task Bad_input_is_refused_with_a_problem_that_says_why(string url, string why)
    {
        using var response = await GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(why, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/v1/logs/export")]
    [InlineData("/api/v1/bounty/export")]
    [InlineData("/api/v1/attackers/export")]
    public async Task Nobody_anonymous_exports(string url)
    {
        using var anonymous = _factory.CreateClient();
        using var response = await GetAsync(url, anonymous);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Beyond_the_running_exports_bound_a_request_is_refused_until_one_finishes()
    {
        var gate = _factory.Services.GetRequiredService<ExportGate>();
        var running = Enumerable.Range(0, ExportGate.MaxConcurrent).Select(_ => gate.TryEnter()!).ToList();
        try
        {
            using var refused = await GetAsync("/api/v1/logs/export");
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains("exports are already running", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            running[0].Dispose();
        }
        using var served = await GetAsync("/api/v1/logs/export");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        foreach (var slot in running.Skip(1))
        {
            slot.Dispose();
        }
    }
}
