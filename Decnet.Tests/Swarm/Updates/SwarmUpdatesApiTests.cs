using System.Net;
using System.Net.Http.Json;
using Decnet.Core.Swarm;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Tests.Swarm.Dispatch;

namespace Decnet.Tests.Swarm.Updates;

/// <summary>The admin-only face of remote updates and its refusals, without any updater running.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SwarmUpdatesApiTests : IAsyncLifetime
{
    private readonly TempDirectory _ca = new("decnet-swarm-ca");
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
        _ca.Dispose();
    }

    [Fact]
    public async Task Viewers_get_403_and_anonymous_callers_401_on_every_route()
    {
        using var anonymous = _factory.CreateClient();
        foreach (var (client, expected) in new[] { (_viewer, HttpStatusCode.Forbidden), (anonymous, HttpStatusCode.Unauthorized) })
        {
            Assert.Equal(expected, (await client.GetAsync("/api/v1/swarm-updates/hosts")).StatusCode);
            Assert.Equal(expected, (await client.PostAsJsonAsync("/api/v1/swarm-updates/push", new { all = true })).StatusCode);
            Assert.Equal(expected, (await client.PostAsJsonAsync("/api/v1/swarm-updates/push-self", new { all = true })).StatusCode);
            Assert.Equal(expected, (await client.PostAsJsonAsync("/api/v1/swarm-updates/rollback", new { host_uuid = Guid.NewGuid() })).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await _admin.GetAsync("/api/v1/swarm-updates/hosts")).StatusCode);
    }

    [Fact]
    public async Task Push_needs_exactly_one_of_host_uuids_or_all_and_rollback_tells_unknown_hosts_from_hosts_without_updater()
    {
        var withoutUpdater = await SwarmBed.AddHostAsync(_factory.Services, new SwarmHost
        {
            Name = "no-updater", Address = "127.0.0.1", Status = SwarmHostStatus.Active, ClientCertFingerprint = new string('b', 64),
        });

        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PostAsJsonAsync("/api/v1/swarm-updates/push", new { include_self = true })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PostAsJsonAsync("/api/v1/swarm-updates/push", new { all = true, host_uuids = new[] { withoutUpdater.Id } })).StatusCode);
        var unknown = await _admin.PostAsJsonAsync("/api/v1/swarm-updates/push", new { host_uuids = new[] { withoutUpdater.Id } });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains(withoutUpdater.Id.ToString(), await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PostAsJsonAsync("/api/v1/swarm-updates/rollback", new { host_uuid = withoutUpdater.Id })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.PostAsJsonAsync("/api/v1/swarm-updates/rollback", new { host_uuid = Guid.NewGuid() })).StatusCode);
        var hosts = await _admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/swarm-updates/hosts");
        Assert.Equal(0, hosts.GetProperty("hosts").GetArrayLength());
    }

    [Fact]
    public async Task A_push_to_all_reports_a_host_enrolled_with_an_updater_but_never_connected_instead_of_failing()
    {
        // Found by the API contract fuzz: such a host has no address, and the push used to answer 500.
        var pending = TlsAgentServer.DeadHost("pending-worker", SwarmHostStatus.Enrolled);
        pending.Address = null;
        await SwarmBed.AddHostAsync(_factory.Services, pending);

        foreach (var route in new[] { "push", "push-self" })
        {
            var response = await _admin.PostAsJsonAsync($"/api/v1/swarm-updates/{route}", new { all = true });
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var result = Assert.Single((await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("results").EnumerateArray());
            Assert.Equal("pending-worker", result.GetProperty("host_name").GetString());
            Assert.Equal(route == "push" ? "failed" : "self-failed", result.GetProperty("status").GetString());
            Assert.Contains("no address yet", result.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }
}
