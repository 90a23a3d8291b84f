using Decnet.Web.Configuration;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Serilog;
using Serilog.Events;

namespace Decnet.Web.Telemetry;

public static class TelemetrySetup
{
    /// <summary>Activity sources and meters of the domain (ingest, deploy, swarm ...).</summary>
    public const string DecnetSources = "Decnet.*";

    /// <summary>Console plus a rolling file under DECNET_LOG_DIRECTORY.</summary>
    public static WebApplicationBuilder AddDecnetLogging(this WebApplicationBuilder builder)
    {
        var directory = builder.Configuration.GetSection(LoggingOptions.Section).Get<LoggingOptions>()?.Directory ?? "logs";
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .Enrich.FromLogContext()
            .WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture)
            .WriteTo.File(
                Path.Combine(Path.GetFullPath(directory), "decnet-web-.log"),
                rollingInterval: RollingInterval.Day,
                fileSizeLimitBytes: 10 * 1024 * 1024,
                rollOnFileSizeLimit: true,
                retainedFileCountLimit: 10,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture),
            preserveStaticLogger: true);
        return builder;
    }

    /// <summary>
    /// Traces and metrics for our own sources; OTLP export when configured. Spans per HTTP request and per
    /// database command are only recorded when there is an exporter to send them to: without one, they
    /// were a measurable share of a cached API request and went nowhere. Our own spans (ingest, the live
    /// stream) are always recorded, since log rows store their trace and span ids.
    /// </summary>
    public static WebApplicationBuilder AddDecnetTelemetry(this WebApplicationBuilder builder)
    {
        var endpoint = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>()?.OtlpEndpoint;
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("decnet-web"))
            .WithTracing(t => t.AddSource(DecnetSources))
            .WithMetrics(m => m
                .AddMeter(DecnetSources)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation());
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            otel.WithTracing(t => t
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/_blazor"))
                    .AddEntityFrameworkCoreInstrumentation()
                    .AddOtlpExporter(o => o.Endpoint = new Uri(endpoint)))
                .WithMetrics(m => m.AddOtlpExporter(o => o.Endpoint = new Uri(endpoint)));
        }
        return builder;
    }
}
