using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace Decnet.Web.Exposure;

/// <summary>
/// HTTPS for the dashboard and API with the operator's certificate. When <see cref="CertificatePath"/>
/// is set the dashboard address is served over HTTPS only (same host and port).
/// </summary>
public sealed class DashboardTlsOptions
{
    public const string Section = "Decnet:Web:Tls";

    /// <summary>PEM certificate (with or without its key) or PKCS#12 file (.pfx/.p12); DECNET_TLS_CERT.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key, when not inside the certificate file; DECNET_TLS_KEY.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Password of the PKCS#12 file or of an encrypted PEM key; DECNET_TLS_PASSWORD.</summary>
    public string? Password { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);

    public static bool IsEnabled(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[$"{Section}:{nameof(CertificatePath)}"]);

    /// <summary>Loads the certificate with its private key; throws with the reason when it cannot.</summary>
    public X509Certificate2 Load()
    {
        var path = CertificatePath!;
        X509Certificate2 certificate;
        if (IsPkcs12(path))
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, Password, X509KeyStorageFlags.EphemeralKeySet);
        }
        else if (!string.IsNullOrEmpty(Password))
        {
            certificate = X509Certificate2.CreateFromEncryptedPemFile(path, Password, KeyPath);
        }
        else
        {
            certificate = X509Certificate2.CreateFromPemFile(path, KeyPath);
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new CryptographicException("the file holds no private key for the certificate (set KeyPath / DECNET_TLS_KEY)");
        }
        return certificate;
    }

    private static bool IsPkcs12(string path) =>
        path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Every problem with the dashboard certificate, at start-up, before anything listens.</summary>
public sealed class DashboardTlsOptionsValidator : IValidateOptions<DashboardTlsOptions>
{
    public ValidateOptionsResult Validate(string? name, DashboardTlsOptions options)
    {
        const string Prefix = DashboardTlsOptions.Section;
        var errors = new List<string>();
        if (!options.Enabled)
        {
            if (!string.IsNullOrWhiteSpace(options.KeyPath) || !string.IsNullOrEmpty(options.Password))
            {
                errors.Add($"{Prefix}:KeyPath or Password is set but {Prefix}:CertificatePath (DECNET_TLS_CERT) is not.");
            }
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
        if (!File.Exists(options.CertificatePath))
        {
            errors.Add($"{Prefix}:CertificatePath (DECNET_TLS_CERT): '{options.CertificatePath}' does not exist.");
        }
        if (!string.IsNullOrWhiteSpace(options.KeyPath) && !File.Exists(options.KeyPath))
        {
            errors.Add($"{Prefix}:KeyPath (DECNET_TLS_KEY): '{options.KeyPath}' does not exist.");
        }
        if (errors.Count == 0)
        {
            try
            {
                using var certificate = options.Load();
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                errors.Add($"{Prefix}: the certificate '{options.CertificatePath}' cannot be used: {ex.Message}");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
