using System.Net;
using System.Net.Http.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Protocol;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Security;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Swarm.Controller;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm.Controller;

/// <summary>
/// POST /swarm/heartbeat over real mutual TLS: only the host's own certificate is accepted. A revoked,
/// self-signed or foreign-CA certificate, or none, fails the TLS handshake; another worker's certificate
/// is refused by the route's pin. Every refusal is a swarm security event.
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

    private IReadOnlyList<SwarmSecurityEvent> SecurityEvents => _master.Services.GetRequiredService<SwarmSecurityEvents>().Recent();

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
        var recorded = Assert.Single(SecurityEvents, e => e.Refusal == SwarmRefusal.PinMismatch);
        Assert.Equal((SwarmGate.ControllerEndpoint, "127.0.0.1", _bravo.Worker.Fingerprint), (recorded.Endpoint, recorded.Remote, recorded.Fingerprint));
        Assert.Contains("not the one pinned for alpha", recorded.Detail);
    }

    [Fact]
    public async Task A_revoked_certificate_fails_the_tls_handshake_even_for_its_own_host()
    {
        using var client = _master.WorkerClient(_retired.Worker);

        await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_retired.Host.Id, ("zombie", "10.9.0.13", true))));

        Assert.Null(await _master.Overview.FindPeerAsync(_retired.Worker.Fingerprint, CancellationToken.None));
        var retired = await _master.Overview.HostAsync(_retired.Host.Id, CancellationToken.None, withShards: true);
        Assert.Empty(retired!.Shards);
        Assert.Null(retired.LastHeartbeat);
        var recorded = Assert.Single(SecurityEvents, e => e.Refusal == SwarmRefusal.Revoked);
        Assert.Equal(("retired", _retired.Worker.Fingerprint), (recorded.Subject, recorded.Fingerprint));
    }

    [Fact]
    public async Task A_certificate_revoked_after_start_is_refused_at_the_next_handshake()
    {
        using (var before = _master.WorkerClient(_bravo.Worker))
        using (var accepted = await SwarmMaster.SendHeartbeatAsync(before, SwarmMaster.Heartbeat(_bravo.Host.Id)))
        {
            Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        }

        await _master.Store.TombstoneAsync(_bravo.Worker.Fingerprint, "bravo", "decommissioned", CancellationToken.None);

        using var after = _master.WorkerClient(_bravo.Worker);
        await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(after, SwarmMaster.Heartbeat(_bravo.Host.Id)));
        Assert.Contains(SecurityEvents, e => e.Refusal == SwarmRefusal.Revoked && e.Fingerprint == _bravo.Worker.Fingerprint);
    }

    [Fact]
    public async Task A_self_signed_certificate_fails_the_tls_handshake()
    {
        using var certificate = SwarmMaster.SelfSignedClientCertificate("alpha");
        using var client = _master.RawClient(certificate);

        await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id)));

        var alpha = await _master.Overview.HostAsync(_alpha.Host.Id, CancellationToken.None);
        Assert.Null(alpha!.LastHeartbeat);
        var recorded = Assert.Single(SecurityEvents, e => e.Refusal == SwarmRefusal.SelfSigned);
        Assert.Equal(("alpha", "127.0.0.1"), (recorded.Subject, recorded.Remote));
        // The operator's log file has the refusal too, with who and why.
        var logged = await RefusalLogLineAsync("SelfSigned");
        Assert.Contains("alpha", logged, StringComparison.Ordinal);
        Assert.Contains("a self-signed certificate", logged, StringComparison.Ordinal);
        Assert.Contains(recorded.Fingerprint![..16], logged, StringComparison.Ordinal);
    }

    /// <summary>The master's log line for a refusal, read from its rolling log file (Serilog writes each event through).</summary>
    private async Task<string> RefusalLogLineAsync(string refusal)
    {
        var directory = Path.Combine(_master.Factory.DataDirectory, "logs");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var lines = Directory.Exists(directory)
                ? Directory.EnumerateFiles(directory, "decnet-web-*.log").SelectMany(ReadShared)
                : [];
            var line = lines.FirstOrDefault(l => l.Contains("Swarm security: refused", StringComparison.Ordinal) && l.Contains(refusal, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no '{refusal}' refusal in the master's log files under {directory}:\n{string.Join('\n', lines)}");
            await Task.Delay(200);
        }
    }

    private static string[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n');
    }

    [Fact]
    public async Task A_certificate_of_another_swarm_ca_fails_the_tls_handshake()
    {
        using var foreignCa = new TempDirectory("decnet-foreign-ca");
        using var authority = Decnet.Core.Swarm.Pki.SwarmCertificateAuthority.LoadOrCreate(foreignCa.Path);
        using var certificate = authority.IssueWorker("alpha", ["127.0.0.1"]).ToCertificate();
        using var client = _master.RawClient(certificate);

        await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id)));

        Assert.Contains(SecurityEvents, e => e.Refusal == SwarmRefusal.ForeignCa && e.Subject == "alpha");
    }

    [Fact]
    public async Task No_certificate_fails_the_tls_handshake()
    {
        using var client = _master.RawClient(null);

        await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id)));

        var alpha = await _master.Overview.HostAsync(_alpha.Host.Id, CancellationToken.None);
        Assert.Null(alpha!.LastHeartbeat);
        Assert.Contains(SecurityEvents, e => e.Refusal == SwarmRefusal.NoCertificate && e.Endpoint == SwarmGate.ControllerEndpoint);
    }

    [Fact]
    public async Task Refusals_are_listed_for_viewers_and_repeats_are_counted_on_one_event()
    {
        using var certificate = SwarmMaster.SelfSignedClientCertificate("knocker");
        for (var i = 0; i < 3; i++)
        {
            using var client = _master.RawClient(certificate);
            await Assert.ThrowsAsync<HttpRequestException>(() => SwarmMaster.SendHeartbeatAsync(client, SwarmMaster.Heartbeat(_alpha.Host.Id)));
        }
        using var viewer = await _master.SignedInClientAsync("watcher", Decnet.Core.Users.UserRole.Viewer);
        using var anonymous = new HttpClient { BaseAddress = _master.DashboardUri };

        var listed = await viewer.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/swarm/security-events");
        using var refused = await anonymous.GetAsync("/api/v1/swarm/security-events");

        var knock = Assert.Single(listed.EnumerateArray(), e => e.GetProperty("subject").GetString() == "knocker");
        Assert.Equal(("self_signed", "controller", "127.0.0.1", 3), (knock.GetProperty("refusal").GetString(), knock.GetProperty("endpoint").GetString(),
            knock.GetProperty("remote").GetString(), knock.GetProperty("count").GetInt32()));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
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
