using System.Text.RegularExpressions;
using Decnet.Agent.Serve;
using Decnet.Core.Deckies;
using Decnet.Core.Deckies.Fleet;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Protocol;
using Microsoft.Extensions.Logging;

namespace Decnet.Agent.Api;

/// <summary>
/// The deckies this worker runs, driven by the master through the agent API. The runtime keeps the
/// truth (what runs, with which configuration); after every change the running set is written to
/// <c>{state-dir}/deployment.json</c> so a restarted agent brings the same deckies back before the
/// master's next heartbeat sees them missing.
/// </summary>
public sealed partial class WorkerDeckies(
    IDeckyRuntime runtime,
    AgentServeSettings settings,
    TimeProvider time,
    ILogger<WorkerDeckies> logger)
{
    /// <summary>More deckies than this in one share is a master bug or an attack on the worker.</summary>
    public const int MaxDeckies = 256;

    public const int MaxServicesPerDecky = 32;

    private readonly SemaphoreSlim _saving = new(1, 1);

    // One change of the running set at a time: a deploy, a teardown (the master's or a heartbeat's) or a mutation.
    private readonly SemaphoreSlim _changing = new(1, 1);
    private DecnetConfig? _network;
    private long _deployGeneration;

    /// <summary>Counts deploys started; a heartbeat answer computed before the latest one may predate its placement.</summary>
    public long DeployGeneration => Interlocked.Read(ref _deployGeneration);

    public string RuntimeKind => runtime.Kind;

    public string DeploymentPath { get; } = Path.Combine(settings.Host.StateDirectory, "deployment.json");

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
            if (ValidateCustomServices(decky.CustomServices) is { } customError)
            {
                return $"{decky.Name}: {customError}";
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

    /// <summary>Custom services become containers named after them and run the image they name: both must be plain.</summary>
    public static string? ValidateCustomServices(IReadOnlyList<CustomService> custom) =>
        custom.Count > MaxServicesPerDecky ? $"at most {MaxServicesPerDecky} custom services per decky"
        : custom.FirstOrDefault(c => !ServiceName().IsMatch(c.Name)) is { } badName ? $"'{badName.Name}' is not a valid custom service name"
        : custom.FirstOrDefault(c => string.IsNullOrWhiteSpace(c.Image) || c.Image.Length > 255 || c.Image.Any(ch => char.IsWhiteSpace(ch) || char.IsControl(ch))) is { } badImage
            ? $"custom service '{badImage.Name}' has no usable image reference"
        : custom.FirstOrDefault(c => c.Command.Count > 64 || c.Ports.Count > 64) is { } tooBig ? $"custom service '{tooBig.Name}' has more than 64 command words or ports"
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
        Interlocked.Increment(ref _deployGeneration);
        await _changing.WaitAsync(cancellationToken);
        try
        {
            var status = await runtime.DeployAsync(config, cancellationToken);
            _network = config;
            await SaveAsync(status, cancellationToken);
            logger.LogInformation("Deployed {Count} decky(ies) through the {Runtime} runtime{Ipvlan}", config.Deckies.Count, runtime.Kind, config.Ipvlan ? " (ipvlan)" : "");
            return AgentStatus.From(runtime.Kind, status);
        }
        finally
        {
            _changing.Release();
        }
    }

    /// <summary>False when <paramref name="deckyName"/> is given and does not run here.</summary>
    public async Task<bool> TeardownAsync(string? deckyName, CancellationToken cancellationToken)
    {
        await _changing.WaitAsync(cancellationToken);
        try
        {
            if (deckyName is not null && (await runtime.GetStatusAsync(cancellationToken)).Find(deckyName) is null)
            {
                return false;
            }
            await runtime.TeardownAsync(deckyName, cancellationToken);
            await SaveAsync(await runtime.GetStatusAsync(cancellationToken), cancellationToken);
            logger.LogInformation("Tore down {Target}", deckyName ?? "every decky");
            return true;
        }
        finally
        {
            _changing.Release();
        }
    }

    /// <summary>
    /// Tears down deckies the master placed elsewhere (its heartbeat answer), unless a deploy started since
    /// <paramref name="generation"/>: that answer may predate the new placement, the next heartbeat decides.
    /// Returns the names torn down.
    /// </summary>
    public async Task<IReadOnlyList<string>> TeardownStraysAsync(IReadOnlyList<string> names, long generation, CancellationToken cancellationToken)
    {
        await _changing.WaitAsync(cancellationToken);
        try
        {
            if (DeployGeneration != generation)
            {
                logger.LogInformation("A deploy arrived since the heartbeat: the master's teardown of {Deckies} waits for the next one", string.Join(", ", names));
                return [];
            }
            var running = await runtime.GetStatusAsync(cancellationToken);
            var torn = new List<string>();
            foreach (var name in names.Distinct(StringComparer.Ordinal))
            {
                if (running.Find(name) is null)
                {
                    continue;
                }
                await runtime.TeardownAsync(name, cancellationToken);
                torn.Add(name);
            }
            if (torn.Count > 0)
            {
                await SaveAsync(await runtime.GetStatusAsync(cancellationToken), cancellationToken);
                logger.LogWarning("The master placed {Deckies} elsewhere (or nowhere): torn down here", string.Join(", ", torn));
            }
            return torn;
        }
        finally
        {
            _changing.Release();
        }
    }

    /// <summary>
    /// Restarts one decky with <paramref name="services"/>, or with a random different set from its
    /// rotation pool (archetype, else every service this runtime hosts) when null. Null when the decky
    /// does not run here.
    /// </summary>
    public async Task<(DeckyConfig Config, AgentStatus Status)?> MutateAsync(string deckyName, IReadOnlyList<string>? services, CancellationToken cancellationToken)
    {
        await _changing.WaitAsync(cancellationToken);
        try
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
            await SaveAsync(await runtime.GetStatusAsync(cancellationToken), cancellationToken);
            logger.LogInformation("Mutated {Decky}: {Before} -> {After} ({State})", deckyName,
                string.Join(",", current.Services), string.Join(",", next), decky.State.ToString().ToLowerInvariant());
            return (mutated, await StatusAsync(cancellationToken));
        }
        finally
        {
            _changing.Release();
        }
    }

    /// <summary>Redeploys the set saved before the agent stopped; nothing when there is none or it is unreadable.</summary>
    public async Task RestoreAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(DeploymentPath))
        {
            return;
        }
        DecnetConfig saved;
        try
        {
            saved = DeckyConfigJson.DeserializeDeployment(await File.ReadAllTextAsync(DeploymentPath, cancellationToken));
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or IOException)
        {
            logger.LogWarning("The saved deployment {Path} cannot be read ({Error}); waiting for the master", DeploymentPath, ex.Message);
            return;
        }
        if (Validate(saved) is { } error)
        {
            logger.LogWarning("The saved deployment {Path} is invalid ({Error}); waiting for the master", DeploymentPath, error);
            return;
        }
        if (await AdoptAsync(saved, cancellationToken) is { } adopted)
        {
            logger.LogInformation("Adopted {Count} decky(ies) still running from before the restart ({Path}): nothing restarted", adopted, DeploymentPath);
            return;
        }
        var status = await DeployAsync(saved, cancellationToken);
        logger.LogInformation("Restored {Count} decky(ies) from {Path}", status.Deckies.Count, DeploymentPath);
    }

    /// <summary>The saved set, when the runtime still runs exactly it (containers outlive the agent); null otherwise.</summary>
    private async Task<int?> AdoptAsync(DecnetConfig saved, CancellationToken cancellationToken)
    {
        await _changing.WaitAsync(cancellationToken);
        try
        {
            // A deploy from the master that arrived first wins over the saved set.
            if (_network is not null || await runtime.AdoptAsync(saved, cancellationToken) is not { } status)
            {
                return null;
            }
            _network = saved;
            return status.Deckies.Count;
        }
        finally
        {
            _changing.Release();
        }
    }

    private async Task SaveAsync(RuntimeStatus status, CancellationToken cancellationToken)
    {
        var deckies = status.Deckies.Select(d => d.Config).OfType<DeckyConfig>().ToList();
        await _saving.WaitAsync(cancellationToken);
        try
        {
            if (deckies.Count == 0 || _network is null)
            {
                File.Delete(DeploymentPath);
                return;
            }
            Directory.CreateDirectory(settings.Host.StateDirectory);
            var temporary = DeploymentPath + ".tmp";
            await File.WriteAllTextAsync(temporary, DeckyConfigJson.Serialize(_network with { Deckies = deckies }), cancellationToken);
            File.Move(temporary, DeploymentPath, overwrite: true);
        }
        catch (IOException ex)
        {
            logger.LogWarning(ex, "The deployment could not be saved to {Path}; a restarted agent waits for the master", DeploymentPath);
        }
        finally
        {
            _saving.Release();
        }
    }

    // The Docker runtime hosts every catalog service in its honeypot image; the embedded one only those compiled in.
    private bool CanHost(string service) => runtime.CanHost(service);

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex ServiceName();
}
