using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Decnet.Core.Attackers;

public static class AttackerServices
{
    /// <summary>The profiler (one instance: its gate serialises passes), the loop that drives it and the read side.</summary>
    public static IServiceCollection AddDecnetAttackers(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AttackerProfiler>();
        services.TryAddSingleton<ProfilerLoop>();
        services.TryAddSingleton<AttackerDirectory>();
        return services;
    }
}
