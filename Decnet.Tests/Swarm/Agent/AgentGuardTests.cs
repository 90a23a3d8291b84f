extern alias agent;

using agent::Decnet.Agent.SelfDestruct;
using agent::Decnet.Agent.Serve;
using Decnet.Core.Swarm.Pki;
using Decnet.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm.Agent;

/// <summary>The second lines of defence: the per-request master check and the reaper's refusal to touch system folders.</summary>
[Trait("Category", TestCategories.Unit)]
public sealed class AgentGuardTests
{
    [Fact]
    public async Task A_request_whose_connection_has_no_master_certificate_gets_a_403_problem()
    {
        using var folder = new TempDirectory();
        using var ca = SwarmCertificateAuthority.LoadOrCreate(folder.Path);
        using var trust = ca.CreateTrust();
        var pin = new MasterPin(trust, ca.GetOrCreateMasterIdentity().Fingerprint);
        using var masterCertificate = ca.GetOrCreateMasterIdentity().ToCertificate();
        using var workerCertificate = ca.IssueWorker("worker-b").ToCertificate();

        using var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var answered = new List<string>();
        foreach (var (name, certificate) in new[] { ("none", null), ("worker", workerCertificate), ("master", masterCertificate) })
        {
            var context = new DefaultHttpContext { RequestServices = services };
            context.Connection.ClientCertificate = certificate;
            context.Response.Body = new MemoryStream();
            var reached = false;
            await pin.RequireMasterAsync(context, _ =>
            {
                reached = true;
                return Task.CompletedTask;
            });
            context.Response.Body.Position = 0;
            var body = await new StreamReader(context.Response.Body).ReadToEndAsync();
            answered.Add($"{name}:{(reached ? "through" : context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
            if (!reached)
            {
                Assert.Contains("Only the pinned master identity", body, StringComparison.Ordinal);
            }
        }

        Assert.Equal(["none:403", "worker:403", "master:through"], answered);
    }

    [Fact]
    public void The_reaper_never_removes_system_folders_or_the_log_directory_whatever_the_ini_says()
    {
        var ini = """
            [decnet]
            log-directory = /opt/decnet/logs
            [agent]
            name = worker-a
            host-uuid = 6f1c1f0e-0d7e-4f55-9f7e-3b0d6a3c1a11
            master-host = 127.0.0.1
            master-fingerprint = 0000000000000000000000000000000000000000000000000000000000000000
            install-dir = /opt/decnet
            config-dir = /etc
            """;
        var plan = ReaperPlan.For(AgentServeSettings.Parse(ini));

        // Only the agent's own state folder (default /var/lib/decnet) goes: install and config dirs named as
        // system folders are skipped, and the log directory is never a tree to remove.
        Assert.Equal(["/var/lib/decnet"], plan.Trees);
        Assert.Equal(["/opt/decnet", "/etc"], plan.Skipped);
        var script = plan.ToScript(4242, "/tmp/decnet-reaper-x");
        Assert.DoesNotContain("rm -rf -- '/etc'", script, StringComparison.Ordinal);
        Assert.DoesNotContain("rm -rf -- '/opt/decnet'", script, StringComparison.Ordinal);
        Assert.Contains("kill -0 4242", script, StringComparison.Ordinal);
        Assert.Contains("rm -f -- '/usr/local/bin'/decnet*", script, StringComparison.Ordinal);
    }
}
