using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Swarm.Pki;

namespace Decnet.Web.Swarm.Controller;

/// <summary>Who is on the other end of a controller connection.</summary>
public static class PeerCertificate
{
    /// <summary>
    /// The SHA-256 fingerprint of the peer's certificate: the one the connection exposes, else the one
    /// the TLS handshake recorded. Null when neither is available, and callers refuse the request then:
    /// no certificate never means "any host".
    /// </summary>
    public static string? Fingerprint(X509Certificate2? connectionCertificate, X509Certificate2? tlsFeatureCertificate)
    {
        var certificate = connectionCertificate ?? tlsFeatureCertificate;
        if (certificate is null)
        {
            return null;
        }
        try
        {
            return CertificateFingerprint.Of(certificate);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // A disposed or empty handle: treated like no certificate at all.
            return null;
        }
    }

    /// <summary>The fingerprint of the certificate presented on this request, or null.</summary>
    public static string? Fingerprint(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return Fingerprint(http.Connection.ClientCertificate, http.Features.Get<Microsoft.AspNetCore.Http.Features.ITlsConnectionFeature>()?.ClientCertificate);
    }
}
