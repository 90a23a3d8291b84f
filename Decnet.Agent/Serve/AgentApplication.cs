using System.Text.Json.Serialization;
using System.Text.Json;
using Decnet.Agent.Api;
using Decnet.Agent.Heartbeat;
using Decnet.Agent.Logging;
using Decnet.Agent.SelfDestruct;
using Decnet.Agent.Shipping;
using Decnet.Agent.Spool;
using Decnet.Core.Configuration;
using Decnet.Core.Deckies.Docker;
using Decnet.Core.Deckies.Embedded;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Events.Collection;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Storage;
using Decnet.Core.Swarm.Pki;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Decnet.Core.Ingest.Collection;

namespace Decnet.Agent.Serve;

/// <summary>The worker agent's host: Kestrel HTTPS with required, pinned client certificates; runtime; spool; heartbeat.</summary>
public static class AgentApplication
{
    public const long MaxRequestBodyBytes = 1024 * 1024;

    public static WebApplication Build(AgentServeSettings settings, AgentIdentity identity, bool withForwarder = true)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "decnet-agent", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration[RuntimeSelection.KindKey] = settings.Runtime;
        builder.Configuration[$"{StorageOptions.Section}:{nameof(StorageOptions.DataDirectory)}"] = settings.Host.StateDirectory;
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning).AddFilter("Microsoft.Hosting", LogLevel.Warning);
        builder.Logging.AddAgentLogFile(settings.Host.LogDirectory, "agent");

        var pin = new MasterPin(identity.Trust, settings.Host.MasterFingerprint, LocalUpdaterFingerprint(settings.Host.UpdaterDirectory));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxConcurrentConnections = 64;
            kestrel.Listen(settings.ListenAddress, settings.Host.AgentPort, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = identity.Certificate,
                SslProtocols = PinnedTls.Protocols,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                CheckCertificateRevocation = false,
                ClientCertificateValidation = (certificate, _, _) => pin.MayConnect(certificate),
                HandshakeTimeout = TimeSpan.FromSeconds(10),
            }));
        });

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(identity);
        services.AddSingleton(pin);
        services.AddSingleton(TimeProvider.System);
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip;
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        });
        services.AddSingleton(sp => new SpoolEventSink(settings.SpoolPath, sp.GetRequiredService<ILogger<SpoolEventSink>>(), settings.SpoolRotation));
        services.AddSingleton<IHoneypotEventSink>(sp => sp.GetRequiredService<SpoolEventSink>());
        AddRuntime(builder);
        services.AddSingleton<WorkerDeckies>();
        services.AddSingleton<SelfDestructor>();
        services.AddHostedService<DeploymentRestore>();
        services.AddHostedService<HeartbeatLoop>();
        if (withForwarder)
        {
            services.AddLogForwarder(settings.Host);
        }

        var app = builder.Build();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A payload the records reject (a deployment without deckies) is the caller's error.
            StatusCodeSelector = ex => ex is ArgumentException or JsonException or BadHttpRequestException ? StatusCodes.Status400BadRequest : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.Use(pin.RequireMasterAsync);
        app.MapAgentApi();
        return app;
    }

    /// <summary>The fingerprint of this worker's updater certificate, when the updater was enrolled.</summary>
    private static string? LocalUpdaterFingerprint(string updaterDirectory)
    {
        try
        {
            using var updater = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(updaterDirectory, "updater.crt")));
            return SwarmTrust.CommonName(updater).StartsWith(SwarmCertificateAuthority.UpdaterPrefix, StringComparison.Ordinal) ? CertificateFingerprint.Of(updater) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    private static void AddRuntime(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddHoneypotServices();
        services.AddValidatedOptions<StorageOptions, StorageOptionsValidator>(StorageOptions.Section);
        using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(o => o.SingleLine = true));
        if (RuntimeSelection.Choose(builder.Configuration, loggers.CreateLogger("Decnet.Agent")) == RuntimeSelection.Docker)
        {
            // The service containers log their events on stdout: followed into the spool, shipped like the rest.
            services.AddSingleton<IContainerLineSink>(sp => new SpoolLineSink(
                sp.GetRequiredService<SpoolEventSink>(),
                Path.Combine(sp.GetRequiredService<AgentServeSettings>().Host.StateDirectory, "docker-cursors.json"),
                sp.GetRequiredService<ILogger<SpoolLineSink>>()));
            services.AddDockerDeckyRuntime();
            services.AddDockerLogCollector();
            services.AddHostedService<ContainerLogShipping>();
            return;
        }
        services.AddValidatedOptions<EmbeddedRuntimeOptions, EmbeddedRuntimeOptionsValidator>(EmbeddedRuntimeOptions.Section);
        services.AddSingleton(sp => new EmbeddedDeckyRuntime(
            sp.GetRequiredService<HoneypotServiceRegistry>(),
            sp.GetRequiredService<IHoneypotEventSink>(),
            sp.GetRequiredService<IOptions<EmbeddedRuntimeOptions>>(),
            sp.GetRequiredService<IOptions<StorageOptions>>(),
            sp.GetRequiredService<IOptions<HoneypotLimitsOptions>>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IDeckyRuntime>(sp => sp.GetRequiredService<EmbeddedDeckyRuntime>());
    }
}
