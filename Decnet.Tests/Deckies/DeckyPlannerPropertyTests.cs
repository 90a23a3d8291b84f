using System.Globalization;
using System.Net;
using System.Text;
using Decnet.Core.Deckies;
using Microsoft.Extensions.Time.Testing;

namespace Decnet.Tests.Deckies;

/// <summary>Invariants that must hold for any INI the loader accepts, checked over many generated INIs.</summary>
public sealed class DeckyPlannerPropertyTests
{
    [Fact]
    public void Every_accepted_ini_plans_to_unique_valid_deckies()
    {
        for (var seed = 0; seed < 150; seed++)
        {
            var random = new Random(seed);
            var ini = GenerateIni(random, out var expectedCount);

            var spec = DeploymentIniLoader.Load(ini);
            var config = new DeckyPlanner(new FakeTimeProvider(), new Random(seed)).Plan(spec);

            var subnet = IPNetwork.Parse(config.Subnet);
            var gateway = IPAddress.Parse(config.Gateway);
            Assert.Equal(expectedCount, config.Deckies.Count);
            Assert.Equal(config.Deckies.Count, config.Deckies.Select(d => d.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
            Assert.Equal(config.Deckies.Count, config.Deckies.Select(d => d.Ip).Distinct().Count());
            Assert.All(config.Deckies, d =>
            {
                var ip = IPAddress.Parse(d.Ip);
                Assert.True(subnet.Contains(ip), $"{ip} outside {subnet} (seed {seed})");
                Assert.NotEqual(gateway, ip);
                Assert.NotEqual(subnet.BaseAddress, ip);
                Assert.NotEmpty(d.Services);
                Assert.NotNull(Distros.Find(d.Distro));
                Assert.NotNull(OsProfiles.Find(d.NmapOs));
                Assert.False(string.IsNullOrWhiteSpace(d.Hostname));
            });
            Assert.Equal(config, DeckyConfigJson.DeserializeDeployment(DeckyConfigJson.Serialize(config)));
        }
    }

    private static string GenerateIni(Random random, out int deckyCount)
    {
        var ini = new StringBuilder("[general]\nnet = 10.20.0.0/24\ngw = 10.20.0.254\ninterface = eth1\n");
        deckyCount = 0;
        var sections = random.Next(1, 8);
        for (var i = 0; i < sections; i++)
        {
            ini.Append(CultureInfo.InvariantCulture, $"\n[d{i}]\n");
            var amount = random.Next(0, 3) == 0 ? random.Next(2, 15) : 1;
            if (amount > 1)
            {
                ini.Append(CultureInfo.InvariantCulture, $"amount = {amount}\n");
            }
            else if (random.Next(2) == 0)
            {
                ini.Append(CultureInfo.InvariantCulture, $"ip = 10.20.0.{200 + i}\n");
            }

            switch (random.Next(3))
            {
                case 0:
                    ini.Append(CultureInfo.InvariantCulture, $"archetype = {Archetypes.All[random.Next(Archetypes.All.Count)].Slug}\n");
                    break;
                case 1:
                    var names = ServiceCatalog.PerDeckyServiceNames;
                    ini.Append(CultureInfo.InvariantCulture, $"services = {names[random.Next(names.Count)]}, {names[random.Next(names.Count)]}\n");
                    break;
            }

            deckyCount += amount;
        }

        return ini.ToString();
    }
}
