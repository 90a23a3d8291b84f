using System.Net;
using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Swarm.Enrollment;
using Decnet.Core.Swarm.Pki;

namespace Decnet.Core.Swarm.Security;

/// <summary>
/// The TLS handshake gate of the master's mutual-TLS endpoints (the controller and the log listener):
/// a client certificate issued by this master's swarm CA for client use and not revoked. Anything else
/// fails the handshake, and each refusal becomes a <see cref="SwarmSecurityEvents"/> entry. Routes then
/// pin the exact peer (see <see cref="SwarmHeartbeats"/>).
/// </summary>
public sealed class SwarmGate(Func<SwarmTrust> trust, SwarmRevocations revocations, SwarmSecurityEvents events)
{
    /// <summary>The gate of this master: its swarm CA (read when first needed, after start-up created it).</summary>
    public SwarmGate(SwarmMasterCredentials credentials, SwarmRevocations revocations, SwarmSecurityEvents events)
        : this(() => credentials.Trust, revocations, events)
    {
    }

    public const string ControllerEndpoint = "controller";
    public const string LogListenerEndpoint = "log listener";

    /// <summary>The handshake callback's answer for <paramref name="certificate"/> from <paramref name="remote"/>.</summary>
    public bool Admit(X509Certificate? certificate, string endpoint, EndPoint? remote)
    {
        var check = trust().Check(certificate, PeerUsage.Client);
        if (check == PeerCheck.Trusted)
        {
            var fingerprint = CertificateFingerprint.Of(certificate!);
            if (!revocations.IsRevoked(fingerprint))
            {
                return true;
            }
            Refuse(endpoint, remote, SwarmRefusal.Revoked, certificate, "the certificate was revoked (decommissioned or expired enrollment)");
            return false;
        }
        var (refusal, detail) = check switch
        {
            PeerCheck.Missing => (SwarmRefusal.NoCertificate, "no client certificate"),
            PeerCheck.SelfSigned => (SwarmRefusal.SelfSigned, "a self-signed certificate"),
            PeerCheck.ForeignIssuer => (SwarmRefusal.ForeignCa, "issued by another authority than the swarm CA"),
            PeerCheck.Expired => (SwarmRefusal.NotAllowed, "a swarm certificate outside its validity period"),
            _ => (SwarmRefusal.NotAllowed, "a swarm certificate not issued for client use"),
        };
        Refuse(endpoint, remote, refusal, certificate, detail);
        return false;
    }

    /// <summary>A refusal after the handshake (a route pinning the exact peer).</summary>
    public void Refuse(string endpoint, EndPoint? remote, SwarmRefusal refusal, X509Certificate? certificate, string detail) =>
        events.Record(endpoint, Address(remote), refusal, certificate is null ? null : SafeSubject(certificate),
            certificate is null ? null : CertificateFingerprint.Of(certificate), detail);

    /// <summary>As <see cref="Refuse(string, EndPoint?, SwarmRefusal, X509Certificate?, string)"/> when only the fingerprint is at hand.</summary>
    public void Refuse(string endpoint, string? remote, SwarmRefusal refusal, string? fingerprint, string detail) =>
        events.Record(endpoint, remote ?? "?", refusal, null, fingerprint, detail);

    private static string Address(EndPoint? remote) => remote switch
    {
        IPEndPoint ip => (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address).ToString(),
        null => "?",
        _ => remote.ToString() ?? "?",
    };

    private static string? SafeSubject(X509Certificate certificate)
    {
        try
        {
            return SwarmTrust.CommonName(certificate);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }
}
