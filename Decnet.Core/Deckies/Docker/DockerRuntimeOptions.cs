using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Deckies.Docker;

/// <summary>How the Docker runtime reaches its engine and which images it runs. Section "Docker".</summary>
public sealed class DockerRuntimeOptions
{
    public const string SectionName = "Decnet:Runtime:Docker";

    /// <summary>The engine's API endpoint: unix socket (default) or tcp.</summary>
    public string Endpoint { get; set; } = "unix:///var/run/docker.sock";

    /// <summary>Image of every base container; the offline build imports a debootstrap rootfs under this name.</summary>
    public string BaseImage { get; set; } = "decnet/base:bookworm";

    /// <summary>Repository of the service container image (the agent in honeypot host mode).</summary>
    public string HoneypotImage { get; set; } = "decnet/honeypot";

    /// <summary>Tag of <see cref="HoneypotImage"/>; <c>deploy/docker/build-images.sh</c> builds "dev" unless told otherwise.</summary>
    public string HoneypotTag { get; set; } = "dev";

    /// <summary>
    /// Per-service image overrides (service → full image reference), e.g. a service built separately or
    /// pinned to another version; services not listed run <see cref="ServiceImageReference"/>.
    /// </summary>
    public Dictionary<string, string> ServiceImages { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Create the host helper interface (decnet_macvlan0 / decnet_ipvlan0) so this host can reach its own
    /// deckies; macvlan and ipvlan children cannot talk to their parent otherwise. Needs root (CAP_NET_ADMIN).
    /// </summary>
    public bool HostShim { get; set; } = true;

    /// <summary>
    /// The helper interface's address, reserved in IPAM so no container gets it. Null picks the highest
    /// host address of the subnet that is neither the gateway nor a decky.
    /// </summary>
    public string? HostShimAddress { get; set; }

    /// <summary>
    /// A folder on the engine's host whose <c>deckies/&lt;decky&gt;/&lt;service&gt;</c> and
    /// <c>artifacts/&lt;decky&gt;/&lt;service&gt;</c> are bind-mounted into each service container as its
    /// state (SSH host keys, session recordings) and artifacts folders. The master sets it to its own data
    /// folder, so recordings replay and uploads download as with the embedded runtime, and a redeployed
    /// decky keeps its SSH host key. Each container sees only its own decky and service. Null: state stays
    /// inside the containers (a remote engine, whose host folders the master cannot read).
    /// </summary>
    public string? HostDataDirectory { get; set; }

    /// <summary>
    /// Count sessions across all service containers of all deckies of this host: the runtime serves one
    /// session admission on a Unix socket under <see cref="HostDataDirectory"/> and mounts its folder
    /// read-only into every service container. Needs <see cref="HostDataDirectory"/> (a local engine).
    /// </summary>
    public bool SharedAdmission { get; set; } = true;

    /// <summary>The shared admission socket on the engine's host; null when there is none.</summary>
    public string? AdmissionSocketPath => SharedAdmission && !string.IsNullOrWhiteSpace(HostDataDirectory)
        ? Path.Combine(Path.GetFullPath(HostDataDirectory), "admission", Honeypots.Admission.AdmissionProtocol.SocketFileName)
        : null;

    /// <summary>Memory cap of each custom service container (bytes); attackers reach it, so it is bounded. 0: no cap.</summary>
    public long CustomServiceMemoryBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Process cap of each custom service container (a fork bomb stays inside it). 0: no cap.</summary>
    public long CustomServicePidsLimit { get; set; } = 256;

    /// <summary>Where the honeypot image keeps state and artifacts (HoneypotHostSettings' defaults).</summary>
    public const string ContainerStateDirectory = "/var/lib/decnet/state";

    public const string ContainerArtifactsDirectory = "/var/lib/decnet/artifacts";

    /// <summary>Per engine call; image pulls are not made, so calls are short.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Attempts for an engine call that failed transiently (timeouts, 5xx, connection errors).</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>First retry delay; doubles on each attempt.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Seconds a stopping container gets before SIGKILL (the init process forwards SIGTERM at once).</summary>
    public int StopTimeoutSeconds { get; set; } = 5;

    /// <summary>
    /// Memory of each service container in MiB, swap included (an attacker-driven honeypot process is
    /// killed by the kernel at this size instead of pressing on the host). .NET sizes its heap to it.
    /// </summary>
    public int ServiceMemoryLimitMiB { get; set; } = 512;

    /// <summary>Processes and threads of each service container: a fork or thread flood stops here.</summary>
    public int ServicePidsLimit { get; set; } = 512;

    /// <summary>Memory of each base container in MiB (it only holds the network namespace and runs <c>sleep</c>).</summary>
    public int BaseMemoryLimitMiB { get; set; } = 32;

    /// <summary>Processes of each base container.</summary>
    public int BasePidsLimit { get; set; } = 32;

    /// <summary>
    /// The honeypot bounds (<c>Decnet:Honeypots</c>), copied in at start. Each service container runs its own
    /// host and sees only its own artifacts folder, so it is given its share of the decky's bounds.
    /// </summary>
    public HoneypotLimitsOptions HoneypotLimits { get; set; } = new();

    /// <summary>The full image reference of service containers.</summary>
    public string ServiceImageReference => $"{HoneypotImage}:{HoneypotTag}";

    /// <summary>The image that runs <paramref name="service"/>.</summary>
    public string ImageFor(string service) =>
        ServiceImages.TryGetValue(service, out var image) && !string.IsNullOrWhiteSpace(image) ? image : ServiceImageReference;
}
