using System.ComponentModel.DataAnnotations;

namespace Decnet.Web.Configuration;

public sealed class WebOptions
{
    public const string Section = "Decnet:Web";

    /// <summary>Dashboard bind address. Loopback by default: exposing it is a deliberate choice.</summary>
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535)]
    public int Port { get; set; } = 8080;
}

public sealed class LoggingOptions
{
    public const string Section = "Decnet:Logging";

    /// <summary>Folder of the rolling process log (DECNET_LOG_DIRECTORY).</summary>
    public string Directory { get; set; } = "logs";
}

public sealed class TelemetryOptions
{
    public const string Section = "Decnet:Telemetry";

    /// <summary>OTLP endpoint (DECNET_OTEL_ENDPOINT); traces and metrics are exported only when set.</summary>
    public string? OtlpEndpoint { get; set; }
}
