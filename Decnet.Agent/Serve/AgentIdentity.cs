using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Swarm.Pki;

namespace Decnet.Agent.Serve;

/// <summary>
/// The worker's enrolled identity (served to the master, presented as client certificate for heartbeats)
/// and the swarm CA it trusts. Loaded once at start from agent-dir.
/// </summary>
public sealed class AgentIdentity : IDisposable
{
    private AgentIdentity(X509Certificate2 certificate, string fingerprint, SwarmTrust trust)
    {
        Certificate = certificate;
        Fingerprint = fingerprint;
        Trust = trust;
    }

    public X509Certificate2 Certificate { get; }

    public string Fingerprint { get; }

    public SwarmTrust Trust { get; }

    /// <summary>Loads worker.crt/worker.key and ca.crt; null with the reason when they are missing or do not belong together.</summary>
    public static (AgentIdentity? Identity, string? Error) Load(string certificatePath, string keyPath, string caPath)
    {
        foreach (var path in new[] { certificatePath, keyPath, caPath })
        {
            if (!File.Exists(path))
            {
                return (null, $"{path} does not exist (agent-dir must hold ca.crt, worker.crt and worker.key)");
            }
        }
        SwarmTrust? trust = null;
        try
        {
            var issued = IssuedIdentity.Load(certificatePath, keyPath);
            trust = SwarmTrust.FromFile(caPath);
            var certificate = issued.ToCertificate();
            if (!trust.HasIssued(certificate, PeerUsage.Server) || !trust.HasIssued(certificate, PeerUsage.Client))
            {
                certificate.Dispose();
                trust.Dispose();
                return (null, $"{certificatePath} was not issued by the swarm CA in {caPath} for server and client use (or it expired)");
            }
            return (new AgentIdentity(certificate, issued.Fingerprint, trust), null);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            trust?.Dispose();
            return (null, $"the worker identity in {Path.GetDirectoryName(certificatePath)} cannot be loaded: {ex.Message}");
        }
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Trust.Dispose();
    }
}
