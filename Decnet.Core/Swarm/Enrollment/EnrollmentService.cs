using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Decnet.Core.Notifications;
using Decnet.Core.Swarm.Pki;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Decnet.Core.Swarm.Enrollment;

/// <summary>CLI enrollment (<c>POST /swarm/enroll</c>): the operator copies the bundle by hand.</summary>
public sealed record WorkerEnrollmentRequest(
    string Name,
    string Address,
    int AgentPort = AgentHostSettings.DefaultAgentPort,
    IReadOnlyList<string>? SubjectAlternativeNames = null,
    string? Notes = null,
    bool IssueUpdater = false);

/// <summary>A host just enrolled with the certificates it must install.</summary>
public sealed record EnrolledWorker(SwarmHost Host, string CaCertificatePem, IssuedIdentity Worker, IssuedIdentity? Updater);

/// <summary>
/// The wizard's request (UI one-liner). <see cref="AgentAddress"/> is optional: the worker's own address,
/// written into its certificate's SANs next to its name (the master learns it from the first heartbeat anyway).
/// </summary>
public sealed record BundleEnrollmentRequest(string MasterHost, string AgentName, bool WithUpdater, bool UseIpvlan, string? ServicesIni, string? AgentAddress = null);

/// <summary>A port workers must reach on the master, and what for.</summary>
public sealed record WorkerReach(string Purpose, string Host, int Port);

/// <summary>What the operator runs on the new worker, until when it works, and what the worker must reach.</summary>
public sealed record EnrollmentTicket(
    Guid HostId, string AgentName, string Token, DateTimeOffset ExpiresAt, Uri ScriptUrl, Uri ArchiveUrl, string PublicKeyPin,
    IReadOnlyList<WorkerReach> Reach, IReadOnlyList<string> Warnings)
{
    /// <summary>
    /// HTTPS pinned to the master's key: <c>--insecure</c> only skips the system CA store (which does not
    /// know the swarm CA); <c>--pinnedpubkey</c> still refuses any other server key.
    /// </summary>
    public string Command => $"curl -fsS --proto =https --insecure --pinnedpubkey 'sha256//{PublicKeyPin}' '{ScriptUrl.AbsoluteUri}' | sudo bash";
}

/// <summary>The request cannot be enrolled as given (the message says why, for the operator).</summary>
public sealed class EnrollmentRejectedException(string message) : ArgumentException(message);

/// <summary>
/// Enrolls workers: issues their identities from the swarm CA (SANs: the worker's own name and address),
/// records the host and, for the wizard, builds the bundle (worker build, certificates, decnet.ini pinned
/// to the master, systemd units) and the bootstrap script that checks it, behind a capability token that
/// lives <see cref="SwarmOptions.BundleLifetime"/> (see <see cref="EnrollmentBundleStore"/>). A name
/// whose host never connected can be enrolled again: the old host is removed and its certificate revoked.
/// </summary>
public sealed class EnrollmentService(
    SwarmMasterCredentials credentials,
    SwarmOverview overview,
    SwarmStore store,
    EnrollmentBundleStore bundles,
    ISwarmEndpoints endpoints,
    IOptions<SwarmOptions> options,
    TimeProvider time,
    ILogger<EnrollmentService> logger)
{
    public const int MaxServicesIniBytes = 64 * 1024;
    public const string BundleRoute = "/api/v1/swarm/enroll-bundle";

    /// <summary>Where the enrollment endpoint serves the script and the archive.</summary>
    public const string DownloadRoute = "/enroll";

    /// <exception cref="EnrollmentRejectedException">Invalid name, address or SANs.</exception>
    /// <exception cref="SwarmHostNameTakenException">The name is already enrolled.</exception>
    public async Task<EnrolledWorker> EnrollAsync(WorkerEnrollmentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireName(request.Name, "name");
        if (string.IsNullOrWhiteSpace(request.Address) || request.Address.Length > 253 || !IsHost(request.Address.Trim()))
        {
            throw new EnrollmentRejectedException("address must be a host name or IP address (1-253 characters).");
        }
        if (request.AgentPort is < 1 or > 65535)
        {
            throw new EnrollmentRejectedException("agent_port must be 1-65535.");
        }
        var sans = request.SubjectAlternativeNames ?? [];
        if (sans.Count > 32 || sans.Any(s => !IsHost(s)))
        {
            throw new EnrollmentRejectedException("sans must be at most 32 host names or IP addresses.");
        }
        if (request.Notes is { Length: > 1024 })
        {
            throw new EnrollmentRejectedException("notes are limited to 1024 characters.");
        }
        await FreeNameAsync(request.Name, cancellationToken);
        var authority = credentials.Authority;
        var worker = authority.IssueWorker(request.Name, [request.Address.Trim(), .. sans]);
        var updater = request.IssueUpdater ? authority.IssueUpdater(request.Name) : null;
        var host = await store.CreateHostAsync(new SwarmHost
        {
            Name = request.Name,
            Address = request.Address.Trim(),
            AgentPort = request.AgentPort,
            ClientCertFingerprint = worker.Fingerprint,
            UpdaterCertFingerprint = updater?.Fingerprint,
            CertBundlePath = Path.Combine(authority.Directory, "workers", request.Name),
            Notes = request.Notes,
        }, cancellationToken);
        logger.LogInformation("Enrolled worker {Name} ({HostId}) at {Address} through the controller", host.Name, host.Id, host.Address);
        return new EnrolledWorker(host, authority.CertificatePem, worker, updater);
    }

    /// <summary>
    /// The wizard: enrolls <paramref name="request"/>.AgentName (status enrolled, no address until it
    /// heartbeats) and prepares its bundle on the enrollment endpoint, reached at the operator's master host.
    /// </summary>
    /// <exception cref="EnrollmentRejectedException">Invalid input, or the swarm is disabled.</exception>
    /// <exception cref="SwarmHostNameTakenException">The name is enrolled and its host has connected.</exception>
    public async Task<EnrollmentTicket> CreateBundleAsync(BundleEnrollmentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!options.Value.Enabled)
        {
            // No enrollment endpoint and no controller: the command could never work.
            throw new EnrollmentRejectedException($"The swarm is disabled ({SwarmOptions.Section}:Enabled = false): workers could neither download a bundle nor heartbeat.");
        }
        var masterHost = request.MasterHost?.Trim() ?? "";
        if (!IsHost(masterHost))
        {
            throw new EnrollmentRejectedException("Master host must be the host name or IP address workers reach the master at.");
        }
        RequireName(request.AgentName, "Agent name");
        var agentAddress = string.IsNullOrWhiteSpace(request.AgentAddress) ? null : request.AgentAddress.Trim();
        if (agentAddress is not null && !IsHost(agentAddress))
        {
            throw new EnrollmentRejectedException("Agent address must be the worker's host name or IP address (or empty).");
        }
        if (request.ServicesIni is { } ini && System.Text.Encoding.UTF8.GetByteCount(ini) > MaxServicesIniBytes)
        {
            throw new EnrollmentRejectedException($"The services INI is limited to {MaxServicesIniBytes / 1024} KiB.");
        }
        var buildDirectory = AgentBuild.Locate(options.Value.AgentBuildDirectory);
        await FreeNameAsync(request.AgentName, cancellationToken);

        var authority = credentials.Authority;
        var worker = authority.IssueWorker(request.AgentName, agentAddress is null ? [] : [agentAddress]);
        var updater = request.WithUpdater ? authority.IssueUpdater(request.AgentName) : null;
        var hostId = Guid.NewGuid();
        var settings = new AgentHostSettings
        {
            Name = request.AgentName,
            HostUuid = hostId,
            MasterHost = masterHost,
            MasterFingerprint = credentials.MasterFingerprint,
            SwarmControllerPort = endpoints.Controller.Port,
            SyslogPort = endpoints.Syslog.Port,
            Ipvlan = request.UseIpvlan,
            HeartbeatSeconds = options.Value.HeartbeatSeconds,
        };

        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));
        var tokenHash = EnrollmentBundleStore.Hash(token);
        var now = time.GetUtcNow();
        var expiresAt = now.Add(options.Value.BundleLifetime);
        var scriptUrl = DownloadUrl(masterHost, endpoints.Enrollment.Port, token, ".sh");
        var archiveUrl = DownloadUrl(masterHost, endpoints.Enrollment.Port, token, ".tgz");
        var pin = credentials.MasterPublicKeyPin;
        try
        {
            // Tens of megabytes to compress and hash: off the caller's thread (a Blazor circuit or a request).
            var content = new WorkerBundleContent(buildDirectory, settings, authority.CertificatePem, worker, updater, request.ServicesIni);
            var archiveSha256 = await Task.Run(() =>
            {
                using var archive = bundles.Create(tokenHash, BundlePart.Archive);
                WorkerBundle.Write(archive, content, now);
                archive.Position = 0;
                return Convert.ToHexStringLower(SHA256.HashData(archive));
            }, cancellationToken);
            var script = WorkerBundle.RenderBootstrap(settings, archiveUrl, archiveSha256, pin, expiresAt, request.WithUpdater);
            await using (var scriptFile = bundles.Create(tokenHash, BundlePart.Script))
            {
                await scriptFile.WriteAsync(System.Text.Encoding.UTF8.GetBytes(script), cancellationToken);
            }
            await store.CreateHostAsync(new SwarmHost
            {
                Id = hostId,
                Name = request.AgentName,
                Address = "",
                ClientCertFingerprint = worker.Fingerprint,
                UpdaterCertFingerprint = updater?.Fingerprint,
                CertBundlePath = Path.Combine(authority.Directory, "workers", request.AgentName),
                Notes = "enrolled via UI bundle",
                UseIpvlan = request.UseIpvlan,
            }, cancellationToken);
            await bundles.PublishAsync(new EnrollmentToken
            {
                TokenHash = tokenHash,
                HostId = hostId,
                HostName = request.AgentName,
                CreatedAt = now.UtcDateTime,
                ExpiresAt = expiresAt.UtcDateTime,
                ArchiveSha256 = archiveSha256,
            }, cancellationToken);
        }
        catch
        {
            bundles.Discard(tokenHash);
            throw;
        }
        var reach = new List<WorkerReach>
        {
            new("bundle download (HTTPS, during the install)", masterHost, endpoints.Enrollment.Port),
            new("heartbeats (mutual TLS)", masterHost, endpoints.Controller.Port),
            new("log shipping (RFC 5425, mutual TLS)", masterHost, endpoints.Syslog.Port),
        };
        var warnings = Warnings(masterHost);
        foreach (var warning in warnings)
        {
            logger.LogWarning("Enrollment of {Name}: {Warning}", request.AgentName, warning);
        }
        logger.LogInformation("Prepared the enrollment bundle of {Name} ({HostId}), valid until {ExpiresAt:u}; workers reach {Reach}",
            request.AgentName, hostId, expiresAt, string.Join(", ", reach.Select(r => $"{r.Host}:{r.Port}")));
        return new EnrollmentTicket(hostId, request.AgentName, token, expiresAt, scriptUrl, archiveUrl, pin, reach, warnings);
    }

    /// <summary>What would keep a worker on another machine from enrolling with this master.</summary>
    private List<string> Warnings(string masterHost)
    {
        var warnings = new List<string>();
        if (endpoints.DashboardLoopbackOnly)
        {
            warnings.Add($"The dashboard listens only on loopback: this page's address says nothing about how workers reach the master. Check that {masterHost} is an address other machines reach.");
        }
        if (ConfiguredSwarmEndpoints.IsLoopbackHost(masterHost))
        {
            warnings.Add($"{masterHost} is a loopback address: only a worker on this very machine can reach it. Use the master's LAN address or name.");
        }
        foreach (var (name, endpoint) in new[] { ("enrollment", endpoints.Enrollment), ("controller", endpoints.Controller), ("log listener", endpoints.Syslog) })
        {
            if (endpoint.LoopbackOnly)
            {
                warnings.Add($"The {name} port {endpoint.Port} listens only on loopback: workers on other machines cannot reach it (Decnet:Swarm settings).");
            }
        }
        return warnings;
    }

    /// <summary>
    /// A name is free when no host has it, or when its host never connected (re-enrolling after a failed
    /// install): that host is removed, its certificate revoked and its pending bundle deleted.
    /// </summary>
    private async Task FreeNameAsync(string name, CancellationToken cancellationToken)
    {
        var existing = (await overview.HostRecordsAsync(null, withShards: false, cancellationToken)).FirstOrDefault(h => h.Name == name);
        if (existing is null)
        {
            return;
        }
        if (existing.LastHeartbeat is not null || existing.Status != SwarmHostStatus.Enrolled)
        {
            throw new SwarmHostNameTakenException(name);
        }
        await bundles.CompleteAsync(existing.Id, cancellationToken);
        await store.RemoveHostAsync(existing.Id, "re-enrolled before it ever connected", cancellationToken, SwarmChangeReasons.Swept);
        logger.LogInformation("{Name} never connected: its previous enrollment was removed and its certificate revoked", name);
    }

    /// <summary>A DNS name or an IP address, nothing that could smuggle a path, quote or URL part.</summary>
    public static bool IsHost(string? text) =>
        !string.IsNullOrWhiteSpace(text) && text.Length <= 253
        && (IPAddress.TryParse(text, out _) || Uri.CheckHostName(text) == UriHostNameType.Dns);

    private static Uri DownloadUrl(string masterHost, int port, string token, string extension)
    {
        var host = IPAddress.TryParse(masterHost, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{masterHost}]" : masterHost;
        return new UriBuilder(Uri.UriSchemeHttps, host, port, $"{DownloadRoute}/{token}{extension}").Uri;
    }

    private static void RequireName(string? name, string field)
    {
        if (!SwarmCertificateAuthority.IsValidHostName(name))
        {
            throw new EnrollmentRejectedException($"{field} must be 1-64 letters, digits, '-' or '.', starting with a letter or digit.");
        }
    }
}
