using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Decnet.Tests.Honeypots.Hosting;

public sealed class HoneypotServiceRegistryTests
{
    [Fact]
    [Trait("Category", "Unit")]
    public void Add_honeypot_services_registers_every_built_in_factory_the_registry_and_the_host()
    {
        var services = new ServiceCollection().AddLogging().AddHoneypotServices();
        services.AddHoneypotServices();
        using var provider = services.BuildServiceProvider();

        var registry = provider.GetRequiredService<HoneypotServiceRegistry>();
        // Registered twice, listed once, in name order; every one is a per-decky service of the catalog.
        Assert.Superset(new HashSet<string>(["conpot", "docker_api", "elasticsearch", "ftp", "http", "https", "imap", "k8s", "mongodb", "mqtt", "mssql", "mysql", "pop3", "postgres", "redis", "sip", "smb", "smtp", "smtp_relay", "snmp", "ssh", "telnet", "tftp", "vnc"]), registry.Names.ToHashSet());
        Assert.Equal(registry.Names.Order(StringComparer.Ordinal), registry.Names);
        Assert.All(registry.Names, name => Assert.True(Decnet.Core.Deckies.ServiceCatalog.IsPerDeckyService(name), name));
        Assert.Equal(BuiltInFactories.All().Count, provider.GetServices<IHoneypotServiceFactory>().Count());
        Assert.Same(provider.GetRequiredService<ServiceHost>(), provider.GetRequiredService<ServiceHost>());
        Assert.Equal([new ServicePort(25), new ServicePort(587)], registry.Get("SMTP_RELAY").DefaultPorts);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Every_per_decky_service_of_the_catalog_has_a_built_in_factory_listening_on_the_catalog_ports()
    {
        var factories = BuiltInFactories.All().ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);

        // A catalog name without a factory deploys as a decky whose service silently never runs.
        var missing = Decnet.Core.Deckies.ServiceCatalog.PerDeckyServiceNames.Where(name => !factories.ContainsKey(name)).ToList();
        Assert.True(missing.Count == 0, "no factory for: " + string.Join(", ", missing));
        // The planner checks port conflicts with the catalog's ports; the host binds the factory's.
        Assert.All(Decnet.Core.Deckies.ServiceCatalog.PerDeckyServiceNames, name => Assert.Equal(
            Decnet.Core.Deckies.ServiceCatalog.Get(name).Ports.OrderBy(p => p.Transport).ThenBy(p => p.Port),
            factories[name].DefaultPorts.OrderBy(p => p.Transport).ThenBy(p => p.Port)));
        Assert.All(factories.Keys, name => Assert.True(Decnet.Core.Deckies.ServiceCatalog.IsPerDeckyService(name), name));
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void An_unknown_service_name_lists_what_is_available()
    {
        var registry = new HoneypotServiceRegistry(BuiltInFactories.All());
        var error = Assert.Throws<KeyNotFoundException>(() => registry.Get("gopher"));
        Assert.Contains("'gopher'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Available: " + string.Join(", ", registry.Names) + ".", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_decky_built_from_the_registry_serves_all_its_services_on_one_address()
    {
        await using var decky = TestDecky.Create();
        var registry = new HoneypotServiceRegistry(BuiltInFactories.All());
        var bindings = new[] { "ftp", "http", "redis" }.Select(name => registry.CreateBinding(name, decky.Context(), decky.Address)).ToArray();
        var hosted = await decky.StartAsync(bindings);
        Assert.Equal(3, hosted.Bindings.Count);
        var redis = await RealClient.RunAsync("redis-cli", ["-h", decky.Address.ToString(), "PING"]);
        Assert.Equal("PONG", redis.StdOut.Trim());
        var http = await RealClient.RunAsync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", $"http://{decky.Address}/"]);
        Assert.Equal("403", http.StdOut);
        Assert.All(decky.Sink.Events, e => Assert.Equal(decky.Name, e.Decky));
    }
}
