using Decnet.Core.Audit;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Notifications;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Deckies.Fleet;

/// <summary>
/// Deploys, mutates and tears down deckies through the active runtime and keeps the stored deployment
/// in step; on a master with workers the same operations reach the deckies placed on them (through
/// <see cref="IWorkerFleet"/>, the swarm's). Used by the Decoy Fleet page, the mutator and the
/// REST API alike. A deploy REPLACES the previous decky set; invalid input changes nothing.
/// </summary>
public sealed class DeckyFleet(
    IDeckyRuntime runtime,
    DeploymentStore store,
    IFleetSettings settings,
    NotificationHub hub,
    AuditTrail audit,
    TimeProvider time,
    ILogger<DeckyFleet> logger,
    IWorkerFleet? swarm = null)
{
    private readonly SemaphoreSlim _deploying = new(1, 1);

    public string RuntimeKind => runtime.Kind;

    public async Task<DeploymentPreview> PreviewAsync(string? iniText, CancellationToken cancellationToken)
    {
        DecnetConfig deployment;
        try
        {
            var spec = DeploymentIniLoader.Load(iniText);
            // In-process deckies live on local addresses: no NIC needs naming for them.
            var options = (runtime.Kind == "embedded" ? DeckyPlanOptions.LoopbackLab with { HostInterface = "lo" } : DeckyPlanOptions.LoopbackLab)
                with { CanHost = runtime.CanHost };
            deployment = new DeckyPlanner(time, new Random(PlanningSeed(iniText))).Plan(spec, options);
        }
        catch (IniValidationException ex)
        {
            return new DeploymentPreview(null, ex.Errors, null);
        }
        var limit = (await settings.GetFleetSettingsAsync(cancellationToken)).DeploymentLimit;
        var limitError = deployment.Deckies.Count > limit
            ? $"This INI describes {deployment.Deckies.Count} deckies; the deployment limit is {limit} (raise it in Config)."
            : null;
        return new DeploymentPreview(deployment, [], limitError);
    }

    public async Task<FleetOperation> DeployAsync(string actor, string? iniText, CancellationToken cancellationToken)
    {
        var preview = await PreviewAsync(iniText, cancellationToken);
        if (preview.Errors.Count > 0)
        {
            return new FleetOperation(FleetOperationStatus.Invalid, $"The INI has {preview.Errors.Count} error(s); nothing was deployed.", preview.Errors);
        }
        if (preview.LimitError is not null)
        {
            return new FleetOperation(FleetOperationStatus.LimitExceeded, preview.LimitError);
        }
        if (!await _deploying.WaitAsync(0, cancellationToken))
        {
            return new FleetOperation(FleetOperationStatus.Busy, "Another deployment is in progress.");
        }
        try
        {
            var deployment = preview.Deployment!;
            // A master with a reachable worker shards the fleet across the swarm instead.
            if (swarm is not null && await swarm.TryDeployAsync(actor, deployment, cancellationToken) is { } sharded)
            {
                return sharded;
            }
            RuntimeStatus status;
            try
            {
                status = await runtime.DeployAsync(deployment, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Deploy through the {Runtime} runtime failed", runtime.Kind);
                return new FleetOperation(FleetOperationStatus.Failed, $"The {runtime.Kind} runtime failed: {ex.Message}");
            }
            await store.SaveAsync(deployment, iniText, actor, cancellationToken);
            var running = status.Deckies.Count(d => d.State == DeckyRunState.Running);
            await audit.RecordAsync(actor, "deckies.deployed", null, $"{deployment.Deckies.Count} deckies, {running} fully running", cancellationToken);
            hub.Publish(new FleetChanged("deployed", null, status));
            return new FleetOperation(FleetOperationStatus.Ok, $"Deployed {deployment.Deckies.Count} decky(ies) locally ({running} fully running).", null, status);
        }
        finally
        {
            _deploying.Release();
        }
    }

    /// <summary>Every deployed decky: the local ones with their runtime state, then those on swarm workers.</summary>
    public async Task<IReadOnlyList<FleetDecky>> ListAsync(CancellationToken cancellationToken)
    {
        var global = (await settings.GetFleetSettingsAsync(cancellationToken)).GlobalMutationIntervalMinutes;
        var deckies = new List<FleetDecky>();
        if (await store.LoadAsync(cancellationToken) is { } deployment)
        {
            var status = await runtime.GetStatusAsync(cancellationToken);
            deckies.AddRange(deployment.Deckies.Select(d => new FleetDecky(d, status.Find(d.Name), d.MutateInterval ?? global)));
        }
        if (swarm is not null)
        {
            deckies.AddRange(await swarm.ListAsync(global, cancellationToken));
        }
        return deckies;
    }

    /// <summary>Rotates the decky's services now (its IP, hostname and distro stay), here or on its worker.</summary>
    public async Task<FleetOperation> MutateAsync(string actor, string name, CancellationToken cancellationToken)
    {
        var decky = await FindAsync(name, cancellationToken);
        if (decky is null)
        {
            return (swarm is null ? null : await swarm.TryMutateAsync(actor, name, d => PickServices(d, new Random()), cancellationToken))
                ?? new FleetOperation(FleetOperationStatus.NotFound, $"No decky named '{name}' is deployed.");
        }
        var services = PickServices(decky, new Random());
        var mutated = decky with { Services = services, LastMutated = time.GetUtcNow().UtcDateTime };
        var status = await runtime.ApplyAsync(mutated, cancellationToken);
        await store.UpdateDeckyAsync(mutated, cancellationToken);
        await audit.RecordAsync(actor, "decky.mutated", name, $"{string.Join(",", decky.Services)} -> {string.Join(",", services)}", cancellationToken);
        hub.Publish(new FleetChanged("mutated", name, await runtime.GetStatusAsync(cancellationToken)));
        return new FleetOperation(FleetOperationStatus.Ok, $"{name} now exposes {string.Join(", ", services)} ({status.State.ToString().ToLowerInvariant()}).");
    }

    /// <summary>Sets or clears (null: use the global interval) the decky's own mutation interval.</summary>
    public async Task<FleetOperation> SetMutateIntervalAsync(string actor, string name, string? interval, CancellationToken cancellationToken)
    {
        int? minutes = null;
        if (!string.IsNullOrWhiteSpace(interval))
        {
            if (!MutationInterval.TryParse(interval, out var parsed, out var error))
            {
                return new FleetOperation(FleetOperationStatus.Invalid, error);
            }
            minutes = parsed.TotalMinutes;
        }
        var decky = await FindAsync(name, cancellationToken);
        var text = minutes is { } m ? MutationInterval.Format(m) : "the global interval";
        if (decky is null)
        {
            return (swarm is null ? null : await swarm.TrySetMutateIntervalAsync(actor, name, minutes, text, cancellationToken))
                ?? new FleetOperation(FleetOperationStatus.NotFound, $"No decky named '{name}' is deployed.");
        }
        await store.UpdateDeckyAsync(decky with { MutateInterval = minutes }, cancellationToken);
        await audit.RecordAsync(actor, "decky.mutate_interval", name, text, cancellationToken);
        hub.Publish(new FleetChanged("interval", name, await runtime.GetStatusAsync(cancellationToken)));
        return new FleetOperation(FleetOperationStatus.Ok, $"{name} now mutates every {text}.");
    }

    /// <summary>
    /// Tears down one decky, or the whole deployment when <paramref name="name"/> is null. Deckies on swarm
    /// workers go asynchronously (<see cref="FleetOperationStatus.Accepted"/>; the shards show tearing_down).
    /// </summary>
    public async Task<FleetOperation> TeardownAsync(string actor, string? name, CancellationToken cancellationToken)
    {
        var onWorkers = name is null && swarm is not null ? await swarm.TryTeardownAsync(actor, null, cancellationToken) : null;
        if (name is not null && await FindAsync(name, cancellationToken) is null)
        {
            return (swarm is null ? null : await swarm.TryTeardownAsync(actor, name, cancellationToken))
                ?? new FleetOperation(FleetOperationStatus.NotFound, $"No decky named '{name}' is deployed.");
        }
        if (onWorkers is not null && await store.LoadAsync(cancellationToken) is null)
        {
            return onWorkers;
        }
        await runtime.TeardownAsync(name, cancellationToken);
        if (name is null)
        {
            await store.ClearAsync(cancellationToken);
        }
        else
        {
            await store.RemoveDeckyAsync(name, cancellationToken);
        }
        await audit.RecordAsync(actor, "deckies.teardown", name ?? "(all)", null, cancellationToken);
        hub.Publish(new FleetChanged("teardown", name, await runtime.GetStatusAsync(cancellationToken)));
        return onWorkers is not null
            ? onWorkers with { Message = "Every local decky was torn down. " + onWorkers.Message }
            : new FleetOperation(FleetOperationStatus.Ok, name is null ? "Every decky was torn down." : $"{name} was torn down.");
    }

    /// <summary>Brings the stored deployment back up after a restart of the master.</summary>
    public async Task RestoreAsync(CancellationToken cancellationToken)
    {
        var deployment = await store.LoadAsync(cancellationToken);
        if (deployment is null)
        {
            return;
        }
        var status = await runtime.DeployAsync(deployment, cancellationToken);
        logger.LogInformation("Restored {Count} decky(ies) through the {Runtime} runtime", deployment.Deckies.Count, runtime.Kind);
        hub.Publish(new FleetChanged("restored", null, status));
    }

    /// <summary>The services a decky may rotate through: its archetype's, else every service this runtime can host.</summary>
    public IReadOnlyList<string> MutationPool(DeckyConfig decky) => ServiceRotation.Pool(decky, runtime.CanHost);

    /// <summary>1–3 services from the pool, different from the current set when the pool allows.</summary>
    public IReadOnlyList<string> PickServices(DeckyConfig decky, Random random) => ServiceRotation.Pick(decky, MutationPool(decky), random);

    /// <summary>
    /// The same INI always plans the same hostnames and random picks, so the preview an operator
    /// approved is exactly what gets deployed.
    /// </summary>
    private static int PlanningSeed(string? iniText) =>
        BitConverter.ToInt32(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(iniText ?? "")), 0);

    private async Task<DeckyConfig?> FindAsync(string name, CancellationToken cancellationToken) =>
        (await store.LoadAsync(cancellationToken))?.Deckies.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
}
