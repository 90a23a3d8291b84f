using System.Globalization;
using System.Text.Json;
using Decnet.Core.Honeypots.Admission;
using Decnet.Core.Honeypots.Hosting;
using Docker.DotNet.Models;

namespace Decnet.Core.Deckies.Docker;

/// <summary>
/// The engine parameters of a decky's containers: one base container owning the IP and the OS sysctls,
/// one container per service joining its network namespace. Pure, so the specs are unit-testable.
/// </summary>
public static class DeckyContainerSpecs
{
    /// <summary>json-file rotation: enough history for the collector, bounded disk use per container.</summary>
    public static LogConfig Logging() => new()
    {
        Type = "json-file",
        Config = new Dictionary<string, string> { ["max-size"] = "10m", ["max-file"] = "5" },
    };

    private static long Mebibytes(int value) => value * 1024L * 1024;

    public static string BaseContainerName(DeckyConfig decky) => $"decnet-{decky.Name}";

    public static string ServiceContainerName(DeckyConfig decky, string service) => $"decnet-{decky.Name}-{service}";

    public static CreateContainerParameters Base(DeckyConfig decky, DockerRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(decky);
        ArgumentNullException.ThrowIfNull(options);
        return new CreateContainerParameters
        {
            Name = BaseContainerName(decky),
            Image = options.BaseImage,
            Hostname = decky.Hostname,
            Cmd = ["sleep", "infinity"],
            Labels = new Dictionary<string, string>
            {
                [DockerLabels.Managed] = "true",
                [DockerLabels.Decky] = decky.Name,
                [DockerLabels.Role] = DockerLabels.BaseRole,
                [DockerLabels.Config] = DeckyConfigJson.Serialize(decky),
            },
            HostConfig = new HostConfig
            {
                NetworkMode = DeckyNetworkPlan.NetworkName,
                // Only here: a service container joining the namespace with its own sysctls would
                // silently overwrite these values.
                Sysctls = new Dictionary<string, string>(OsProfiles.Get(decky.NmapOs).Sysctls),
                CapAdd = ["NET_ADMIN"],
                Memory = Mebibytes(options.BaseMemoryLimitMiB),
                MemorySwap = Mebibytes(options.BaseMemoryLimitMiB),
                PidsLimit = options.BasePidsLimit,
                // An init reaps and forwards SIGTERM; without it "sleep" ignores the stop signal and every
                // stop waits the full timeout.
                Init = true,
                RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.UnlessStopped },
                LogConfig = Logging(),
            },
            NetworkingConfig = new NetworkingConfig
            {
                EndpointsConfig = new Dictionary<string, EndpointSettings>
                {
                    [DeckyNetworkPlan.NetworkName] = new EndpointSettings
                    {
                        IPAMConfig = new EndpointIPAMConfig { IPv4Address = decky.Ip },
                    },
                },
            },
        };
    }

    /// <summary>
    /// The artifact bytes one decky of a deployment of <paramref name="deckies"/> may keep: its own quota, or
    /// an equal part of the host's total when the deckies' quotas together would pass it. The containers
    /// of one host count their bytes apart, so the total holds only if the parts add up to at most it.
    /// </summary>
    public static long ArtifactBudget(HoneypotLimitsOptions limits, int deckies)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return Math.Min(limits.Artifacts.MaxBytesPerDecky, limits.Artifacts.MaxBytesTotal / Math.Max(1, deckies));
    }

    /// <param name="artifactBudget">The decky's part of the host's artifact total (<see cref="ArtifactBudget"/>); the decky quota when null.</param>
    public static CreateContainerParameters Service(DeckyConfig decky, string service, string baseContainerId, DockerRuntimeOptions options, long? artifactBudget = null)
    {
        ArgumentNullException.ThrowIfNull(decky);
        ArgumentException.ThrowIfNullOrWhiteSpace(baseContainerId);
        ArgumentNullException.ThrowIfNull(options);
        return new CreateContainerParameters
        {
            Name = ServiceContainerName(decky, service),
            Image = options.ImageFor(service),
            Env = [.. ServiceEnvironment(decky, service, options.HoneypotLimits, artifactBudget), .. AdmissionEnvironment(options)],
            Labels = new Dictionary<string, string>
            {
                [DockerLabels.Managed] = "true",
                [DockerLabels.Decky] = decky.Name,
                [DockerLabels.Service] = service,
                [DockerLabels.Role] = DockerLabels.ServiceRole,
            },
            HostConfig = new HostConfig
            {
                // Shares the base container's namespace: every service of the decky answers on one IP
                // with the base container's OS sysctls.
                NetworkMode = $"container:{baseContainerId}",
                Binds = [.. StateBinds(decky, service, options) ?? [], .. AdmissionBinds(options)],
                // Swap equal to memory: no swap on top, the limit is the whole footprint.
                Memory = Mebibytes(options.ServiceMemoryLimitMiB),
                MemorySwap = Mebibytes(options.ServiceMemoryLimitMiB),
                PidsLimit = options.ServicePidsLimit,
                Init = true,
                RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.UnlessStopped },
                LogConfig = Logging(),
            },
        };
    }

    /// <summary>
    /// A bring-your-own service: the operator's image and command in the decky's network namespace, labelled
    /// like the built-in services so status, teardown and the log collector find it. Attackers reach it, so
    /// memory and processes are capped and it cannot gain privileges; it gets no host folders.
    /// </summary>
    public static CreateContainerParameters Custom(DeckyConfig decky, CustomService custom, string baseContainerId, DockerRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(decky);
        ArgumentNullException.ThrowIfNull(custom);
        ArgumentException.ThrowIfNullOrWhiteSpace(baseContainerId);
        ArgumentNullException.ThrowIfNull(options);
        var parameters = new CreateContainerParameters
        {
            Name = ServiceContainerName(decky, custom.Name),
            Image = custom.Image,
            Env =
            [
                $"NODE_NAME={decky.Name}",
                $"DECNET_DECKY={decky.Name}",
                $"DECNET_HOSTNAME={decky.Hostname}",
                $"DECNET_SERVICE={custom.Name}",
            ],
            Labels = new Dictionary<string, string>
            {
                [DockerLabels.Managed] = "true",
                [DockerLabels.Decky] = decky.Name,
                [DockerLabels.Service] = custom.Name,
                [DockerLabels.Role] = DockerLabels.ServiceRole,
                [DockerLabels.Custom] = "true",
                [DockerLabels.Ip] = decky.Ip,
            },
            HostConfig = new HostConfig
            {
                NetworkMode = $"container:{baseContainerId}",
                Init = true,
                RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.UnlessStopped },
                LogConfig = Logging(),
                Memory = options.CustomServiceMemoryBytes,
                PidsLimit = options.CustomServicePidsLimit > 0 ? options.CustomServicePidsLimit : null,
                SecurityOpt = ["no-new-privileges"],
            },
        };
        if (custom.Command.Count > 0)
        {
            // Without exec the image's own command runs, as the INI means.
            parameters.Cmd = [.. custom.Command];
        }
        return parameters;
    }

    /// <summary>
    /// SHA-256 (hex) of <paramref name="parameters"/> as the engine receives them, without the
    /// <see cref="DockerLabels.Spec"/> label itself; the specs are built in a fixed order, so equal inputs
    /// hash equal.
    /// </summary>
    public static string SpecHash(CreateContainerParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var labels = parameters.Labels;
        if (labels is null || !labels.ContainsKey(DockerLabels.Spec))
        {
            return Hash(parameters);
        }
        parameters.Labels = labels.Where(l => l.Key != DockerLabels.Spec).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
        try
        {
            return Hash(parameters);
        }
        finally
        {
            parameters.Labels = labels;
        }

        static string Hash(CreateContainerParameters value) =>
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(value)));
    }

    /// <summary>Adds the <see cref="DockerLabels.Spec"/> label to parameters about to be created.</summary>
    public static CreateContainerParameters Stamped(CreateContainerParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var hash = SpecHash(parameters);
        parameters.Labels ??= new Dictionary<string, string>();
        parameters.Labels[DockerLabels.Spec] = hash;
        return parameters;
    }

    /// <summary>
    /// The host folders of this decky's service, when <see cref="DockerRuntimeOptions.HostDataDirectory"/> is set:
    /// the same layout the embedded runtime writes, so the master's recordings and artifacts code finds them.
    /// </summary>
    public static IList<string>? StateBinds(DeckyConfig decky, string service, DockerRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(decky);
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.HostDataDirectory))
        {
            return null;
        }
        var (state, artifacts) = HostFolders(decky, service, options.HostDataDirectory);
        return
        [
            $"{state}:{DockerRuntimeOptions.ContainerStateDirectory}/{decky.Name}/{service}:rw",
            $"{artifacts}:{DockerRuntimeOptions.ContainerArtifactsDirectory}/{decky.Name}/{service}:rw",
        ];
    }

    /// <summary>
    /// The shared admission socket's folder, read-only: a container can connect to the socket but not
    /// replace it. Only the socket lives there.
    /// </summary>
    public static IList<string> AdmissionBinds(DockerRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.AdmissionSocketPath is { } socket
            ? [$"{Path.GetDirectoryName(socket)}:{AdmissionProtocol.ContainerDirectory}:ro"]
            : [];
    }

    /// <summary>Tells the honeypot host where the shared admission socket is, when there is one.</summary>
    public static IList<string> AdmissionEnvironment(DockerRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.AdmissionSocketPath is null ? [] : [$"DECNET_ADMISSION_SOCKET={AdmissionProtocol.ContainerSocketPath}"];
    }

    /// <summary>The service's state and artifacts folders on the engine's host.</summary>
    public static (string State, string Artifacts) HostFolders(DeckyConfig decky, string service, string hostDataDirectory)
    {
        // Decky and service names are validated DNS labels and catalog names: no separators, no "..".
        var root = Path.GetFullPath(hostDataDirectory);
        return (Path.Combine(root, "deckies", decky.Name, service), Path.Combine(root, "artifacts", decky.Name, service));
    }

    /// <summary>
    /// The <c>DECNET_*</c> variables <c>decnet-agent honeypot</c> reads. Its bounds are this service's share
    /// of the decky's: the artifact quota and the session cap divided among the decky's services (so all
    /// of them together stay within the decky's), the per-source limit whole (one client of one service,
    /// a password sprayer with 16 threads, must still fit).
    /// </summary>
    public static IList<string> ServiceEnvironment(DeckyConfig decky, string service, HoneypotLimitsOptions? limits = null, long? artifactBudget = null)
    {
        ArgumentNullException.ThrowIfNull(decky);
        limits ??= new HoneypotLimitsOptions();
        var shares = decky.Services.Count;
        var artifactBytes = Math.Max(0, Math.Min(limits.Artifacts.MaxBytesPerDecky, artifactBudget ?? long.MaxValue));
        var perSource = limits.Admission.MaxSessionsPerSourcePerDecky;
        var persona = new Dictionary<string, IReadOnlyDictionary<string, string>> { [service] = decky.PersonaFor(service) };
        return
        [
            $"DECNET_DECKY={decky.Name}",
            $"DECNET_HOSTNAME={decky.Hostname}",
            $"DECNET_DISTRO={decky.Distro}",
            $"DECNET_OS={decky.NmapOs}",
            $"DECNET_ARCHETYPE={decky.Archetype}",
            $"DECNET_SERVICES={service}",
            "DECNET_BIND_ADDRESS=0.0.0.0",
            $"DECNET_PERSONA_JSON={JsonSerializer.Serialize(persona)}",
            string.Create(CultureInfo.InvariantCulture, $"DECNET_ARTIFACTS_MAX_BYTES={artifactBytes / shares}"),
            string.Create(CultureInfo.InvariantCulture, $"DECNET_ARTIFACTS_FILES_PER_SESSION={limits.Artifacts.MaxFilesPerSession}"),
            string.Create(CultureInfo.InvariantCulture, $"DECNET_SESSIONS_PER_SOURCE={perSource}"),
            string.Create(CultureInfo.InvariantCulture, $"DECNET_SESSIONS_MAX={Math.Max(perSource, limits.Admission.MaxSessionsPerDecky / shares)}"),
        ];
    }
}
