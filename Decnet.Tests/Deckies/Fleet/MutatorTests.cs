using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Settings;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Deckies.Fleet;

[Trait("Category", TestCategories.Integration)]
public sealed class MutatorTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 8, 0, 0, TimeSpan.Zero));
    private readonly string _net = Clients.LabSubnetPrefix();
    private CoreTestBed _bed = null!;

    public async ValueTask InitializeAsync() => _bed = await CoreTestBed.StartAsync(time: _time);

    public async ValueTask DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public void A_decky_is_due_once_its_interval_has_passed_since_the_last_mutation()
    {
        var decky = new DeckyConfig { Name = "d", Ip = "127.0.0.2", Hostname = "h", Services = ["redis"], LastMutated = new DateTime(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc) };
        Assert.False(DeckyMutator.IsDue(decky, 30, new DateTime(2026, 1, 1, 12, 29, 59, DateTimeKind.Utc)));
        Assert.True(DeckyMutator.IsDue(decky, 30, new DateTime(2026, 1, 1, 12, 30, 0, DateTimeKind.Utc)));
        Assert.True(DeckyMutator.IsDue(decky with { LastMutated = null }, 30, DateTime.UtcNow));
    }

    [Fact]
    public async Task The_global_interval_from_config_is_honoured_and_a_decky_interval_overrides_it()
    {
        await _bed.Services.GetRequiredService<SystemSettingsService>().SetGlobalMutationIntervalAsync("tester", "45m", CancellationToken.None);
        var ini = $"""
            [general]
            net = {_net}.0/24
            gw = {_net}.1

            [follows-global]
            ip = {_net}.40
            services = redis

            [own-interval]
            ip = {_net}.41
            services = redis
            mutate_interval = 120
            """;
        var fleet = _bed.Services.GetRequiredService<DeckyFleet>();
        var mutator = _bed.Services.GetRequiredService<DeckyMutator>();
        Assert.True((await fleet.DeployAsync("tester", ini, CancellationToken.None)).Succeeded);

        _time.Advance(TimeSpan.FromMinutes(44));
        Assert.Empty(await mutator.MutateDueAsync(CancellationToken.None));

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(["follows-global"], await mutator.MutateDueAsync(CancellationToken.None));

        // 89 minutes in: the global decky last rotated at 45, the other has its own 120.
        _time.Advance(TimeSpan.FromMinutes(44));
        Assert.Empty(await mutator.MutateDueAsync(CancellationToken.None));

        _time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(["follows-global", "own-interval"], (await mutator.MutateDueAsync(CancellationToken.None)).Order().ToArray());

        var listed = await fleet.ListAsync(CancellationToken.None);
        Assert.Equal(45, listed.Single(d => d.Config.Name == "follows-global").EffectiveMutateInterval);
        Assert.Equal(120, listed.Single(d => d.Config.Name == "own-interval").EffectiveMutateInterval);
        Assert.All(listed, d => Assert.NotEqual(["redis"], d.Config.Services));
    }

    [Fact]
    public async Task Picked_services_come_from_the_archetype_and_differ_from_the_current_set()
    {
        var fleet = _bed.Services.GetRequiredService<DeckyFleet>();
        var decky = new DeckyConfig { Name = "db", Ip = "127.0.0.2", Hostname = "h", Archetype = "database-server", Services = ["mysql"] };
        for (var seed = 0; seed < 50; seed++)
        {
            var pick = fleet.PickServices(decky, new Random(seed));
            Assert.InRange(pick.Count, 1, 3);
            Assert.All(pick, s => Assert.Contains(s, new[] { "mysql", "postgres", "redis" }));
            Assert.NotEqual(["mysql"], pick);
        }
    }
}
