using System.Net;
using System.Net.Http.Json;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Swarm.Controller;

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
        await _master.Registry.TombstoneAsync(_retired.Worker.Fingerprint, "retired", "decommissioned", CancellationToken.None);
    }

    public async ValueTask DisposeAsync() => await _master.DisposeAsync();

    [Fact]
    public async Task The_hosts_own_certificate_is_accepted_and_refreshes_host_and_shards()
    {
        using var client = _master.WorkerClient(_alpha.Worker);
        var heartbeat = SwarmMaster.Heartbeat(_alpha.Host.Id, ("alpha-web", "10.9.0.10", true), ("alpha-db", "10.9.0.11", false));

        using var response = await SwarmMaster.SendHeartbeatAsync(client, heartbeat);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var host = await _master.Registry.GetHostAsync(_alpha.Host.Id, CancellationToken.None);
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
    public async Task Another_workers_certificate_is_refused_with_a_fingerprint_mismatch()
    {
        using var client = _master.WorkerClient(_bravo.Worker);

        using var response = await SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id, ("stolen", "10.9.0.12", true)));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains(SwarmControllerApi.FingerprintMismatch, await response.Content.ReadAsStringAsync());
        var alpha = await _master.Registry.GetHostAsync(_alpha.Host.Id, CancellationToken.None);
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
        Assert.Null(await _master.Registry.GetByFingerprintAsync(_retired.Worker.Fingerprint, CancellationToken.None));
        var retired = await _master.Registry.GetHostAsync(_retired.Host.Id, CancellationToken.None);
        Assert.Empty(retired!.Shards);
    }

    [Fact]
    public async Task A_self_signed_certificate_fails_the_tls_handshake()
    {
        using var certificate = SwarmMaster.SelfSignedClientCertificate("alpha");
        using var client = _master.RawClient(certificate);

        await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id)));

        var alpha = await _master.Registry.GetHostAsync(_alpha.Host.Id, CancellationToken.None);
        Assert.Null(alpha!.LastHeartbeat);
    }

    [Fact]
    public async Task No_certificate_fails_the_tls_handshake()
    {
        using var client = _master.RawClient(null);

        await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id)));

        var alpha = await _master.Registry.GetHostAsync(_alpha.Host.Id, CancellationToken.None);
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
        var found = await _master.Registry.GetByFingerprintAsync(_bravo.Worker.Fingerprint.ToUpperInvariant(), CancellationToken.None);

        Assert.Equal(_bravo.Host.Id, found?.Id);
    }
}
