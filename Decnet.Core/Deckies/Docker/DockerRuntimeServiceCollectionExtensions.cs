using Decnet.Core.Configuration;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Health;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Deckies.Docker;

public static class DockerRuntimeServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Docker runtime as the <see cref="IDeckyRuntime"/>, its options (section "Docker",
    /// validated at start) and the critical "docker" health probe. Call it only where Docker is the chosen
    /// runtime: the probe makes a missing engine an unhealthy service. The containers' log collector is
    /// the ingest's (<c>AddDockerLogCollector</c>), registered beside it by the host.
    /// </summary>
    public static IServiceCollection AddDockerDeckyRuntime(this IServiceCollection services)
    {
        services.AddValidatedOptions<DockerRuntimeOptions, DockerRuntimeOptionsValidator>(DockerRuntimeOptions.SectionName)
            // A local engine shares this host's folders: service state and artifacts land in our data folder.
            .PostConfigure<IOptions<StorageOptions>>((docker, storage) =>
                docker.HostDataDirectory ??= docker.Endpoint.StartsWith("unix://", StringComparison.Ordinal) ? storage.Value.DataPath : null)
            .PostConfigure<IOptions<HoneypotLimitsOptions>>((docker, limits) => docker.HoneypotLimits = limits.Value);
        services.TryAddSingleton(sp => new DockerDeckyRuntime(
            sp.GetRequiredService<IOptions<DockerRuntimeOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton<IDeckyRuntime>(sp => sp.GetRequiredService<DockerDeckyRuntime>());
        services.AddSingleton<IHealthProbe, DockerProbe>();
        return services;
    }
}

/// <summary>Collects every problem with the Docker options so one start-up shows them all.</summary>
public sealed class DockerRuntimeOptionsValidator : IValidateOptions<DockerRuntimeOptions>
{
    public ValidateOptionsResult Validate(string? name, DockerRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("unix" or "tcp" or "http" or "https" or "npipe"))
        {
            errors.Add($"Decnet:Runtime:Docker:Endpoint '{options.Endpoint}' must be a unix://, tcp:// or npipe:// URI.");
        }
        if (string.IsNullOrWhiteSpace(options.BaseImage))
        {
            errors.Add("Decnet:Runtime:Docker:BaseImage is required.");
        }
        if (string.IsNullOrWhiteSpace(options.HoneypotImage) || string.IsNullOrWhiteSpace(options.HoneypotTag))
        {
            errors.Add("Decnet:Runtime:Docker:HoneypotImage and Docker:HoneypotTag are required.");
        }
        if (options.HostShimAddress is { } shim && !Ipv4.TryParseAddress(shim, out _))
        {
            errors.Add($"Decnet:Runtime:Docker:HostShimAddress '{shim}' is not an IPv4 address.");
        }
        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add("Decnet:Runtime:Docker:RequestTimeout must be positive.");
        }
        if (options.MaxRetryAttempts is < 0 or > 10)
        {
            errors.Add("Decnet:Runtime:Docker:MaxRetryAttempts must be 0 to 10.");
        }
        Range(errors, nameof(options.ServiceMemoryLimitMiB), options.ServiceMemoryLimitMiB, 64, 65_536);
        Range(errors, nameof(options.ServicePidsLimit), options.ServicePidsLimit, 32, 65_536);
        Range(errors, nameof(options.BaseMemoryLimitMiB), options.BaseMemoryLimitMiB, 8, 65_536);
        Range(errors, nameof(options.BasePidsLimit), options.BasePidsLimit, 4, 65_536);
        if (options.CustomServiceMemoryBytes is < 0 or (> 0 and < 6 * 1024 * 1024))
        {
            errors.Add("Decnet:Runtime:Docker:CustomServiceMemoryBytes must be 0 (no cap) or at least 6 MiB, the engine's minimum.");
        }
        if (options.CustomServicePidsLimit < 0)
        {
            errors.Add("Decnet:Runtime:Docker:CustomServicePidsLimit must be 0 (no cap) or positive.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Range(List<string> errors, string key, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            errors.Add(OptionsProblems.OutOfRange($"Decnet:Runtime:Docker:{key}", value, min, max));
        }
    }
}
