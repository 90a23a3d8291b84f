using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Decnet.Core.Search;

public static class SearchServices
{
    /// <summary>The log search (singleton: it holds the shared unfiltered-total cache) and the latest-events list.</summary>
    public static IServiceCollection AddDecnetSearch(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LogSearch>();
        services.TryAddSingleton<EventLog>();
        return services;
    }
}
