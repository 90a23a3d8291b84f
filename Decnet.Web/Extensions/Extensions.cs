using System.Text.Json;
using Decnet.Core;
using Decnet.Core.Configuration;
using Decnet.Core.Deckies.Docker;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Ingest.Collection;
using Decnet.Core.Storage;
using Decnet.Web.Account;
using Decnet.Web.Api;
using Decnet.Web.Artifacts;
using Decnet.Web.Attackers;
using Decnet.Web.Authentication;
using Decnet.Web.Bounty;
using Decnet.Web.Components;
using Decnet.Web.Config;
using Decnet.Web.Configuration;
using Decnet.Web.Deckies;
using Decnet.Web.Events;
using Decnet.Web.Export;
using Decnet.Web.Exposure;
using Decnet.Web.Health;
using Decnet.Web.Overview;
using Decnet.Web.Recordings;
using Decnet.Web.Streaming;
using Decnet.Web.Swarm;
using Decnet.Web.Swarm.Controller;
using Decnet.Web.Swarm.Shipping;
using Decnet.Web.Swarm.Updates;
using Decnet.Web.Telemetry;
using Microsoft.AspNetCore.DataProtection;
using MudBlazor.Services;
using Serilog;

namespace Decnet.Web.Extensions;

/// <summary>All the wiring of the master process; Program.cs stays short.</summary>
public static class Extensions
{
    public static WebApplicationBuilder AddDecnetWeb(this WebApplicationBuilder builder)
    {
        builder.Configuration.AddDecnetEnvironment();
        builder.AnchorDataLocations();
        builder.AddDecnetLogging();
        builder.AddDecnetTelemetry();
        builder.ConfigureListenAddresses();
        builder.UseBuildOutputStaticAssets();

        var services = builder.Services;
        services.AddValidatedOptions<WebOptions, WebOptionsValidator>(WebOptions.Section);
        services.AddValidatedOptions<LoggingOptions, LoggingOptionsValidator>(LoggingOptions.Section);
        services.AddValidatedOptions<TelemetryOptions, TelemetryOptionsValidator>(TelemetryOptions.Section);
        services.AddDecnetCore();
        if (RuntimeSelection.Choose(builder.Configuration, StartupLogger()) == RuntimeSelection.Docker)
        {
            // Registered before the fleet so it wins over the embedded default.
            services.AddDockerDeckyRuntime();
            services.AddDockerLogCollector();
        }
        services.AddDecnetFleet();
        // Cookie and antiforgery keys live beside the database, so sessions survive a restart.
        var storage = builder.Configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        services.AddDataProtection()
            .SetApplicationName("decnet")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(storage.DataPath, "keys")));

        // Hosted services start in order: the schema exists before anything probes or serves it.
        services.AddHostedService<StartupTasks>();
        // Before the health monitor, so the first ingestion probe already sees the worker running.
        services.AddHostedService<IngestWorker>();
        services.AddHostedService<IngestSourcesWorker>();
        services.AddHostedService<ProfilerWorker>();
        services.AddHostedService<OverviewWorker>();
        services.AddSingleton<HealthMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthMonitor>());
        services.AddHostedService<MutatorWorker>();
        services.AddValidatedOptions<LogRetentionOptions, LogRetentionOptionsValidator>(LogRetentionOptions.Section);
        services.AddHostedService<LogRetentionWorker>();
        services.AddSwarmLogShipping();
        builder.AddSwarmControl();

        builder.AddDashboardExposure();
        services.AddDecnetAuthentication();
        services.AddLoginRateLimiting();
        services.AddDecnetEventStream();
        // Framing is refused by our own headers (X-Frame-Options DENY, frame-ancestors 'none').
        // Its cookie is Secure whenever the request is HTTPS, like the session cookie.
        services.AddAntiforgery(o =>
        {
            o.SuppressXFrameOptionsHeader = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DictionaryKeyPolicy = null;
        });
        services.AddDecnetOpenApi();

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddSingleton<Decnet.Web.Components.Layout.ThemeStylesheets>();
        services.AddScoped<CurrentOperator>();
        services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, SessionRevalidator>();
        return builder;
    }

    public static WebApplication UseDecnetWeb(this WebApplication app)
    {
        app.UseDashboardExposure();
        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        app.UseNotFoundPages();
        app.UseDeclaredSizeGate();
        app.UseSerilogRequestLogging(options => RequestLogLevels.Configure(options, app.Services.GetRequiredService<Serilog.ILogger>()));
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseAntiforgery();

        app.MapStaticAssets().AllowAnonymous();
        app.MapDecnetOpenApi();
        app.MapHealthApi();
        app.MapAuthApi();
        app.MapConfigApi();
        app.MapDeckiesApi();
        app.MapBountyApi();
        app.MapAttackersApi();
        app.MapLogsApi();
        app.MapExportApi();
        app.MapArtifactsApi();
        app.MapSwarmApi();
        app.MapSwarmControl();
        app.MapSwarmUpdatesApi();
        app.MapStreamApi();
        app.MapRecordingsApi();
        app.MapLogoutEndpoint();
        // Our own CSP already says frame-ancestors 'none'; Blazor's weaker default header would be a second policy.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
        return app;
    }

    private static Microsoft.Extensions.Logging.ILogger StartupLogger() =>
        LoggerFactory.Create(logging => logging.AddSimpleConsole()).CreateLogger("Decnet.Startup");

    /// <summary>
    /// Under <c>dotnet run</c> (any environment, Production included) the framework script, MudBlazor's
    /// files, the scoped CSS bundle and wwwroot-assets are not in the content root's wwwroot: the build's
    /// static web assets manifest says where each one is. ASP.NET Core reads it by itself only in
    /// Development; without it MapStaticAssets answers every asset with an empty body. A published build
    /// has no such manifest (its wwwroot holds every file), so this does nothing there.
    /// </summary>
    private static void UseBuildOutputStaticAssets(this WebApplicationBuilder builder)
    {
        if (!builder.Environment.IsDevelopment())
        {
            builder.WebHost.UseStaticWebAssets();
        }
    }
}
