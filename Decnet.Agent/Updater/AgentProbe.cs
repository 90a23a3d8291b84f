using System.Net;
using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Swarm.Pki;
using Microsoft.Extensions.Logging;

namespace Decnet.Agent.Updater;

/// <summary>
/// Asks the local agent's <c>/health</c> over mutual TLS: the updater identity as client (the agent lets
/// its own host's updater read /health and nothing else), the agent pinned by its worker.crt fingerprint.
/// </summary>
public sealed class AgentProbe(UpdaterSettings settings, UpdaterIdentity identity, AgentSupervisor supervisor, ILogger<AgentProbe> logger)
{
    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        var workerFingerprint = WorkerFingerprint();
        if (workerFingerprint is null)
        {
            logger.LogWarning("No worker certificate in {Directory}: the agent cannot be probed", settings.AgentDirectory);
            return false;
        }
        using var handler = PinnedTls.CreateHandler(identity.Certificate, identity.Trust, workerFingerprint, TimeSpan.FromSeconds(3));
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        for (var attempt = 1; attempt <= settings.ProbeAttempts; attempt++)
        {
            try
            {
                using var response = await client.GetAsync(settings.AgentHealthUri, cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }
            if (!supervisor.MayBecomeHealthy)
            {
                logger.LogWarning("The agent exited before it answered /health");
                return false;
            }
            if (attempt < settings.ProbeAttempts)
            {
                await Task.Delay(settings.ProbeDelay, cancellationToken);
            }
        }
        return false;
    }

    private string? WorkerFingerprint()
    {
        try
        {
            using var worker = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(settings.AgentDirectory, "worker.crt")));
            return CertificateFingerprint.Of(worker);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }
}
