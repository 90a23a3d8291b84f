using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Shipping;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Swarm.Shipping;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm.Shipping;

/// <summary>The listener as the master process runs it (whole web host, real database).</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SwarmLogListenerServiceTests
{
    [Fact]
    public async Task Without_the_swarm_enabled_the_master_opens_no_log_port()
    {
        await using var factory = new DecnetWebFactory();
        _ = factory.Server;

        Assert.Null(factory.Services.GetRequiredService<SwarmLogListenerService>().Endpoint);
    }

    [Fact]
    public async Task The_master_serves_shipping_with_its_swarm_identity_and_stores_what_a_worker_sends()
    {
        await using var factory = new DecnetWebFactory(new Dictionary<string, string?>
        {
            ["Decnet:Swarm:Enabled"] = "true",
            ["Decnet:Swarm:SyslogUrl"] = "127.0.0.1:0",
        });
        _ = factory.Server;
        var endpoint = factory.Services.GetRequiredService<SwarmLogListenerService>().Endpoint;
        Assert.NotNull(endpoint);

        // The CA the master created in its data folder issues the worker, which is then enrolled.
        using var authority = SwarmCertificateAuthority.LoadOrCreate(Path.Combine(factory.DataDirectory, "swarm", "ca"));
        using var trust = authority.CreateTrust();
        var master = authority.GetOrCreateMasterIdentity();
        var worker = authority.IssueWorker("worker-w");
        using var identity = worker.ToCertificate();
        await using (var db = await factory.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Decnet.Core.Storage.DecnetDbContext>>().CreateDbContextAsync())
        {
            db.SwarmHosts.Add(new SwarmHost { Name = "worker-w", ClientCertFingerprint = worker.Fingerprint, Status = SwarmHostStatus.Active });
            await db.SaveChangesAsync();
        }

        await using (var connection = await LogShippingConnection.ConnectAsync("127.0.0.1", endpoint.Port,
            PinnedTls.CreateClientOptions(identity, trust, master.Fingerprint, targetHost: null), TimeSpan.FromSeconds(10), CancellationToken.None))
        {
            await connection.SendBatchAsync(ShippingLab.Batch("00ff", 0, ShippingLab.Line(1), ShippingLab.Line(2)), TimeSpan.FromSeconds(30), CancellationToken.None);
        }

        await using var check = await factory.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Decnet.Core.Storage.DecnetDbContext>>().CreateDbContextAsync();
        var rows = check.Logs.OrderBy(l => l.Id).Where(l => l.Fields.Contains("worker-w")).Select(l => l.Msg).ToList();
        Assert.Equal(["attempt 1", "attempt 2"], rows);
    }
}
