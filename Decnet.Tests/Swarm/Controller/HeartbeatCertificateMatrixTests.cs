using System.Net;
using System.Net.Http.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Protocol;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Swarm.Controller;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm.Controller;

/// <summary>
/// POST /swarm/heartbeat over real mutual TLS with five certificates: only the host's own certificate
/// is accepted; another worker's, a decommissioned host's, a self-signed one and none are refused.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class HeartbeatCertificateMatrixTests : IAsyncLifetime
{
    private SwarmMaster _master = null!;
    private EnrolledWorker _alpha = null!;
    private EnrolledWorker _bravo = null!;
    private EnrolledWorker _retired = null!;

    public async ValueTask InitializeAsync()
    {
        _master = await SwarmMaster.StartAsync();
        _alpha = await _master.EnrollAsync("alpha");
        _bravo = await _master.EnrollAsync("bravo");
        _retired = await _master.EnrollAsync("retired");
        await _master.Store.TombstoneAsync(_retired.Worker.Fingerprint, "retired", "decommissioned", CancellationToken.None);
    }

    public async ValueTask DisposeAsync() => await _master.DisposeAsync();

    [Fact]
    public async Task The_hosts_own_certificate_is_accepted_and_refreshes_host_and_shards()
    {
        await _master.PlaceAsync((_alpha.Host.Id, "alpha-web", "10.9.0.10"), (_alpha.Host.Id, "alpha-db", "10.9.0.11"));
        using var client = _master.WorkerClient(_alpha.Worker);
        var heartbeat = SwarmMaster.Heartbeat(_alpha.Host.Id, ("alpha-web", "10.9.0.10", true), ("alpha-db", "10.9.0.11", false));

        using var response = await SwarmMaster.SendHeartbeatAsync(client, heartbeat);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var host = await _master.Overview.HostAsync(_alpha.Host.Id, CancellationToken.None, withShards: true);
        Assert.Equal(SwarmHostStatus.Active, host!.Status);
        Assert.NotNull(host.LastHeartbeat);
        var web = host.Shards.Single(s => s.DeckyName == "alpha-web");
        var db = host.Shards.Single(s => s.DeckyName == "alpha-db");
        Assert.Equal((DeckyShardState.Running, "10.9.0.10"), (web.State, web.DeckyIp));
        Assert.Equal(DeckyShardState.Degraded, db.State);
        Assert.Contains("http", db.LastError);
        Assert.Contains("\"hostname\":\"alpha-web-host\"", web.DeckyConfig);
        Assert.NotNull(web.LastSeen);
    }

    [Fact]
    public async Task Deckies_placed_elsewhere_never_move_and_the_worker_is_told_to_tear_them_down_until_it_has()
    {
        // bravo owns "moved"; alpha (back from an outage) still runs it and an undeployed "ghost".
        await _master.PlaceAsync((_alpha.Host.Id, "alpha-web", "10.9.0.10"), (_bravo.Host.Id, "moved", "10.9.0.20"));
        using var client = _master.WorkerClient(_alpha.Worker);

        using (var stale = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id,
            ("alpha-web", "10.9.0.10", true), ("moved", "10.9.0.20", true), ("ghost", "10.9.0.21", true))))
        {
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            var answer = await stale.Content.ReadFromJsonAsync<HeartbeatAnswer>(DeckyConfigJson.Options);
            Assert.Equal(["ghost", "moved"], answer!.Teardown);
        }
        var moved = (await _master.Overview.ShardsAsync(null, CancellationToken.None)).Single(s => s.DeckyName == "moved");
        Assert.Equal((_bravo.Host.Id, DeckyShardState.Pending), (moved.HostId, moved.State));
        Assert.DoesNotContain(await _master.Overview.ShardsAsync(null, CancellationToken.None), s => s.DeckyName == "ghost");
        var alpha = (await _master.Overview.HostsAsync(CancellationToken.None)).Single(h => h.Id == _alpha.Host.Id);
        Assert.Equal(["ghost", "moved"], alpha.StrayDeckies);
        Assert.NotNull(alpha.StraysSince);
        using (var again = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id, ("alpha-web", "10.9.0.10", true), ("moved", "10.9.0.20", true))))
        {
            Assert.Equal(["moved"], (await again.Content.ReadFromJsonAsync<HeartbeatAnswer>(DeckyConfigJson.Options))!.Teardown);
        }

        using (var clean = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id, ("alpha-web", "10.9.0.10", true))))
        {
            Assert.Equal(HttpStatusCode.NoContent, clean.StatusCode);
        }
        alpha = (await _master.Overview.HostsAsync(CancellationToken.None)).Single(h => h.Id == _alpha.Host.Id);
        Assert.Empty(alpha.StrayDeckies);
        Assert.Null(alpha.StraysSince);
        var audit = await _master.Services.GetRequiredService<Decnet.Core.Audit.AuditTrail>().RecentAsync(50, CancellationToken.None);
        Assert.Contains(audit, a => a.Action == "swarm.reconcile" && a.Target == "alpha" && a.Detail!.Contains("ghost, moved", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Action == "swarm.reconciled" && a.Target == "alpha");
        Assert.Equal(_bravo.Host.Id, (await _master.Overview.ShardsAsync(null, CancellationToken.None)).Single(s => s.DeckyName == "moved").HostId);
    }

    [Fact]
    public async Task Another_workers_certificate_is_refused_with_a_fingerprint_mismatch()
    {
        using var client = _master.WorkerClient(_bravo.Worker);

        using var response = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id, ("stolen", "10.9.0.12", true)));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains(SwarmControllerApi.FingerprintMismatch, await response.Content.ReadAsStringAsync());
        var alpha = await _master.Overview.HostAsync(_alpha.Host.Id, CancellationToken.None, withShards: true);
        Assert.Equal(SwarmHostStatus.Enrolled, alpha!.Status);
        Assert.Empty(alpha.Shards);
    }

    [Fact]
    public async Task A_decommissioned_hosts_certificate_is_refused_even_for_its_own_host()
    {
        using var client = _master.WorkerClient(_retired.Worker);

        using var response = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_retired.Host.Id, ("zombie", "10.9.0.13", true)));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("revoked", await response.Content.ReadAsStringAsync());
        Assert.Null(await _master.Overview.FindPeerAsync(_retired.Worker.Fingerprint, CancellationToken.None));
        var retired = await _master.Overview.HostAsync(_retired.Host.Id, CancellationToken.None, withShards: true);
        Assert.Empty(retired!.Shards);
    }

    [Fact]
    public async Task A_self_signed_certificate_fails_the_tls_handshake()
    {
        using var certificate = SwarmMaster.SelfSignedClientCertificate("alpha");
        using var client = _master.RawClient(certificate);

        await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id)));

        var alpha = await _master.Overview.HostAsync(_alpha.Host.Id, CancellationToken.None);
        Assert.Null(alpha!.LastHeartbeat);
    }

    [Fact]
    public async Task No_certificate_fails_the_tls_handshake()
    {
        using var client = _master.RawClient(null);

        await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id)));

        var alpha = await _master.Overview.HostAsync(_alpha.Host.Id, CancellationToken.None);
        Assert.Null(alpha!.LastHeartbeat);
    }

    [Fact]
    public async Task A_valid_certificate_claiming_an_unknown_host_gets_404()
    {
        using var client = _master.WorkerClient(_alpha.Worker);

        using var response = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_fingerprint_lookup_finds_the_host_by_its_certificate()
    {
        var found = await _master.Overview.FindPeerAsync(_bravo.Worker.Fingerprint.ToUpperInvariant(), CancellationToken.None);

        Assert.Equal(_bravo.Host.Id, found?.HostId);
    }
}
