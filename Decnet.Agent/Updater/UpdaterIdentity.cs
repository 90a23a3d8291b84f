using System.Security.Cryptography.X509Certificates;
using Decnet.Agent.Serve;
using Decnet.Core.Swarm.Pki;

namespace Decnet.Agent.Updater;

/// <summary>The worker's <c>updater@&lt;name&gt;</c> identity (updater-dir: ca.crt, updater.crt, updater.key) and the swarm CA.</summary>
public sealed class UpdaterIdentity(AgentIdentity loaded) : IDisposable
{
    public X509Certificate2 Certificate => loaded.Certificate;

    public SwarmTrust Trust => loaded.Trust;

    public static (UpdaterIdentity? Identity, string? Error) Load(string directory, string workerName)
    {
        var (identity, error) = AgentIdentity.Load(Path.Combine(directory, "updater.crt"), Path.Combine(directory, "updater.key"), Path.Combine(directory, "ca.crt"));
        if (identity is null)
        {
            return (null, error?.Replace("worker.crt and worker.key", "updater.crt and updater.key", StringComparison.Ordinal));
        }
        var expected = SwarmCertificateAuthority.UpdaterPrefix + workerName;
        var commonName = SwarmTrust.CommonName(identity.Certificate);
        if (!string.Equals(commonName, expected, StringComparison.Ordinal))
        {
            identity.Dispose();
            return (null, $"{directory}/updater.crt is for '{commonName}', not '{expected}'");
        }
        return (new UpdaterIdentity(identity), null);
    }

    public void Dispose() => loaded.Dispose();
}
