using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Honeypots.Hosting;

public static class HoneypotServiceCollectionExtensions
{
    /// <summary>Registers every built-in honeypot service factory, the registry and the service host.</summary>
    public static IServiceCollection AddHoneypotServices(this IServiceCollection services)
    {
        foreach (var factory in BuiltInFactories.All())
        {
            services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IHoneypotServiceFactory), factory));
        }
        services.AddOptions<ServiceHostOptions>();
        services.TryAddSingleton<HoneypotServiceRegistry>();
        services.TryAddSingleton(sp => new ServiceHost(sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<IOptions<ServiceHostOptions>>().Value));
        return services;
    }
}
