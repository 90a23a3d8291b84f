using System.Text.RegularExpressions;
using Decnet.Agent.Serve;
using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Protocol;
using Microsoft.Extensions.Logging;

namespace Decnet.Agent.Api;

/// <summary>
/// The deckies this worker runs, driven by the master through the agent API. The runtime keeps the
/// truth (what runs, with which configuration); nothing else is stored, the master holds the shards.
/// </summary>
public sealed partial class WorkerDeckies(
    IDeckyRuntime runtime,
    HoneypotServiceRegistry registry,
    AgentServeSettings settings,
    TimeProvider time,
    ILogger<WorkerDeckies> logger)
{
    /// <summary>More deckies than this in one share is a master bug or an attack on the worker.</summary>
    public const int MaxDeckies = 256;

    public const int MaxServicesPerDecky = 32;

    public string RuntimeKind => runtime.Kind;

    public async Task<AgentStatus> StatusAsync(CancellationToken cancellationToken) =>
        AgentStatus.From(runtime.Kind, await runtime.GetStatusAsync(cancellationToken));

    /// <summary>Null when the share can be deployed, else what is wrong with it.</summary>
    public static string? Validate(DecnetConfig? config)
    {
        if (config is null)
        {
            return "config is required";
        }
        if (config.Deckies.Count > MaxDeckies)
        {
            return $"a worker runs at most {MaxDeckies} deckies; this share has {config.Deckies.Count}";
        }
        foreach (var decky in config.Deckies)
        {
            if (!SwarmCertificateAuthority.IsValidHostName(decky.Name))
            {
                return $"'{decky.Name}' is not a valid decky name";
            }
            if (ValidateServices(decky.Services) is { } error)
            {
                return $"{decky.Name}: {error}";
            }
        }
        var duplicate = config.Deckies.GroupBy(d => d.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null ? null : $"decky '{duplicate.Key}' appears twice";
    }

    public static string? ValidateServices(IReadOnlyList<string> services) =>
        services.Count is 0 ? "at least one service is required"
        : services.Count > MaxServicesPerDecky ? $"at most {MaxServicesPerDecky} services per decky"
        : services.FirstOrDefault(s => !ServiceName().IsMatch(s)) is { } bad ? $"'{bad}' is not a valid service name"
        : null;

    /// <summary>
    /// Makes this worker's running set equal to its share. The decky IPs are kept as the master planned
    /// them; a worker enrolled with ipvlan forces ipvlan for every deployment (Wi-Fi parents).
    /// </summary>
    public async Task<AgentStatus> DeployAsync(DecnetConfig config, CancellationToken cancellationToken)
    {
        if (settings.Host.Ipvlan && !config.Ipvlan)
        {
            config = config with { Ipvlan = true };
        }
        var status = await runtime.DeployAsync(config, cancellationToken);
        logger.LogInformation("Deployed {Count} decky(ies) through the {Runtime} runtime{Ipvlan}", config.Deckies.Count, runtime.Kind, config.Ipvlan ? " (ipvlan)" : "");
        return AgentStatus.From(runtime.Kind, status);
    }

    /// <summary>False when <paramref name="deckyName"/> is given and does not run here.</summary>
    public async Task<bool> TeardownAsync(string? deckyName, CancellationToken cancellationToken)
    {
        if (deckyName is not null && (await runtime.GetStatusAsync(cancellationToken)).Find(deckyName) is null)
        {
            return false;
        }
        await runtime.TeardownAsync(deckyName, cancellationToken);
        logger.LogInformation("Tore down {Target}", deckyName ?? "every decky");
        return true;
    }

    /// <summary>
    /// Restarts one decky with <paramref name="services"/>, or with a random different set from its
    /// rotation pool (archetype, else every service this runtime hosts) when null. Null when the decky
    /// does not run here.
    /// </summary>
    public async Task<(DeckyConfig Config, AgentStatus Status)?> MutateAsync(string deckyName, IReadOnlyList<string>? services, CancellationToken cancellationToken)
    {
        var current = (await runtime.GetStatusAsync(cancellationToken)).Find(deckyName)?.Config;
        if (current is null)
        {
            return null;
        }
        var next = services is null
            ? ServiceRotation.Pick(current, ServiceRotation.Pool(current, CanHost), Random.Shared)
            : services.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var mutated = current with { Services = next, LastMutated = time.GetUtcNow().UtcDateTime };
        var decky = await runtime.ApplyAsync(mutated, cancellationToken);
        logger.LogInformation("Mutated {Decky}: {Before} -> {After} ({State})", deckyName,
            string.Join(",", current.Services), string.Join(",", next), decky.State.ToString().ToLowerInvariant());
        return (mutated, await StatusAsync(cancellationToken));
    }

    // The Docker runtime hosts every catalog service in its honeypot image; the embedded one only those compiled in.
    private bool CanHost(string service) => runtime.Kind != RuntimeSelection.Embedded ? ServiceCatalog.Find(service) is not null : registry.TryGet(service, out _);

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex ServiceName();
}
