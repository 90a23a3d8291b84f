using System.ComponentModel.DataAnnotations;
using System.Net;
using Decnet.Core.Configuration;
using Microsoft.Extensions.Options;

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

/// <summary>Every problem with <c>Decnet:Web</c> at once, each with its key and variable.</summary>
public sealed class WebOptionsValidator : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(WebOptions.Section)
            .Required(nameof(options.Host) + " (DECNET_WEB_HOST)", options.Host)
            .Range(nameof(options.Port) + " (DECNET_WEB_PORT)", options.Port, 1, 65535);
        if (!string.IsNullOrWhiteSpace(options.Host) && options.Host is not ("*" or "+" or "localhost") && !IPAddress.TryParse(options.Host.Trim('[', ']'), out _))
        {
            problems.Add(nameof(options.Host) + " (DECNET_WEB_HOST)", $"must be an IP address, localhost or * (a host name would make Kestrel listen on every address), not '{options.Host}'.");
        }
        return problems.Result();
    }
}

/// <summary>Every problem with <c>Decnet:Logging</c> at once.</summary>
public sealed class LoggingOptionsValidator : IValidateOptions<LoggingOptions>
{
    public ValidateOptionsResult Validate(string? name, LoggingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(LoggingOptions.Section).Required(nameof(options.Directory) + " (DECNET_LOG_DIRECTORY)", options.Directory);
        if (options.Directory?.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            problems.Add(nameof(options.Directory) + " (DECNET_LOG_DIRECTORY)", "contains a character a path cannot hold.");
        }
        return problems.Result();
    }
}

/// <summary>Every problem with <c>Decnet:Telemetry</c> at once.</summary>
public sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(TelemetryOptions.Section);
        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint)
            && !(Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            problems.Add(nameof(options.OtlpEndpoint) + " (DECNET_OTEL_ENDPOINT)", $"must be an http:// or https:// URL, not '{options.OtlpEndpoint}'.");
        }
        return problems.Result();
    }
}
