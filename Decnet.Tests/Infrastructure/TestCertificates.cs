using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Decnet.Tests.Infrastructure;

/// <summary>A throw-away CA and a server certificate for one loopback address, written as PEM and PFX files.</summary>
public sealed class TestCertificates : IDisposable
{
    public const string PfxPassword = "pfx-test-password";

    public TestCertificates(IPAddress address)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=DECNET test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        Authority = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=decnet-dashboard", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(address);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(Authority, now.AddDays(-1), now.AddDays(10), RandomNumberGenerator.GetBytes(12));
        Server = issued.CopyWithPrivateKey(serverKey);

        File.WriteAllText(AuthorityPem, Authority.ExportCertificatePem());
        File.WriteAllText(CertificatePem, Server.ExportCertificatePem());
        File.WriteAllText(KeyPem, serverKey.ExportPkcs8PrivateKeyPem());
        File.WriteAllBytes(Pfx, Server.Export(X509ContentType.Pkcs12, PfxPassword));
    }

    public TempDirectory Folder { get; } = new("decnet-tls");
    public X509Certificate2 Authority { get; }
    public X509Certificate2 Server { get; }
    public string AuthorityPem => Path.Combine(Folder.Path, "ca.pem");
    public string CertificatePem => Path.Combine(Folder.Path, "dashboard.crt");
    public string KeyPem => Path.Combine(Folder.Path, "dashboard.key");
    public string Pfx => Path.Combine(Folder.Path, "dashboard.pfx");

    /// <summary>Accepts exactly the server certificate (pinned), nothing else.</summary>
    public bool IsServer(X509Certificate? presented) =>
        presented is not null && presented.GetCertHashString(HashAlgorithmName.SHA256) == Server.GetCertHashString(HashAlgorithmName.SHA256);

    public void Dispose()
    {
        Server.Dispose();
        Authority.Dispose();
        Folder.Dispose();
    }
}
