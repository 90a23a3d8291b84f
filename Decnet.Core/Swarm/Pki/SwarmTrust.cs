using System.Security.Cryptography.X509Certificates;

namespace Decnet.Core.Swarm.Pki;

/// <summary>
/// What every swarm process trusts: certificates issued by the swarm CA (and nothing from the system
/// store), in date, allowed for the role they play. Chain checks are the first gate only; callers pin
/// the exact peer by <see cref="CertificateFingerprint"/> as well.
/// </summary>
public sealed class SwarmTrust : IDisposable
{
    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private readonly X509Certificate2 _ca;
    private readonly TimeProvider _time;

    private SwarmTrust(X509Certificate2 ca, TimeProvider time)
    {
        _ca = ca;
        _time = time;
        CaFingerprint = CertificateFingerprint.Of(ca);
    }

    public string CaFingerprint { get; }

    public static SwarmTrust FromPem(string caCertificatePem, TimeProvider? time = null) =>
        new(X509Certificate2.CreateFromPem(caCertificatePem), time ?? TimeProvider.System);

    public static SwarmTrust FromFile(string caCertificatePath, TimeProvider? time = null) =>
        FromPem(File.ReadAllText(caCertificatePath), time);

    /// <summary>True when <paramref name="certificate"/> chains to the swarm CA, is in date and allows <paramref name="usage"/>.</summary>
    public bool HasIssued(X509Certificate? certificate, PeerUsage usage) => Check(certificate, usage) == PeerCheck.Trusted;

    /// <summary>Whether <paramref name="certificate"/> is one of ours for <paramref name="usage"/>, and if not, why.</summary>
    public PeerCheck Check(X509Certificate? certificate, PeerUsage usage)
    {
        if (certificate is null)
        {
            return PeerCheck.Missing;
        }
        using var peer = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(usage == PeerUsage.Server ? ServerAuthOid : ClientAuthOid));
        var built = chain.Build(peer);
        var rootIsOurs = chain.ChainElements.Count >= 2 && chain.ChainElements[^1].Certificate.RawData.AsSpan().SequenceEqual(_ca.RawData);
        if (built && rootIsOurs)
        {
            return PeerCheck.Trusted;
        }
        if (!rootIsOurs)
        {
            return peer.SubjectName.RawData.AsSpan().SequenceEqual(peer.IssuerName.RawData) ? PeerCheck.SelfSigned : PeerCheck.ForeignIssuer;
        }
        var status = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
        return (status & X509ChainStatusFlags.NotTimeValid) != 0 ? PeerCheck.Expired : PeerCheck.WrongUsage;
    }

    /// <summary>The CN of a peer certificate (used to label shipped logs, never the syslog HOSTNAME).</summary>
    public static string CommonName(X509Certificate certificate)
    {
        using var peer = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return peer.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
    }

    public void Dispose() => _ca.Dispose();
}

/// <summary>The outcome of <see cref="SwarmTrust.Check"/>.</summary>
public enum PeerCheck
{
    Trusted,

    /// <summary>The peer presented no certificate.</summary>
    Missing,

    /// <summary>Issued by itself, not by the swarm CA.</summary>
    SelfSigned,

    /// <summary>Issued by some other authority.</summary>
    ForeignIssuer,

    /// <summary>Ours, but outside its validity period.</summary>
    Expired,

    /// <summary>Ours, but not for this role (a server certificate used as a client, say).</summary>
    WrongUsage,
}

/// <summary>The role a peer certificate must be allowed to play.</summary>
public enum PeerUsage
{
    Client,
    Server,
}
