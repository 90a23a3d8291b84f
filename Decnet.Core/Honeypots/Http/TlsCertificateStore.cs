using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Http;

/// <summary>
/// The decky's TLS identity: the operator's <c>tls_cert</c>/<c>tls_key</c> PEM pair (inline PEM or a
/// file path), else a self-signed RSA-2048 certificate for <c>tls_cn</c> or the decky hostname,
/// generated once and kept in the service's state folder so restarts present the same certificate
/// (a changing certificate is a honeypot tell).
/// </summary>
public static class TlsCertificateStore
{
    private const string CertificateFile = "tls-cert.pem";
    private const string KeyFile = "tls-key.pem";

    public static X509Certificate2 LoadOrCreate(ServiceContext context, string serviceFolder)
    {
        var certPem = ReadPem(context.PersonaValue("tls_cert"));
        var keyPem = ReadPem(context.PersonaValue("tls_key"));
        if (certPem is not null && keyPem is not null)
        {
            return X509Certificate2.CreateFromPem(certPem, keyPem);
        }

        var folder = Path.Combine(context.StateDirectory, serviceFolder);
        var certPath = Path.Combine(folder, CertificateFile);
        var keyPath = Path.Combine(folder, KeyFile);
        if (File.Exists(certPath) && File.Exists(keyPath))
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(certPath), File.ReadAllText(keyPath));
        }

        Directory.CreateDirectory(folder);
        var commonName = context.PersonaValue("tls_cn") ?? context.Hostname;
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + EscapeDn(commonName)), rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(commonName.Length > 0 && Uri.CheckHostName(commonName) == UriHostNameType.Dns ? commonName : "localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        // A certificate issued "just now" looks freshly deployed; backdate it like a long-running server.
        var notBefore = context.Time.GetUtcNow().AddDays(-RandomNumberGenerator.GetInt32(30, 300));
        using var certificate = request.CreateSelfSigned(notBefore, notBefore.AddDays(825));
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return X509Certificate2.CreateFromPem(File.ReadAllText(certPath), File.ReadAllText(keyPath));
    }

    private static string? ReadPem(string? value)
    {
        if (value is null)
        {
            return null;
        }
        if (value.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            return value;
        }
        return File.Exists(value) ? File.ReadAllText(value) : null;
    }

    private static string EscapeDn(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal)
            .Replace("+", "\\+", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal);
}
