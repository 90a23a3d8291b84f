namespace Decnet.Core.Deckies.Runtime;

/// <summary>
/// Turns decky configurations into running decoy hosts and reports what actually runs. Two
/// implementations: the embedded runtime (services in-process, bound to the decky's IP) and the Docker
/// runtime (a base container per decky owning its IP and OS sysctls, one container per service).
/// </summary>
public interface IDeckyRuntime
{
    /// <summary>"embedded" or "docker".</summary>
    string Kind { get; }

    /// <summary>
    /// True when this runtime implements the built-in service <paramref name="service"/>. Random picks and
    /// mutations draw only from these. Custom services are not covered: they come with their own image.
    /// </summary>
    bool CanHost(string service);

    /// <summary>
    /// Makes the running set equal to <paramref name="deployment"/>: deckies not in it are removed,
    /// the others are (re)started. Partial success is normal: one failing service never fails the
    /// others; the outcome says per decky and per service what happened.
    /// </summary>
    Task<RuntimeStatus> DeployAsync(DecnetConfig deployment, CancellationToken cancellationToken);

    /// <summary>
    /// Takes over <paramref name="deployment"/> when an earlier process left exactly it running (deckies
    /// that outlive their process, as containers do), without restarting anything: open attacker sessions
    /// and in-memory service state survive a restart of the process. Null when there is nothing to adopt
    /// or what runs differs in any decky; the caller then deploys.
    /// </summary>
    Task<RuntimeStatus?> AdoptAsync(DecnetConfig deployment, CancellationToken cancellationToken) => Task.FromResult<RuntimeStatus?>(null);

    /// <summary>Restarts one decky with a changed configuration (a mutation: new service set).</summary>
    Task<DeckyStatus> ApplyAsync(DeckyConfig decky, CancellationToken cancellationToken);

    /// <summary>Tears down one decky, or everything (including networks and host interfaces) when null.</summary>
    Task TeardownAsync(string? deckyName, CancellationToken cancellationToken);

    /// <summary>What runs now, per decky and per service.</summary>
    Task<RuntimeStatus> GetStatusAsync(CancellationToken cancellationToken);
}

public enum ServiceRunState
{
    Running,
    Exited,
    Absent,
    Failed,
}

public enum DeckyRunState
{
    Running,
    Degraded,
    Failed,
}

/// <summary>One service of one decky. <see cref="Endpoints"/> are what an attacker connects to ("127.77.0.10:2222/tcp").</summary>
public sealed record ServiceStatus(string Service, ServiceRunState State, string? Error = null, IReadOnlyList<string>? Endpoints = null);

public sealed record DeckyStatus(string Name, DeckyRunState State, IReadOnlyList<ServiceStatus> Services, DeckyConfig? Config)
{
    /// <summary>Running when every service runs, failed when none does, degraded otherwise.</summary>
    public static DeckyRunState Derive(IReadOnlyList<ServiceStatus> services) =>
        services.Count > 0 && services.All(s => s.State == ServiceRunState.Running) ? DeckyRunState.Running
        : services.Any(s => s.State == ServiceRunState.Running) ? DeckyRunState.Degraded
        : DeckyRunState.Failed;
}

public sealed record RuntimeStatus(IReadOnlyList<DeckyStatus> Deckies)
{
    public static readonly RuntimeStatus Empty = new([]);

    public DeckyStatus? Find(string name) => Deckies.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
}
