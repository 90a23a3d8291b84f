using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Honeypots.Hosting;

public static class HoneypotServiceCollectionExtensions
{
    /// <summary>
    /// Registers every built-in honeypot service factory, the registry, the service host and the host-wide
    /// limits (<c>Decnet:Honeypots</c>, validated at start).
    /// </summary>
    public static IServiceCollection AddHoneypotServices(this IServiceCollection services)
    {
        foreach (var factory in BuiltInFactories.All())
        {
            services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IHoneypotServiceFactory), factory));
        }
        // Bound from configuration when the host has one (the master and the agent); defaults otherwise.
        services.AddOptions<HoneypotLimitsOptions>()
            .Configure<IServiceProvider>((limits, provider) => provider.GetService<IConfiguration>()?.GetSection(HoneypotLimitsOptions.Section).Bind(limits))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HoneypotLimitsOptions>, HoneypotLimitsOptionsValidator>());
        services.AddOptions<ServiceHostOptions>().Configure<IOptions<HoneypotLimitsOptions>>((host, limits) => host.Admission = limits.Value.Admission);
        services.TryAddSingleton<HoneypotServiceRegistry>();
        services.TryAddSingleton(sp => new ServiceHost(sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<IOptions<ServiceHostOptions>>().Value));
        return services;
    }
}
