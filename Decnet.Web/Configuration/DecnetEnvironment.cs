namespace Decnet.Web.Configuration;

/// <summary>
/// Maps the documented <c>DECNET_*</c> environment variables onto configuration keys, so operators
/// can use the same names as on every other DECNET host. Precedence, lowest first: appsettings.json,
/// appsettings.{Environment}.json, plain environment variables (<c>Decnet__Web__Port</c>), the
/// <c>DECNET_*</c> variables, the command line.
/// </summary>
public static class DecnetEnvironment
{
    public static readonly IReadOnlyDictionary<string, string> Variables = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["DECNET_DATA_DIR"] = "Decnet:Storage:DataDirectory",
        ["DECNET_DB_PATH"] = "Decnet:Storage:DatabaseFile",
        ["DECNET_DB_TYPE"] = "Decnet:Storage:Provider",
        ["DECNET_DB_CONNECTION"] = "Decnet:Storage:ConnectionString",
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
    };

    /// <summary>
    /// Adds the mapped variables just before the application's command-line source, which keeps the
    /// last word. The host also reads the command line early (before appsettings.json, for its own
    /// settings), so the last command-line source is the one that counts: inserting before the first
    /// one would let appsettings.json override every variable.
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
