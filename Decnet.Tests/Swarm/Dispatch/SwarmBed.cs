using Decnet.Core.Storage;
using Decnet.Core.Swarm;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Swarm.Dispatch;

/// <summary>
/// The master's real domain services on a temp database, a swarm CA in a temp folder (the master
/// identity comes from it) and any number of <see cref="TlsAgentServer"/> workers issued by that CA.
/// </summary>
public sealed class SwarmBed : IAsyncDisposable
{
    private readonly List<TlsAgentServer> _agents = [];

    private SwarmBed(TempDirectory ca, CoreTestBed core)
    {
        CaDirectory = ca;
        Core = core;
    }

    public TempDirectory CaDirectory { get; }

    public CoreTestBed Core { get; }

    public IServiceProvider Services => Core.Services;

    public static Dictionary<string, string?> Settings(string caDirectory) => new()
    {
        ["Decnet:Swarm:CaDirectory"] = caDirectory,
        // A dead worker is retried, but the suite need not wait half a second each time.
        ["Decnet:Swarm:Agent:RetryDelay"] = "00:00:00.050",
    };

    public static async Task<SwarmBed> StartAsync()
    {
        var ca = new TempDirectory("decnet-swarm-ca");
        var core = await CoreTestBed.StartAsync(Settings(ca.Path));
        return new SwarmBed(ca, core);
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public async Task<TlsAgentServer> StartAgentAsync(string name)
    {
        var agent = await TlsAgentServer.StartAsync(CaDirectory.Path, name);
        _agents.Add(agent);
        return agent;
    }

    public Task<SwarmHost> AddHostAsync(SwarmHost host) => AddHostAsync(Services, host);

    public static async Task<SwarmHost> AddHostAsync(IServiceProvider services, SwarmHost host)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        db.SwarmHosts.Add(host);
        await db.SaveChangesAsync();
        return host;
    }

    public async Task AddShardAsync(DeckyShard shard)
    {
        await using var db = await Get<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        db.DeckyShards.Add(shard);
        await db.SaveChangesAsync();
    }

    public Task<List<DeckyShard>> ShardsAsync() => ShardsAsync(Services);

    public static async Task<List<DeckyShard>> ShardsAsync(IServiceProvider services)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        return await db.DeckyShards.AsNoTracking().OrderBy(s => s.DeckyName).ToListAsync();
    }

    public async Task<List<SwarmHost>> HostsAsync()
    {
        await using var db = await Get<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        return await db.SwarmHosts.AsNoTracking().OrderBy(h => h.Name).ToListAsync();
    }

    public async Task<List<RevokedFingerprint>> RevokedAsync()
    {
        await using var db = await Get<IDbContextFactory<DecnetDbContext>>().CreateDbContextAsync();
        return await db.RevokedFingerprints.AsNoTracking().ToListAsync();
    }

    /// <summary>An INI with <paramref name="names"/> on a fresh loopback lab subnet.</summary>
    public static string Ini(params string[] names)
    {
        var net = Clients.LabSubnetPrefix();
        var text = $"[general]\nnet = {net}.0/24\ngw = {net}.1\n\n";
        for (var i = 0; i < names.Length; i++)
        {
            text += $"[{names[i]}]\nip = {net}.{20 + i}\nservices = redis, http\n\n";
        }
        return text;
    }

    public async ValueTask DisposeAsync()
    {
        await Core.DisposeAsync();
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }
        CaDirectory.Dispose();
    }
}
