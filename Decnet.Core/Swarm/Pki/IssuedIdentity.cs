using System.Security.Cryptography.X509Certificates;

namespace Decnet.Core.Swarm.Pki;

/// <summary>
/// A certificate and its private key as PEM, as written into a worker bundle or loaded by a process that
/// presents it. <see cref="Fingerprint"/> is what the other side pins.
/// </summary>
public sealed record IssuedIdentity(string CommonName, string CertificatePem, string PrivateKeyPem, string Fingerprint)
{
    /// <summary>The certificate with its private key, ready for Kestrel, SslStream or HttpClient.</summary>
    public X509Certificate2 ToCertificate()
    {
        using var ephemeral = X509Certificate2.CreateFromPem(CertificatePem, PrivateKeyPem);
        // A PKCS#12 round trip gives a key every TLS stack on Linux accepts as a client or server identity.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>Loads an identity written by <see cref="Save"/> (certificate.crt + certificate.key).</summary>
    public static IssuedIdentity Load(string certificatePath, string keyPath)
    {
        var certificatePem = File.ReadAllText(certificatePath);
        var keyPem = File.ReadAllText(keyPath);
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        return new IssuedIdentity(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false), certificatePem, keyPem, CertificateFingerprint.Of(certificate));
    }

    /// <summary>Writes the certificate (0644) and the key (0600, never readable by others) into a folder.</summary>
    public void Save(string directory, string baseName)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, baseName + ".crt"), CertificatePem);
        SecretFile.Write(Path.Combine(directory, baseName + ".key"), PrivateKeyPem);
    }
}
