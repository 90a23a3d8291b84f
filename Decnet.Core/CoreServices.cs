using Decnet.Core.Audit;
using Decnet.Core.Bounty;
using Decnet.Core.Configuration;
using Decnet.Core.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Health;
using Decnet.Core.Settings;
using Decnet.Core.Storage;
using Decnet.Core.Users;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Decnet.Core.Overview;

namespace Decnet.Core;

public static class CoreServices
{
    /// <summary>The domain services the master needs: storage, accounts, settings, audit, statistics.</summary>
    public static IServiceCollection AddDecnetCore(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddMemoryCache();
        services.AddValidatedOptions<UserOptions, UserOptionsValidator>(UserOptions.Section);
        services.AddDecnetStorage();
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<UserDirectory>();
        services.AddSingleton<SystemSettingsService>();
        services.AddSingleton<Deckies.Fleet.IFleetSettings>(sp => sp.GetRequiredService<SystemSettingsService>());
        services.AddSingleton<EventStatistics>();
        services.AddSingleton<Overview.DashboardOverview>();
        services.AddSingleton<Export.ExportGate>();
        services.AddSingleton<Events.Retention.LogPurger>();
        services.AddSingleton<IHealthProbe, DatabaseProbe>();
        services.AddSingleton<Notifications.NotificationHub>();
        services.AddDecnetEventPipeline();
        services.AddDecnetBounty();
        Attackers.AttackerServices.AddDecnetAttackers(services);
        Search.SearchServices.AddDecnetSearch(services);
        Swarm.Dispatch.DispatchServices.AddSwarmDispatch(services);
        Swarm.SwarmServices.AddDecnetSwarmControl(services);
        services.AddSingleton<Recordings.SessionRecordings>();
        return services;
    }
}
