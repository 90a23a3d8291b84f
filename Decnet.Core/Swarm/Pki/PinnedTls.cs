using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Decnet.Core.Swarm.Pki;

/// <summary>
/// Mutual TLS between master and workers. A peer is accepted only when its certificate was issued by the
/// swarm CA for the role it plays AND its SHA-256 fingerprint is the one pinned for it. Host names are not
/// checked: workers are reached by whatever address the operator has, and the pin is stronger.
/// </summary>
public static class PinnedTls
{
    public const SslProtocols Protocols = SslProtocols.Tls13 | SslProtocols.Tls12;

    /// <summary>The server side of a pinned connection: CA-issued, serverAuth, and exactly the expected fingerprint.</summary>
    public static bool IsExpectedServer(X509Certificate? certificate, SwarmTrust trust, string expectedFingerprint) =>
        certificate is not null
        && trust.HasIssued(certificate, PeerUsage.Server)
        && CertificateFingerprint.AreEqual(CertificateFingerprint.Of(certificate), expectedFingerprint);

    /// <summary>
    /// An HTTP handler that presents <paramref name="identity"/> and talks only to the server pinned by
    /// <paramref name="expectedServerFingerprint"/>. Callers own the handler (one per peer, reused).
    /// </summary>
    public static SocketsHttpHandler CreateHandler(X509Certificate2 identity, SwarmTrust trust, string expectedServerFingerprint, TimeSpan connectTimeout)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(trust);
        return new SocketsHttpHandler
        {
            ConnectTimeout = connectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            UseProxy = false,
            SslOptions = CreateClientOptions(identity, trust, expectedServerFingerprint, targetHost: null),
        };
    }

    /// <summary>Client options for a raw SslStream (log shipping) or an HTTP handler.</summary>
    public static SslClientAuthenticationOptions CreateClientOptions(X509Certificate2 identity, SwarmTrust trust, string expectedServerFingerprint, string? targetHost) => new()
    {
        TargetHost = targetHost ?? SwarmCertificateAuthority.MasterCommonName,
        EnabledSslProtocols = Protocols,
        ClientCertificates = [identity],
        LocalCertificateSelectionCallback = (_, _, _, _, _) => identity,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => IsExpectedServer(certificate, trust, expectedServerFingerprint),
    };
}
