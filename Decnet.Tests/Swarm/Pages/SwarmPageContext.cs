using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Notifications;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Dispatch;
using Decnet.Tests.Swarm.Dispatch;
using Decnet.Tests.Web.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm.Pages;

/// <summary>bUnit with the real swarm services and workers served by <see cref="TlsAgentServer"/> over mutual TLS.</summary>
public abstract class SwarmPageContext : ComponentTestContext, IAsyncLifetime
{
    private readonly List<TlsAgentServer> _agents = [];

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        foreach (var type in new[] { typeof(DeckyFleet), typeof(NotificationHub), typeof(SwarmOverview), typeof(SwarmDeploymentMode), typeof(ShardTeardownQueue), typeof(SwarmDecommissioner),
            typeof(Decnet.Core.Swarm.Security.SwarmSecurityEvents) })
        {
            Services.AddSingleton(type, Bed.Services.GetRequiredService(type));
        }
    }

    protected T Get<T>() where T : notnull => Bed.Services.GetRequiredService<T>();

    protected async Task<(TlsAgentServer Agent, SwarmHost Host)> WorkerAsync(string name, Action<SwarmHost>? adjust = null)
    {
        var agent = await TlsAgentServer.StartAsync(Get<MasterCredentials>().CaDirectory, name);
        _agents.Add(agent);
        var host = agent.Host(name);
        adjust?.Invoke(host);
        return (agent, await SwarmBed.AddHostAsync(Bed.Services, host));
    }

    protected async Task DeployAsync(params string[] deckies) =>
        Assert.True((await Get<DeckyFleet>().DeployAsync("chief", SwarmBed.Ini(deckies), CancellationToken.None)).Succeeded);

    public new async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }
    }
}
