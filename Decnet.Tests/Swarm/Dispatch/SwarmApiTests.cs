using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Storage;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm.Dispatch;

/// <summary>The master process over HTTP: deployment mode, sharded deploy, swarm lists, async teardown, decommission.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SwarmApiTests : IAsyncLifetime
{
    private readonly TempDirectory _ca = new("decnet-swarm-ca");
    private readonly List<TlsAgentServer> _agents = [];
    private DecnetWebFactory _factory = null!;
    private HttpClient _admin = null!;
    private HttpClient _viewer = null!;

    public async ValueTask InitializeAsync()
    {
        _factory = new DecnetWebFactory(SwarmBed.Settings(_ca.Path));
        _factory.CreateClient().Dispose();
        _admin = _factory.CreateClient((await _factory.CreateActiveUserAsync("chief", UserRole.Admin)).Token);
        _viewer = _factory.CreateClient((await _factory.CreateActiveUserAsync("reader", UserRole.Viewer)).Token);
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        _viewer.Dispose();
        await _factory.DisposeAsync();
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }
        _ca.Dispose();
    }

    private ShardTeardownQueue Queue => _factory.Services.GetRequiredService<ShardTeardownQueue>();

    private async Task<(TlsAgentServer Agent, SwarmHost Host)> WorkerAsync(string name)
    {
        var agent = await TlsAgentServer.StartAsync(_ca.Path, name);
        _agents.Add(agent);
        return (agent, await SwarmBed.AddHostAsync(_factory.Services, agent.Host(name)));
    }

    private async Task<JsonElement> GetJsonAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Fact]
    public async Task The_deployment_mode_says_local_without_workers_and_shard_across_n_hosts_with_them()
    {
        var local = await GetJsonAsync(_viewer, "/api/v1/system/deployment-mode");
        Assert.Equal("unihost", local.GetProperty("mode").GetString());
        Assert.Equal(0, local.GetProperty("swarm_host_count").GetInt32());
        Assert.Contains("will deploy locally", local.GetProperty("banner").GetString(), StringComparison.Ordinal);

        await WorkerAsync("worker-a");
        await WorkerAsync("worker-b");
        await SwarmBed.AddHostAsync(_factory.Services, TlsAgentServer.DeadHost("worker-gone", SwarmHostStatus.Unreachable));

        var swarm = await GetJsonAsync(_viewer, "/api/v1/system/deployment-mode");
        Assert.Equal("swarm", swarm.GetProperty("mode").GetString());
        Assert.Equal(2, swarm.GetProperty("swarm_host_count").GetInt32());
        Assert.Contains("will shard across 2 hosts", swarm.GetProperty("banner").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_through_the_api_shards_and_the_swarm_lists_show_where_each_decky_runs()
    {
        var (a, hostA) = await WorkerAsync("worker-a");
        var (b, _) = await WorkerAsync("worker-b");

        var deploy = await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = SwarmBed.Ini("d1", "d2", "d3", "d4") });

        Assert.Equal(HttpStatusCode.OK, deploy.StatusCode);
        var body = JsonDocument.Parse(await deploy.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("swarm", body.GetProperty("mode").GetString());
        Assert.Equal(4, body.GetProperty("deckies").GetArrayLength());
        Assert.Equal(2, a.Running.Count);
        Assert.Equal(2, b.Running.Count);

        var hosts = await GetJsonAsync(_viewer, "/api/v1/swarm/hosts");
        Assert.Equal([2, 2], hosts.EnumerateArray().Select(h => h.GetProperty("decky_count").GetInt32()));
        Assert.Equal(a.Fingerprint, hosts[0].GetProperty("client_cert_fingerprint").GetString());

        var onA = await GetJsonAsync(_viewer, $"/api/v1/swarm/deckies?host_uuid={hostA.Id}&state=running");
        Assert.Equal(2, onA.GetArrayLength());
        Assert.All(onA.EnumerateArray(), d =>
        {
            Assert.Equal("worker-a", d.GetProperty("host_name").GetString());
            Assert.StartsWith("127.", d.GetProperty("ip").GetString(), StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(d.GetProperty("hostname").GetString()));
        });
        Assert.Equal(0, (await GetJsonAsync(_viewer, "/api/v1/swarm/deckies?state=failed")).GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await _viewer.GetAsync("/api/v1/swarm/deckies?state=exploded")).StatusCode);
    }

    [Fact]
    public async Task A_shard_without_snapshot_or_ip_lists_with_a_dash()
    {
        var (_, host) = await WorkerAsync("worker-a");
        await using (var db = await _factory.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync())
        {
            db.DeckyShards.Add(new DeckyShard { DeckyName = "legacy", HostId = host.Id, Services = "[\"ssh\"]", State = DeckyShardState.Running });
            await db.SaveChangesAsync();
        }

        var legacy = (await GetJsonAsync(_viewer, "/api/v1/swarm/deckies"))[0];

        Assert.Equal("legacy", legacy.GetProperty("name").GetString());
        Assert.Equal("—", legacy.GetProperty("ip").GetString());
        Assert.Equal(JsonValueKind.Null, legacy.GetProperty("hostname").ValueKind);
        Assert.Equal("ssh", legacy.GetProperty("services")[0].GetString());
    }

    [Fact]
    public async Task Teardown_answers_202_with_tearing_down_visible_at_once_then_the_final_state()
    {
        var (agent, host) = await WorkerAsync("worker-a");
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsJsonAsync("/api/v1/deckies/deploy", new { ini_content = SwarmBed.Ini("d1", "d2") })).StatusCode);
        agent.TeardownGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var response = await _admin.PostAsJsonAsync($"/api/v1/swarm/hosts/{host.Id}/teardown", new { decky_id = "d1" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("d1", accepted.GetProperty("tearing_down")[0].GetString());
        var during = await GetJsonAsync(_viewer, "/api/v1/swarm/deckies?state=tearing_down");
        Assert.Equal("d1", Assert.Single(during.EnumerateArray()).GetProperty("name").GetString());

        agent.TeardownGate.SetResult();
        await Queue.DrainAsync();

        Assert.Equal(["d2"], (await GetJsonAsync(_viewer, "/api/v1/swarm/deckies")).EnumerateArray().Select(d => d.GetProperty("name").GetString()));

        // Whole host, failing on the worker: 202 as well, then teardown_failed with the error.
        agent.TeardownGate = null;
        agent.FailTeardownWith = "network decnet_lan is busy";
        var all = await _admin.PostAsync($"/api/v1/swarm/hosts/{host.Id}/teardown", JsonContent.Create(new { decky_id = (string?)null }));
        Assert.Equal(HttpStatusCode.Accepted, all.StatusCode);
        await Queue.DrainAsync();
        var failed = (await GetJsonAsync(_viewer, "/api/v1/swarm/deckies"))[0];
        Assert.Equal("teardown_failed", failed.GetProperty("state").GetString());
        Assert.Contains("network decnet_lan is busy", failed.GetProperty("last_error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Teardown_of_an_unknown_host_or_decky_is_404_and_a_bad_name_400()
    {
        var (_, host) = await WorkerAsync("worker-a");

        Assert.Equal(HttpStatusCode.NotFound, (await _admin.PostAsJsonAsync($"/api/v1/swarm/hosts/{Guid.NewGuid()}/teardown", new { decky_id = (string?)null })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.PostAsJsonAsync($"/api/v1/swarm/hosts/{host.Id}/teardown", new { decky_id = "nope" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PostAsJsonAsync($"/api/v1/swarm/hosts/{host.Id}/teardown", new { decky_id = "../etc" })).StatusCode);
    }

    [Fact]
    public async Task Viewers_read_the_swarm_but_cannot_tear_down_or_decommission()
    {
        var (agent, host) = await WorkerAsync("worker-a");

        Assert.Equal(HttpStatusCode.OK, (await _viewer.GetAsync("/api/v1/swarm/hosts")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _viewer.PostAsJsonAsync($"/api/v1/swarm/hosts/{host.Id}/teardown", new { decky_id = (string?)null })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _viewer.DeleteAsync($"/api/v1/swarm/hosts/{host.Id}")).StatusCode);
        using var anonymous = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/swarm/hosts")).StatusCode);
        Assert.Empty(agent.Teardowns);
        Assert.Equal(0, agent.SelfDestructs);
    }

    [Fact]
    public async Task Decommissioning_a_dead_worker_removes_it_and_revokes_its_certificates()
    {
        var dead = await SwarmBed.AddHostAsync(_factory.Services, TlsAgentServer.DeadHost("worker-dead"));

        var response = await _admin.DeleteAsync($"/api/v1/swarm/hosts/{dead.Id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.False(body.GetProperty("self_destruct_scheduled").GetBoolean());
        Assert.Equal(0, (await GetJsonAsync(_viewer, "/api/v1/swarm/hosts")).GetArrayLength());
        await using var db = await _factory.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        Assert.Equal(2, await db.RevokedFingerprints.CountAsync(r => r.HostName == "worker-dead"));
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync($"/api/v1/swarm/hosts/{dead.Id}")).StatusCode);
    }
}
