using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Decnet.Core.Bounty;

public static class BountyServices
{
    /// <summary>The bounty vault: the writer the ingest calls inside its batch transaction, and the query.</summary>
    public static IServiceCollection AddDecnetBounty(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BountyQuery>();
        services.TryAddSingleton<BountyWriter>();
        return services;
    }
}
