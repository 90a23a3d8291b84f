using System.Collections.Concurrent;
using Decnet.Core.Deckies.Runtime;
using Decnet.Core.Honeypots.Admission;
using Decnet.Core.Honeypots.Hosting;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Polly;
using ServiceStatus = Decnet.Core.Deckies.Runtime.ServiceStatus;

namespace Decnet.Core.Deckies.Docker;

/// <summary>
/// Runs deckies as containers on the local Docker engine: the <c>decnet_lan</c> macvlan/ipvlan network,
/// one base container per decky (IP, hostname, OS sysctls) and one honeypot container per service in the
/// base container's network namespace. Everything is labelled; discovery, status and teardown go by
/// label only.
/// </summary>
public sealed class DockerDeckyRuntime : IDeckyRuntime, IDisposable
{
    private readonly DockerRuntimeOptions _options;
    private readonly ILogger _logger;
    private readonly HostShim _shim;
    private readonly DockerClient _client;
    private readonly ResiliencePipeline _pipeline;
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Why a service has no container (image missing, create refused): status keeps saying "failed"
    // with the reason instead of a bare "absent". Keyed "decky/service".
    private readonly ConcurrentDictionary<string, string> _failures = new(StringComparer.Ordinal);
    private DecnetConfig? _deployment;

    // Each decky's part of the host's artifact total, fixed when its containers are made (it is in their
    // environment): the parts of the running deckies never add up to more than the total.
    private Dictionary<string, long> _artifactBudgets = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILoggerFactory _loggerFactory;
    private AdmissionServer? _admission;

    public DockerDeckyRuntime(DockerRuntimeOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options;
        _logger = loggerFactory.CreateLogger<DockerDeckyRuntime>();
        _loggerFactory = loggerFactory;
        _shim = new HostShim(loggerFactory.CreateLogger<HostShim>());
        _client = DockerEngine.CreateClient(options);
        _pipeline = DockerErrors.CreatePipeline(options);
    }

    private static readonly HashSet<string> _builtIn = new(BuiltInFactories.All().Select(f => f.Name), StringComparer.OrdinalIgnoreCase);

    public string Kind => "docker";

    /// <summary>The honeypot image hosts the built-in services; an image override is trusted to know its service.</summary>
    public bool CanHost(string service) => _options.ServiceImages.ContainsKey(service) || _builtIn.Contains(service);

    public async Task<RuntimeStatus> DeployAsync(DecnetConfig deployment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var plan = DeckyNetworkPlan.For(deployment, _options.HostShim, _options.HostShimAddress);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Replace semantics: every labelled container goes, including leftovers of a half-finished
            // earlier run that would otherwise hold the decky addresses ("address already in use").
            await RemoveContainersAsync(DockerLabels.ManagedFilter(), cancellationToken).ConfigureAwait(false);
            _failures.Clear();
            _deployment = deployment;
            _artifactBudgets = Budgets(deployment);
            EnsureAdmission();
            await EnsureNetworkAsync(plan, cancellationToken).ConfigureAwait(false);
            await EnsureShimAsync(plan, cancellationToken).ConfigureAwait(false);

            var statuses = new List<DeckyStatus>();
            foreach (var decky in deployment.Deckies)
            {
                statuses.Add(await StartDeckyAsync(decky, cancellationToken).ConfigureAwait(false));
            }
            return new RuntimeStatus(statuses);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Adopts the containers a previous process started when they are exactly <paramref name="deployment"/>:
    /// the same deckies, each base container carrying the same snapshot, every service running, every
    /// container made from the parameters this process would use (<see cref="DockerLabels.Spec"/>: image,
    /// limits, persona, binds), on a network of the same plan. Nothing is removed or restarted; a missing
    /// host shim is recreated.
    /// </summary>
    public async Task<RuntimeStatus?> AdoptAsync(DecnetConfig deployment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var plan = DeckyNetworkPlan.For(deployment, _options.HostShim, _options.HostShimAddress);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_deployment is not null || deployment.Deckies.Count == 0
                || await FindNetworkAsync(cancellationToken).ConfigureAwait(false) is not { } network || !plan.Matches(network))
            {
                return null;
            }
            var byDecky = (await ListAsync(DockerLabels.ManagedFilter(), cancellationToken).ConfigureAwait(false))
                .Where(c => c.Labels?.ContainsKey(DockerLabels.Decky) == true)
                .GroupBy(c => c.Labels[DockerLabels.Decky], StringComparer.OrdinalIgnoreCase)
                .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.OrdinalIgnoreCase);
            if (byDecky.Count != deployment.Deckies.Count)
            {
                return null;
            }
            var budgets = Budgets(deployment);
            var statuses = new List<DeckyStatus>();
            foreach (var decky in deployment.Deckies)
            {
                if (!byDecky.TryGetValue(decky.Name, out var containers)
                    || ConfigFromLabels(containers) is not { } running
                    || DeckyConfigJson.Serialize(running) != DeckyConfigJson.Serialize(decky))
                {
                    return null;
                }
                var status = DescribeDecky(decky.Name, decky, containers);
                if (status.State != DeckyRunState.Running || !AsWouldBeCreated(decky, containers, budgets[decky.Name]))
                {
                    return null;
                }
                statuses.Add(status);
            }
            if (_options.HostShim && plan.ShimAddress is not null && !await HostShim.ExistsAsync(plan.ShimName, cancellationToken).ConfigureAwait(false))
            {
                await EnsureShimAsync(plan, cancellationToken).ConfigureAwait(false);
            }
            _failures.Clear();
            _deployment = deployment;
            _artifactBudgets = budgets;
            // The adopted containers reconnect to it on their next session (they admit on their own meanwhile).
            EnsureAdmission();
            return new RuntimeStatus(statuses);
        }
        finally
        {
            _gate.Release();
        }
    }

    private Dictionary<string, long> Budgets(DecnetConfig deployment)
    {
        var budget = DeckyContainerSpecs.ArtifactBudget(_options.HoneypotLimits, deployment.Deckies.Count);
        var budgets = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        foreach (var decky in deployment.Deckies)
        {
            budgets[decky.Name] = budget;
        }
        return budgets;
    }

    /// <summary>The sessions admitted host-wide for the service containers, once a deployment started it.</summary>
    public SessionAdmission? SharedAdmission => _admission?.Admission;

    /// <summary>
    /// Starts the host-wide session admission the service containers ask (once per process). If it cannot
    /// listen, the deckies still run: each container then counts its own sessions, as it logs.
    /// </summary>
    private void EnsureAdmission()
    {
        if (_admission is not null || _options.AdmissionSocketPath is not { } socket)
        {
            return;
        }
        try
        {
            var server = new AdmissionServer(socket, new SessionAdmission(_options.HoneypotLimits.Admission), _loggerFactory.CreateLogger<AdmissionServer>());
            server.Start();
            _admission = server;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException or ArgumentException)
        {
            _logger.LogWarning(ex, "Session admission cannot listen on {Socket}; each service container counts its own sessions", socket);
        }
    }

    /// <summary>Every container of the decky is the one this process would create now, and none is extra.</summary>
    private bool AsWouldBeCreated(DeckyConfig decky, List<ContainerListResponse> containers, long artifactBudget)
    {
        var baseContainers = containers.Where(c => Label(c, DockerLabels.Role) == DockerLabels.BaseRole).ToList();
        var services = containers.Where(c => Label(c, DockerLabels.Role) == DockerLabels.ServiceRole).ToList();
        if (baseContainers.Count != 1 || services.Count != decky.Services.Count || services.Count + 1 != containers.Count)
        {
            return false;
        }
        var baseId = baseContainers[0].ID;
        if (Label(baseContainers[0], DockerLabels.Spec) != DeckyContainerSpecs.SpecHash(DeckyContainerSpecs.Base(decky, _options)))
        {
            return false;
        }
        return services.All(c => Label(c, DockerLabels.Service) is { } service
            && decky.Services.Contains(service, StringComparer.Ordinal)
            && Label(c, DockerLabels.Spec) == DeckyContainerSpecs.SpecHash(decky.CustomService(service) is { } custom
                ? DeckyContainerSpecs.Custom(decky, custom, baseId, _options)
                : DeckyContainerSpecs.Service(decky, service, baseId, _options, artifactBudget)));
    }

    public async Task<DeckyStatus> ApplyAsync(DeckyConfig decky, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decky);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var deployment = _deployment
                ?? throw new InvalidOperationException("No deployment is running on this runtime; deploy before applying a decky change.");
            var deckies = deployment.Deckies.Where(d => !string.Equals(d.Name, decky.Name, StringComparison.OrdinalIgnoreCase)).Append(decky).ToList();
            _deployment = deployment with { Deckies = deckies };
            if (!_artifactBudgets.ContainsKey(decky.Name))
            {
                // A decky added to a running deployment gets what the others left of the total.
                var left = _options.HoneypotLimits.Artifacts.MaxBytesTotal - _artifactBudgets.Values.Sum();
                _artifactBudgets[decky.Name] = Math.Max(0, Math.Min(_options.HoneypotLimits.Artifacts.MaxBytesPerDecky, left));
            }
            await RemoveContainersAsync(DockerLabels.DeckyFilter(decky.Name), cancellationToken).ConfigureAwait(false);
            ForgetFailures(decky.Name);
            return await StartDeckyAsync(decky, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task TeardownAsync(string? deckyName, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (deckyName is not null)
            {
                await RemoveContainersAsync(DockerLabels.DeckyFilter(deckyName), cancellationToken).ConfigureAwait(false);
                ForgetFailures(deckyName);
                _artifactBudgets.Remove(deckyName);
                if (_deployment is { } deployment)
                {
                    var remaining = deployment.Deckies.Where(d => !string.Equals(d.Name, deckyName, StringComparison.OrdinalIgnoreCase)).ToList();
                    _deployment = remaining.Count > 0 ? deployment with { Deckies = remaining } : null;
                }
                return;
            }

            await RemoveContainersAsync(DockerLabels.ManagedFilter(), cancellationToken).ConfigureAwait(false);
            await RemoveNetworkAsync(cancellationToken).ConfigureAwait(false);
            if (_options.HostShim)
            {
                await _shim.RemoveAsync(cancellationToken).ConfigureAwait(false);
            }
            _failures.Clear();
            _artifactBudgets.Clear();
            _deployment = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<RuntimeStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var containers = await ListAsync(DockerLabels.ManagedFilter(), cancellationToken).ConfigureAwait(false);
        var byDecky = containers
            .Where(c => c.Labels?.ContainsKey(DockerLabels.Decky) == true)
            .GroupBy(c => c.Labels[DockerLabels.Decky], StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.OrdinalIgnoreCase);

        var configs = new Dictionary<string, DeckyConfig?>(StringComparer.OrdinalIgnoreCase);
        foreach (var decky in _deployment?.Deckies ?? [])
        {
            configs[decky.Name] = decky;
        }
        foreach (var (name, group) in byDecky)
        {
            // A decky started by an earlier process is still reported, with the snapshot its base container carries.
            if (!configs.ContainsKey(name))
            {
                configs[name] = ConfigFromLabels(group);
            }
        }

        var statuses = configs
            .OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => DescribeDecky(c.Key, c.Value, byDecky.GetValueOrDefault(c.Key) ?? []))
            .ToList();
        return new RuntimeStatus(statuses);
    }

    /// <summary>The engine's version string; throws when it does not answer.</summary>
    public async Task<string> PingAsync(CancellationToken cancellationToken)
    {
        await _client.System.PingAsync(cancellationToken).ConfigureAwait(false);
        var version = await _client.System.GetVersionAsync(cancellationToken).ConfigureAwait(false);
        return $"{version.Version} (API {version.APIVersion})";
    }

    public void Dispose()
    {
        _admission?.Dispose();
        _client.Dispose();
        _gate.Dispose();
    }

    private async Task<DeckyStatus> StartDeckyAsync(DeckyConfig decky, CancellationToken cancellationToken)
    {
        string baseId;
        try
        {
            baseId = await CreateAndStartAsync(DeckyContainerSpecs.Base(decky, _options), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Without the base container there is no IP to share; every service fails with its reason.
            var reason = "base container: " + DockerErrors.Describe(ex);
            _logger.LogError(ex, "Decky {Decky}: {Reason}", decky.Name, reason);
            var failed = decky.Services.Select(s => Fail(decky, s, reason)).ToList();
            return new DeckyStatus(decky.Name, DeckyStatus.Derive(failed), failed, decky);
        }

        var services = new List<ServiceStatus>();
        foreach (var service in decky.Services)
        {
            services.Add(await StartServiceAsync(decky, service, baseId, cancellationToken).ConfigureAwait(false));
        }
        return new DeckyStatus(decky.Name, DeckyStatus.Derive(services), services, decky);
    }

    private async Task<ServiceStatus> StartServiceAsync(DeckyConfig decky, string service, string baseId, CancellationToken cancellationToken)
    {
        if (decky.CustomService(service) is { } custom)
        {
            return await StartCustomServiceAsync(decky, custom, baseId, cancellationToken).ConfigureAwait(false);
        }

        // The honeypot image hosts the built-in services only; an unknown one would start and exit at
        // once, so it fails here with the reason. An image override is trusted to know its service.
        if (!CanHost(service))
        {
            return Fail(decky, service, $"no honeypot implementation of '{service}' in {_options.ServiceImageReference}");
        }

        try
        {
            if (!string.IsNullOrWhiteSpace(_options.HostDataDirectory))
            {
                // Created here (owner-only) rather than by the engine, which would make them root 0755.
                var (state, artifacts) = DeckyContainerSpecs.HostFolders(decky, service, _options.HostDataDirectory);
                CreatePrivateDirectory(state);
                CreatePrivateDirectory(artifacts);
            }
            await CreateAndStartAsync(DeckyContainerSpecs.Service(decky, service, baseId, _options, _artifactBudgets.GetValueOrDefault(decky.Name, _options.HoneypotLimits.Artifacts.MaxBytesPerDecky)), cancellationToken).ConfigureAwait(false);
            return new ServiceStatus(service, ServiceRunState.Running, null, EndpointsOf(decky, service));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Partial success: this service is failed with its reason, the decky's other services go on.
            var reason = DockerErrors.Describe(ex);
            _logger.LogError("Decky {Decky} service {Service}: {Reason}", decky.Name, service, reason);
            return Fail(decky, service, reason);
        }
    }

    private async Task<ServiceStatus> StartCustomServiceAsync(DeckyConfig decky, CustomService custom, string baseId, CancellationToken cancellationToken)
    {
        try
        {
            await CreateAndStartAsync(DeckyContainerSpecs.Custom(decky, custom, baseId, _options), cancellationToken).ConfigureAwait(false);
            return new ServiceStatus(custom.Name, ServiceRunState.Running, null, EndpointsOf(decky, custom.Name));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Images are never pulled here (workers are often offline); the operator loads them on each host.
            var reason = DockerErrors.IsNotFound(ex) && DockerErrors.Describe(ex).Contains("image", StringComparison.OrdinalIgnoreCase)
                ? $"custom image '{custom.Image}' is not on this engine; load it first (docker load, or docker pull where a registry is reachable): {DockerErrors.Describe(ex)}"
                : $"custom image '{custom.Image}': {DockerErrors.Describe(ex)}";
            _logger.LogError("Decky {Decky} custom service {Service}: {Reason}", decky.Name, custom.Name, reason);
            return Fail(decky, custom.Name, reason);
        }
    }

    private ServiceStatus Fail(DeckyConfig decky, string service, string reason)
    {
        _failures[FailureKey(decky.Name, service)] = reason;
        return new ServiceStatus(service, ServiceRunState.Failed, reason, EndpointsOf(decky, service));
    }

    private async Task<string> CreateAndStartAsync(CreateContainerParameters parameters, CancellationToken cancellationToken)
    {
        var created = await _pipeline.ExecuteAsync(
            async token => await _client.Containers.CreateContainerAsync(DeckyContainerSpecs.Stamped(parameters), token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        try
        {
            await _pipeline.ExecuteAsync(
                async token => await _client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), token).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A container that was created but refused to start would shadow the next attempt's name.
            await RemoveContainerAsync(created.ID, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        return created.ID;
    }

    private async Task EnsureNetworkAsync(DeckyNetworkPlan plan, CancellationToken cancellationToken)
    {
        var existing = await FindNetworkAsync(cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            if (plan.Matches(existing))
            {
                return;
            }

            _logger.LogInformation("Recreating {Network}: driver or address pool changed", DeckyNetworkPlan.NetworkName);
            await RemoveNetworkAsync(cancellationToken).ConfigureAwait(false);
        }

        await _pipeline.ExecuteAsync(
            async token => await _client.Networks.CreateNetworkAsync(plan.ToCreateParameters(), token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
    }

    private async Task EnsureShimAsync(DeckyNetworkPlan plan, CancellationToken cancellationToken)
    {
        if (!_options.HostShim)
        {
            return;
        }

        try
        {
            await _shim.EnsureAsync(plan, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            // The deckies still serve attackers on the LAN; only this host loses its view of them.
            _logger.LogError(ex, "Host shim {Shim} could not be set up; this host cannot reach its deckies", plan.ShimName);
        }
    }

    private async Task<NetworkResponse?> FindNetworkAsync(CancellationToken cancellationToken)
    {
        var networks = await _pipeline.ExecuteAsync(
            async token => await _client.Networks.ListNetworksAsync(new NetworksListParameters
            {
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { [DeckyNetworkPlan.NetworkName] = true } },
            }, token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        // The name filter matches substrings; only the exact name is ours.
        return networks.FirstOrDefault(n => n.Name == DeckyNetworkPlan.NetworkName);
    }

    private async Task RemoveNetworkAsync(CancellationToken cancellationToken)
    {
        var network = await FindNetworkAsync(cancellationToken).ConfigureAwait(false);
        if (network is null)
        {
            return;
        }

        // Containers other than ours may still be attached (an operator's experiment); they are
        // disconnected rather than left blocking the removal.
        var inspected = await _client.Networks.InspectNetworkAsync(network.ID, cancellationToken).ConfigureAwait(false);
        foreach (var containerId in inspected.Containers?.Keys ?? [])
        {
            await _client.Networks.DisconnectNetworkAsync(network.ID, new NetworkDisconnectParameters { Container = containerId, Force = true }, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await _pipeline.ExecuteAsync(
                async token => await _client.Networks.DeleteNetworkAsync(network.ID, token).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
        }
        catch (DockerApiException ex) when (DockerErrors.IsNotFound(ex))
        {
        }
    }

    private async Task<IList<ContainerListResponse>> ListAsync(IDictionary<string, IDictionary<string, bool>> filter, CancellationToken cancellationToken) =>
        await _pipeline.ExecuteAsync(
            async token => await _client.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = filter }, token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);

    private async Task RemoveContainersAsync(IDictionary<string, IDictionary<string, bool>> filter, CancellationToken cancellationToken)
    {
        var containers = await ListAsync(filter, cancellationToken).ConfigureAwait(false);
        // Services first: they live in the base container's namespace.
        var ordered = containers.OrderBy(c => Label(c, DockerLabels.Role) == DockerLabels.BaseRole ? 1 : 0);
        foreach (var container in ordered)
        {
            await RemoveContainerAsync(container.ID, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RemoveContainerAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.ExecuteAsync(
                async token => await _client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, token).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
        }
        catch (DockerApiException ex) when (DockerErrors.IsNotFound(ex))
        {
        }
    }

    private DeckyStatus DescribeDecky(string name, DeckyConfig? config, List<ContainerListResponse> containers)
    {
        var baseContainer = containers.FirstOrDefault(c => Label(c, DockerLabels.Role) == DockerLabels.BaseRole);
        var serviceContainers = containers
            .Where(c => Label(c, DockerLabels.Role) == DockerLabels.ServiceRole && c.Labels.ContainsKey(DockerLabels.Service))
            .GroupBy(c => c.Labels[DockerLabels.Service], StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);

        var expected = config?.Services ?? [.. serviceContainers.Keys.Order(StringComparer.Ordinal)];
        var baseRunning = baseContainer?.State == "running";
        var services = new List<ServiceStatus>();
        foreach (var service in expected)
        {
            var endpoints = config is null ? null : EndpointsOf(config, service);
            if (!serviceContainers.TryGetValue(service, out var container))
            {
                services.Add(_failures.TryGetValue(FailureKey(name, service), out var reason)
                    ? new ServiceStatus(service, ServiceRunState.Failed, reason, endpoints)
                    : new ServiceStatus(service, ServiceRunState.Absent, null, endpoints));
                continue;
            }

            var state = ServiceState(container);
            if (state.State == ServiceRunState.Running && !baseRunning)
            {
                // The service process lives, but the namespace owner (IP, sysctls) is gone or stopped.
                state = (ServiceRunState.Failed, $"base container is {baseContainer?.State ?? "absent"}");
            }
            services.Add(new ServiceStatus(service, state.State, state.Error, endpoints));
        }

        return new DeckyStatus(name, DeckyStatus.Derive(services), services, config);
    }

    /// <summary>Maps an engine container state to the runtime's service state.</summary>
    public static (ServiceRunState State, string? Error) ServiceState(ContainerListResponse container)
    {
        ArgumentNullException.ThrowIfNull(container);
        return container.State switch
        {
            "running" => (ServiceRunState.Running, null),
            "created" => (ServiceRunState.Failed, "created but never started"),
            "restarting" => (ServiceRunState.Exited, $"restarting: {container.Status}"),
            _ => (ServiceRunState.Exited, container.Status),
        };
    }

    private static DeckyConfig? ConfigFromLabels(List<ContainerListResponse> containers)
    {
        var snapshot = containers
            .Select(c => Label(c, DockerLabels.Config))
            .FirstOrDefault(json => !string.IsNullOrEmpty(json));
        if (snapshot is null)
        {
            return null;
        }

        try
        {
            return DeckyConfigJson.DeserializeDecky(snapshot);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or ArgumentException)
        {
            return null;
        }
    }

    private static IReadOnlyList<string> EndpointsOf(DeckyConfig decky, string service) =>
        (decky.CustomService(service)?.Ports ?? ServiceCatalog.Find(service)?.Ports ?? []).Select(p => $"{decky.Ip}:{p}").ToList();

    private void ForgetFailures(string decky)
    {
        foreach (var key in _failures.Keys.Where(k => k.StartsWith(decky + "/", StringComparison.OrdinalIgnoreCase)))
        {
            _failures.TryRemove(key, out _);
        }
    }

    private static string? Label(ContainerListResponse container, string key) =>
        container.Labels is { } labels && labels.TryGetValue(key, out var value) ? value : null;

    private static string FailureKey(string decky, string service) => $"{decky}/{service}".ToLowerInvariant();

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
