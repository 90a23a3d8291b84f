using Decnet.Core.Deckies.Docker;
using Docker.DotNet;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Deckies.Runtime;

/// <summary>
/// Picks the decky runtime at start (<c>Decnet:Runtime:Kind</c> = auto | embedded | docker). Auto uses
/// Docker only when an engine answers and the honeypot image is there, so a laptop or CI without an
/// engine gets a working embedded lab out of the box.
/// </summary>
public static class RuntimeSelection
{
    public const string KindKey = "Decnet:Runtime:Kind";
    public const string Embedded = "embedded";
    public const string Docker = "docker";

    public static string Choose(IConfiguration configuration, ILogger logger)
    {
        var kind = (configuration[KindKey] ?? "auto").Trim().ToLowerInvariant();
        switch (kind)
        {
            case Embedded or Docker:
                logger.LogInformation("Decky runtime: {Kind} (configured)", kind);
                return kind;
            case "auto":
                break;
            default:
                throw new InvalidOperationException($"{KindKey} must be auto, embedded or docker (it is '{kind}').");
        }

        var options = configuration.GetSection(DockerRuntimeOptions.SectionName).Get<DockerRuntimeOptions>() ?? new DockerRuntimeOptions();
        var reason = DockerReadiness(options);
        if (reason is null)
        {
            logger.LogInformation("Decky runtime: docker (engine at {Endpoint} answered and {Image}:{Tag} exists)", options.Endpoint, options.HoneypotImage, options.HoneypotTag);
            return Docker;
        }
        logger.LogInformation("Decky runtime: embedded ({Reason})", reason);
        return Embedded;
    }

    /// <summary>Null when the engine can run deckies now, else why not.</summary>
    private static string? DockerReadiness(DockerRuntimeOptions options)
    {
        if (Uri.TryCreate(options.Endpoint, UriKind.Absolute, out var endpoint) && endpoint.Scheme == "unix" && !File.Exists(endpoint.AbsolutePath))
        {
            return $"no Docker engine socket at {endpoint.AbsolutePath}";
        }
        try
        {
            using var client = DockerEngine.CreateClient(options);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            client.System.PingAsync(timeout.Token).GetAwaiter().GetResult();
            client.Images.InspectImageAsync($"{options.HoneypotImage}:{options.HoneypotTag}", timeout.Token).GetAwaiter().GetResult();
            return null;
        }
        catch (DockerImageNotFoundException)
        {
            return $"the engine has no {options.HoneypotImage}:{options.HoneypotTag} image (deploy/docker/build-images.sh builds it)";
        }
        catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException or OperationCanceledException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return $"the Docker engine at {options.Endpoint} did not answer: {ex.Message}";
        }
    }
}
