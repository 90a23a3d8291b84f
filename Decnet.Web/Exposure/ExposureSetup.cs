using Decnet.Core.Configuration;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Exposure;

/// <summary>
/// How the dashboard meets the network: HTTPS with the operator's certificate, known reverse proxies
/// (forwarded headers, off by default), and the refusal to expose the default admin password. Two
/// calls in Extensions.cs; the rest of the startup does not depend on it.
/// </summary>
public static class ExposureSetup
{
    public static WebApplicationBuilder AddDashboardExposure(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<TrustedProxyOptions, TrustedProxyOptionsValidator>(TrustedProxyOptions.Section);
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<TrustedProxyOptions>>((forwarded, trusted) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // The framework trusts loopback by default; here only what the operator listed is trusted.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var entry in trusted.Value.Entries())
            {
                if (TrustedProxyOptions.Parse(entry) is { } network)
                {
                    forwarded.KnownIPNetworks.Add(network);
                }
            }
            // Walk back through every trusted hop; the first untrusted one is the client.
            forwarded.ForwardLimit = null;
        });

        services.AddValidatedOptions<DashboardTlsOptions, DashboardTlsOptionsValidator>(DashboardTlsOptions.Section);
        if (DashboardTlsOptions.IsEnabled(builder.Configuration))
        {
            // Every HTTPS address without a certificate of its own (the dashboard's) serves this one;
            // the swarm controller keeps its CA-issued identity.
            builder.WebHost.ConfigureKestrel((context, kestrel) =>
            {
                var tls = context.Configuration.GetSection(DashboardTlsOptions.Section).Get<DashboardTlsOptions>() ?? new DashboardTlsOptions();
                var certificate = new Lazy<System.Security.Cryptography.X509Certificates.X509Certificate2>(tls.Load);
                kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate.Value);
            });
        }

        // Registered after the seeding start-up task, so it sees the seeded administrator.
        services.AddSingleton<DefaultPasswordGuard>();
        services.AddHostedService(sp => sp.GetRequiredService<DefaultPasswordGuard>());
        return builder;
    }

    /// <summary>The scheme of the dashboard address: https once a certificate is configured.</summary>
    public static string DashboardScheme(IConfiguration configuration) =>
        DashboardTlsOptions.IsEnabled(configuration) ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;

    /// <summary>First in the pipeline, so throttles, logs and cookie flags all see the real client and scheme.</summary>
    public static WebApplication UseDashboardExposure(this WebApplication app)
    {
        // Read without validating here: a bad entry is reported with every other option error at start.
        if ((app.Configuration.GetSection(TrustedProxyOptions.Section).Get<TrustedProxyOptions>() ?? new TrustedProxyOptions()).Enabled)
        {
            app.UseForwardedHeaders();
        }
        var guard = app.Services.GetRequiredService<DefaultPasswordGuard>();
        app.Use((context, next) =>
        {
            if (guard.IsOpen)
            {
                return next(context);
            }
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        });
        return app;
    }
}
