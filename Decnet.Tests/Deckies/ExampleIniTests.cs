using Decnet.Core.Deckies;

namespace Decnet.Tests.Deckies;

public sealed class ExampleIniTests
{
    internal static string ExamplePath(string file)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Decnet.sln")))
            {
                return Path.Combine(directory.FullName, "deploy", "examples", file);
            }
        }

        throw new DirectoryNotFoundException("Decnet.sln not found above the test output folder.");
    }

    [Fact]
    public async Task Lab_example_loads_and_plans_three_loopback_deckies()
    {
        var spec = await DeploymentIniLoader.LoadFileAsync(ExamplePath("lab.ini"), TestContext.Current.CancellationToken);

        var config = new DeckyPlanner(TimeProvider.System, new Random(1)).Plan(spec);

        Assert.Equal("127.77.0.0/24", config.Subnet);
        Assert.Equal("lo", config.Interface);
        Assert.Equal(3, config.Deckies.Count);
        Assert.All(config.Deckies, d => Assert.StartsWith("127.77.0.", d.Ip, StringComparison.Ordinal));
        var used = config.Deckies.SelectMany(d => d.Services).ToHashSet();
        Assert.Superset(new HashSet<string> { "ssh", "http", "ftp", "redis", "mysql", "smtp", "telnet" }, used);
        Assert.Equal("wordpress", config.Deckies[0].PersonaFor("http")["fake_app"]);
        Assert.Equal(240, config.Deckies[1].MutateInterval);
        Assert.Equal(60, config.MutateInterval);
        Assert.Equal(["wp-prod-01", "mx1"], new[] { config.Deckies[0].Hostname, config.Deckies[2].Hostname });
        Assert.Equal("mx1.corp.example", config.Deckies[2].PersonaFor("smtp")["mta"]);
    }

    [Fact]
    public async Task Lan_example_loads_with_archetypes_expansion_and_a_custom_service()
    {
        var spec = await DeploymentIniLoader.LoadFileAsync(ExamplePath("lan.ini"), TestContext.Current.CancellationToken);

        var config = new DeckyPlanner(TimeProvider.System, new Random(1)).Plan(spec);

        Assert.Equal("eth0", config.Interface);
        Assert.Contains(config.Deckies, d => d.Name == "desk-03" && d.Archetype == "windows-workstation" && d.NmapOs == "windows");
        Assert.All(config.Deckies.Where(d => d.Name.StartsWith("printer-", StringComparison.Ordinal)),
            d => Assert.Equal("220 HP LaserJet FTP Server ready", d.PersonaFor("ftp")["banner"]));
        Assert.Equal("honeyapi", Assert.Single(spec.CustomServices).Name);
        Assert.Equal(config.Deckies.Count, config.Deckies.Select(d => d.Ip).Distinct().Count());
    }
}
