using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Exposure;

/// <summary>
/// How the dashboard meets the network: behind known reverse proxies (forwarded headers, off by
/// default). Two calls in Extensions.cs; nothing else of the startup depends on it.
/// </summary>
public static class ExposureSetup
{
    public static WebApplicationBuilder AddDashboardExposure(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TrustedProxyOptions>().BindConfiguration(TrustedProxyOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TrustedProxyOptions>, TrustedProxyOptionsValidator>();
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
        return builder;
    }

    /// <summary>First in the pipeline, so throttles, logs and cookies all see the real client and scheme.</summary>
    public static WebApplication UseDashboardExposure(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<TrustedProxyOptions>>().Value.Enabled)
        {
            app.UseForwardedHeaders();
        }
        return app;
    }
}
