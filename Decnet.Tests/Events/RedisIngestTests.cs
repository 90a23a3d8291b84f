using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Storage;
using Decnet.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Events;

/// <summary>A real client against an embedded decky, all the way into <c>logs</c>.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class RedisIngestTests : IAsyncLifetime
{
    private readonly string _net = Clients.LabSubnetPrefix();
    private readonly CancellationTokenSource _stop = new();
    private CoreTestBed _bed = null!;
    private Task _ingest = Task.CompletedTask;

    public async ValueTask InitializeAsync()
    {
        _bed = await CoreTestBed.StartAsync();
        _ingest = _bed.Services.GetRequiredService<EventIngester>().RunAsync(_stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _ingest;
        _stop.Dispose();
        await _bed.DisposeAsync();
    }

    [Fact]
    public async Task A_redis_cli_auth_against_a_decky_shows_up_in_logs_with_the_attacker_ip_within_seconds()
    {
        var ini = $"""
            [general]
            net = {_net}.0/24
            gw = {_net}.1
            interface = lo

            [cache]
            ip = {_net}.11
            services = redis
            """;
        var deployed = await _bed.Services.GetRequiredService<DeckyFleet>().DeployAsync("tester", ini, CancellationToken.None);
        Assert.True(deployed.Succeeded, deployed.Message);

        await Clients.RunAsync("redis-cli", ["-h", $"{_net}.11", "-p", "6379", "AUTH", "secret-guess"]);

        var dbFactory = _bed.Services.GetRequiredService<IDbContextFactory<DecnetDbContext>>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<LogEntry> rows;
        while (true)
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            rows = await db.Logs.AsNoTracking().Where(l => l.Service == "redis").ToListAsync();
            if (rows.Any(r => r.EventType == "auth") || DateTime.UtcNow > deadline)
            {
                break;
            }
            await Task.Delay(50);
        }

        var auth = Assert.Single(rows, r => r.EventType == "auth");
        Assert.Equal("cache", auth.Decky);
        Assert.StartsWith("127.", auth.AttackerIp, StringComparison.Ordinal);
        Assert.Contains("\"password\":\"secret-guess\"", auth.Fields, StringComparison.Ordinal);
        Assert.Contains("relay@55555", auth.RawLine, StringComparison.Ordinal);
        Assert.NotNull(auth.EventKey);
    }
}
