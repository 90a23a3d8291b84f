using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
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

/// <summary>The wizard's request (UI one-liner).</summary>
public sealed record BundleEnrollmentRequest(string MasterHost, string AgentName, bool WithUpdater, bool UseIpvlan, string? ServicesIni);

/// <summary>What the operator runs on the new worker, and until when it works.</summary>
public sealed record EnrollmentTicket(Guid HostId, string AgentName, string Token, DateTimeOffset ExpiresAt, Uri ScriptUrl, Uri ArchiveUrl)
{
    public string Command => $"curl -fsSL {ScriptUrl.AbsoluteUri} | sudo bash";
}

/// <summary>The request cannot be enrolled as given (the message says why, for the operator).</summary>
public sealed class EnrollmentRejectedException(string message) : ArgumentException(message);

/// <summary>
/// Enrolls workers: issues their identities from the swarm CA, records the host and, for the wizard,
/// builds the one-shot bundle (worker build, certificates, decnet.ini pinned to the master, systemd
/// units, bootstrap script) behind a capability token that lives <see cref="SwarmOptions.BundleLifetime"/>.
/// </summary>
public sealed class EnrollmentService(
    SwarmMasterCredentials credentials,
    SwarmOverview overview,
    SwarmStore store,
    EnrollmentBundleStore bundles,
    IOptions<SwarmOptions> options,
    TimeProvider time,
    ILogger<EnrollmentService> logger)
{
    public const int MaxServicesIniBytes = 64 * 1024;
    public const string BundleRoute = "/api/v1/swarm/enroll-bundle";

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
        if (await overview.NameExistsAsync(request.Name, cancellationToken))
        {
            throw new SwarmHostNameTakenException(request.Name);
        }
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
    /// heartbeats) and prepares its one-shot bundle. URLs use <paramref name="publicBase"/>'s scheme and
    /// port with the operator's master host.
    /// </summary>
    /// <exception cref="EnrollmentRejectedException">Invalid input.</exception>
    /// <exception cref="SwarmHostNameTakenException">The name is already enrolled.</exception>
    public async Task<EnrollmentTicket> CreateBundleAsync(BundleEnrollmentRequest request, Uri publicBase, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(publicBase);
        var masterHost = request.MasterHost?.Trim() ?? "";
        if (!IsHost(masterHost))
        {
            throw new EnrollmentRejectedException("Master host must be the host name or IP address workers reach the master at.");
        }
        RequireName(request.AgentName, "Agent name");
        if (request.ServicesIni is { } ini && System.Text.Encoding.UTF8.GetByteCount(ini) > MaxServicesIniBytes)
        {
            throw new EnrollmentRejectedException($"The services INI is limited to {MaxServicesIniBytes / 1024} KiB.");
        }
        if (await overview.NameExistsAsync(request.AgentName, cancellationToken))
        {
            throw new SwarmHostNameTakenException(request.AgentName);
        }
        var buildDirectory = AgentBuild.Locate(options.Value.AgentBuildDirectory);

        var authority = credentials.Authority;
        var worker = authority.IssueWorker(request.AgentName, [masterHost]);
        var updater = request.WithUpdater ? authority.IssueUpdater(request.AgentName) : null;
        var hostId = Guid.NewGuid();
        var settings = new AgentHostSettings
        {
            Name = request.AgentName,
            HostUuid = hostId,
            MasterHost = masterHost,
            MasterFingerprint = credentials.MasterFingerprint,
            SwarmControllerPort = ControllerPort(options.Value.ControllerUrl),
            Ipvlan = request.UseIpvlan,
            HeartbeatSeconds = options.Value.HeartbeatSeconds,
        };

        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));
        var expiresAt = time.GetUtcNow().Add(options.Value.BundleLifetime);
        var scriptUrl = BundleUrl(publicBase, masterHost, token, ".sh");
        var archiveUrl = BundleUrl(publicBase, masterHost, token, ".tgz");
        var script = WorkerBundle.RenderBootstrap(settings, archiveUrl, expiresAt, request.WithUpdater);
        try
        {
            // Tens of megabytes to compress: off the caller's thread (a Blazor circuit or a request).
            var content = new WorkerBundleContent(buildDirectory, settings, authority.CertificatePem, worker, updater, request.ServicesIni, script);
            await Task.Run(() =>
            {
                using var archive = bundles.Create(token, BundlePart.Archive);
                WorkerBundle.Write(archive, content, time.GetUtcNow());
            }, cancellationToken);
            await using (var scriptFile = bundles.Create(token, BundlePart.Script))
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
        }
        catch
        {
            bundles.Discard(token);
            throw;
        }
        bundles.Publish(token, expiresAt);
        logger.LogInformation("Prepared the enrollment bundle of {Name} ({HostId}), valid until {ExpiresAt:u}", request.AgentName, hostId, expiresAt);
        return new EnrollmentTicket(hostId, request.AgentName, token, expiresAt, scriptUrl, archiveUrl);
    }

    /// <summary>A DNS name or an IP address, nothing that could smuggle a path, quote or URL part.</summary>
    public static bool IsHost(string? text) =>
        !string.IsNullOrWhiteSpace(text) && text.Length <= 253
        && (IPAddress.TryParse(text, out _) || Uri.CheckHostName(text) == UriHostNameType.Dns);

    private static Uri BundleUrl(Uri publicBase, string masterHost, string token, string extension)
    {
        var host = IPAddress.TryParse(masterHost, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{masterHost}]" : masterHost;
        return new UriBuilder(publicBase.Scheme, host, publicBase.Port, $"{BundleRoute}/{token}{extension}").Uri;
    }

    private static int ControllerPort(string controllerUrl) =>
        Uri.TryCreate(controllerUrl, UriKind.Absolute, out var uri) && uri.Port > 0 ? uri.Port : AgentHostSettings.DefaultSwarmControllerPort;

    private static void RequireName(string? name, string field)
    {
        if (!SwarmCertificateAuthority.IsValidHostName(name))
        {
            throw new EnrollmentRejectedException($"{field} must be 1-64 letters, digits, '-' or '.', starting with a letter or digit.");
        }
    }
}
