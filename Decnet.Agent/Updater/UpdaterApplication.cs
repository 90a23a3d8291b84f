using System.Text.Json;
using System.Text.Json.Serialization;
using Decnet.Agent.Logging;
using Decnet.Agent.Serve;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Updates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Decnet.Agent.Updater;

/// <summary>The updater's host: Kestrel HTTPS on the updater port, served as updater@name, the pinned master as only client.</summary>
public static class UpdaterApplication
{
    /// <summary>A compressed worker build is tens of MB; the expanded bound is <see cref="ReleaseArchive.MaxExpandedBytes"/>.</summary>
    public const long MaxUploadBytes = 256L * 1024 * 1024;

    public static WebApplication Build(UpdaterSettings settings, UpdaterIdentity identity)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "decnet-updater", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning).AddFilter("Microsoft.Hosting", LogLevel.Warning);
        builder.Logging.AddAgentLogFile(settings.Host.LogDirectory, "updater");

        var pin = new MasterPin(identity.Trust, settings.Host.MasterFingerprint);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxUploadBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxConcurrentConnections = 16;
            kestrel.Listen(settings.ListenAddress, settings.Port, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = identity.Certificate,
                SslProtocols = PinnedTls.Protocols,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                CheckCertificateRevocation = false,
                ClientCertificateValidation = (certificate, _, _) => pin.IsMaster(certificate),
                HandshakeTimeout = TimeSpan.FromSeconds(10),
            }));
        });

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(identity);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new ReleaseTree(settings.InstallDirectory, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<AgentSupervisor>();
        services.AddSingleton<AgentProbe>();
        services.AddSingleton<ReleaseInstaller>();
        services.AddProblemDetails();
        services.Configure<FormOptions>(form =>
        {
            form.MultipartBodyLengthLimit = MaxUploadBytes;
            form.ValueCountLimit = 16;
        });
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        });

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(pin.RequireMasterAsync);
        app.MapUpdaterApi();
        app.Lifetime.ApplicationStarted.Register(() => app.Services.GetRequiredService<AgentSupervisor>().EnsureRunning());
        return app;
    }
}
