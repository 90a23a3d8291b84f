namespace Decnet.Web.Swarm.Shipping;

public static class SwarmLogShippingServices
{
    /// <summary>The master's RFC 5425 log listener (started only when <c>Decnet:Swarm:Enabled</c>; options in <c>SwarmOptions</c>).</summary>
    public static IServiceCollection AddSwarmLogShipping(this IServiceCollection services)
    {
        services.AddSingleton<SwarmLogListenerService>();
        services.AddHostedService(sp => sp.GetRequiredService<SwarmLogListenerService>());
        return services;
    }
}
