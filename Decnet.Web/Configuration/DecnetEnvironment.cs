namespace Decnet.Web.Configuration;

/// <summary>
/// Maps the documented <c>DECNET_*</c> environment variables onto configuration keys, so operators
/// can use the same names as on every other DECNET host. Real configuration keys still win when set
/// later in the chain (command line).
/// </summary>
public static class DecnetEnvironment
{
    public static readonly IReadOnlyDictionary<string, string> Variables = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["DECNET_DATA_DIR"] = "Decnet:Storage:DataDirectory",
        ["DECNET_DB_PATH"] = "Decnet:Storage:DatabaseFile",
        ["DECNET_LOG_DIRECTORY"] = "Decnet:Logging:Directory",
        ["DECNET_ADMIN_USER"] = "Decnet:Users:AdminUser",
        ["DECNET_ADMIN_PASSWORD"] = "Decnet:Users:AdminPassword",
        ["DECNET_JWT_SECRET"] = "Decnet:Auth:JwtSecret",
        ["DECNET_WEB_HOST"] = "Decnet:Web:Host",
        ["DECNET_WEB_PORT"] = "Decnet:Web:Port",
        ["DECNET_KNOWN_PROXIES"] = "Decnet:Web:ForwardedHeaders:KnownProxies",
        ["DECNET_TLS_CERT"] = "Decnet:Web:Tls:CertificatePath",
        ["DECNET_TLS_KEY"] = "Decnet:Web:Tls:KeyPath",
        ["DECNET_TLS_PASSWORD"] = "Decnet:Web:Tls:Password",
        ["DECNET_OTEL_ENDPOINT"] = "Decnet:Telemetry:OtlpEndpoint",
        ["DECNET_DEVELOPER"] = "Decnet:Developer",
    };

    /// <summary>
    /// Adds the mapped variables just before the application's command line, which keeps the last word.
    /// The host's own command-line source comes earlier (before appsettings.json): the last one is meant.
    /// </summary>
    public static IConfigurationBuilder AddDecnetEnvironment(this IConfigurationBuilder configuration)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (variable, key) in Variables)
        {
            var value = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrEmpty(value))
            {
                values[key] = value;
            }
        }
        var source = new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = values };
        var commandLine = configuration.Sources.ToList().FindLastIndex(s => s is Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationSource);
        if (commandLine >= 0)
        {
            configuration.Sources.Insert(commandLine, source);
        }
        else
        {
            configuration.Sources.Add(source);
        }
        return configuration;
    }
}
