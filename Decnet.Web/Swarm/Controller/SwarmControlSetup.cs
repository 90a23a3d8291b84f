using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Web.Swarm.Enrollment;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Decnet.Web.Swarm.Controller;

/// <summary>Wiring of the swarm controller and enrollment endpoints, offline detection and enrollment (two lines in Extensions.cs).</summary>
public static class SwarmControlSetup
{
    public static WebApplicationBuilder AddSwarmControl(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<SwarmControllerListener>();
        services.AddSingleton<ISwarmEndpoints, BoundSwarmEndpoints>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, SwarmControllerMatcherPolicy>());
        services.AddTransient<IStartupFilter, SwarmControllerGuard>();
        services.AddSwarmEnrollment();

        var swarm = builder.Configuration.GetSection(SwarmOptions.Section).Get<SwarmOptions>() ?? new SwarmOptions();
        if (!swarm.Enabled)
        {
            return builder;
        }
        services.AddSingleton<OfflineHostsWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<OfflineHostsWorker>());
        services.AddHostedService<LastSeenWriter>();
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var current = context.Configuration.GetSection(SwarmOptions.Section).Get<SwarmOptions>() ?? new SwarmOptions();
            kestrel.ApplicationServices.GetRequiredService<SwarmControllerListener>().Configure(
                kestrel, current, kestrel.ApplicationServices.GetRequiredService<SwarmMasterCredentials>(),
                kestrel.ApplicationServices.GetRequiredService<Decnet.Core.Swarm.Security.SwarmGate>());
        });
        return builder;
    }

    public static WebApplication MapSwarmControl(this WebApplication app)
    {
        app.MapSwarmControllerApi();
        app.MapEnrollmentBundleApi();
        return app;
    }
}
