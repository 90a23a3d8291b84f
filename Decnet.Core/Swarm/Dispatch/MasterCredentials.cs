using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Pki;

namespace Decnet.Core.Swarm.Dispatch;

/// <summary>
/// What the master presents to agents (its <c>decnet-master</c> identity) and what it trusts (the swarm
/// CA): a view of the one <see cref="SwarmMasterCredentials"/> of the master, so dispatch, the controller
/// and the log listener share one CA, loaded on first use.
/// </summary>
public sealed class MasterCredentials(SwarmMasterCredentials credentials)
{
    public string CaDirectory => credentials.Authority.Directory;

    /// <summary>The master's client certificate with its key (owned by <see cref="SwarmMasterCredentials"/>: do not dispose).</summary>
    public X509Certificate2 Identity => credentials.MasterCertificate;

    public SwarmTrust Trust => credentials.Trust;
}
