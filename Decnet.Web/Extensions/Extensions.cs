using System.Text.Json;
using System.Threading.RateLimiting;
using Decnet.Core.Configuration;
using Decnet.Core.Deckies.Docker;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Storage;
using Decnet.Core.Users;
using Decnet.Core;
using Decnet.Web.Api;
using Decnet.Web.Authentication;
using Decnet.Web.Components;
using Decnet.Web.Configuration;
using Decnet.Web.Deckies;
using Decnet.Web.Events;
using Decnet.Web.Exposure;
using Decnet.Web.Health;
using Decnet.Web.Swarm.Controller;
using Decnet.Web.Swarm.Shipping;
using Decnet.Web.Telemetry;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
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
        services.AddHostedService<Decnet.Web.Attackers.ProfilerWorker>();
        services.AddHostedService<Decnet.Web.Overview.OverviewWorker>();
        services.AddSingleton<HealthMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthMonitor>());
        services.AddHostedService<MutatorWorker>();
        services.AddValidatedOptions<LogRetentionOptions, LogRetentionOptionsValidator>(LogRetentionOptions.Section);
        services.AddHostedService<LogRetentionWorker>();
        services.AddSwarmLogShipping();
        builder.AddSwarmControl();

        builder.AddDashboardExposure();
        services.AddDecnetAuthentication();
        services.AddDecnetRateLimits();
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
        services.AddScoped<CurrentOperator>();
        services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, SessionRevalidator>();
        return builder;
    }

    public static WebApplication UseDecnetWeb(this WebApplication app)
    {
        app.UseDashboardExposure();
        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        // A bare 404 of a page read (an unknown address) shows the dashboard's own page; the status stays. API
        // calls get their ProblemDetails from the inner middleware first, and a response with a body is left
        // alone. Every other status and method keeps its bare answer: a 403 is not "not found", and a page
        // answers a POST only with its antiforgery form.
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.Use(async (context, next) =>
        {
            var pages = context.Features.Get<IStatusCodePagesFeature>();
            await next(context);
            if (pages is not null && (context.Response.StatusCode != StatusCodes.Status404NotFound
                || !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))))
            {
                pages.Enabled = false;
            }
        });
        app.UseWhen(c => AuthenticationSetup.IsApi(c.Request), api => api.UseStatusCodePages());
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
        Decnet.Web.Export.ExportApi.MapExportApi(app);
        app.MapArtifactsApi();
        Decnet.Web.Swarm.Api.SwarmApi.MapSwarmApi(app);
        app.MapSwarmControl();
        Decnet.Web.Swarm.Updates.SwarmUpdatesApi.MapSwarmUpdatesApi(app);
        app.MapStreamApi();
        app.MapRecordingsApi();
        app.MapAccountEndpoints();
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

    private static IServiceCollection AddDecnetRateLimits(this IServiceCollection services) =>
        services.AddRateLimiter(o =>
        {
            // Bounds bcrypt work per client even for correct passwords; failures are also throttled per username.
            o.AddPolicy(AuthApi.LoginRateLimit, context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.LoginAttemptsPerMinute;
                return RateLimitPartition.GetTokenBucketLimiter(
                    context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = perMinute * 2,
                        TokensPerPeriod = perMinute,
                        ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                    });
            });
            o.OnRejected = async (context, cancellationToken) =>
            {
                context.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.HttpContext.Response.Headers.RetryAfter = "60";
                var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = new ProblemDetails { Status = 429, Title = "Too many requests", Detail = "Too many login attempts from this address; try again later." },
                });
            };
        });

    /// <summary>Cookie sign-out for the dashboard: a form post with an antiforgery token.</summary>
    private static void MapAccountEndpoints(this IEndpointRouteBuilder app) =>
        app.MapPost("/account/logout", async (HttpContext http, IAntiforgery antiforgery, UserDirectory users) =>
        {
            await antiforgery.ValidateRequestAsync(http);
            if (http.User.GetUserId() is { } id)
            {
                await users.RevokeSessionsAsync(id, http.RequestAborted);
            }
            await http.SignOutAsync(AuthenticationSetup.CookieScheme);
            return TypedResults.LocalRedirect(AuthenticationSetup.LoginPath);
        }).RequireAuthorization(Policies.SignedIn).DisableAntiforgery().ExcludeFromDescription();
}
