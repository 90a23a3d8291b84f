namespace Decnet.Core.Honeypots.Hosting;

/// <summary>The catalog of honeypot service kinds, by name ("http", "ftp" ...).</summary>
public sealed class HoneypotServiceRegistry
{
    private readonly Dictionary<string, IHoneypotServiceFactory> _factories;

    public HoneypotServiceRegistry(IEnumerable<IHoneypotServiceFactory> factories)
    {
        _factories = new Dictionary<string, IHoneypotServiceFactory>(StringComparer.OrdinalIgnoreCase);
        foreach (var factory in factories)
        {
            // Last registration wins, so a deployment can replace a built-in service with its own.
            _factories[factory.Name] = factory;
        }
    }

    public IReadOnlyCollection<string> Names => _factories.Keys.Order(StringComparer.Ordinal).ToList();

    public bool TryGet(string name, out IHoneypotServiceFactory factory) => _factories.TryGetValue(name, out factory!);

    public IHoneypotServiceFactory Get(string name) =>
        TryGet(name, out var factory)
            ? factory
            : throw new KeyNotFoundException($"Unknown honeypot service '{name}'. Available: {string.Join(", ", Names)}.");

    /// <summary>Builds one service instance and the binding that hosts it on the factory's default ports.</summary>
    public HostedServiceBinding CreateBinding(string name, ServiceContext context, System.Net.IPAddress address, IReadOnlyList<ServicePort>? ports = null)
    {
        var factory = Get(name);
        return new HostedServiceBinding(factory.Name, factory.Create(context), address, ports ?? factory.DefaultPorts);
    }
}
