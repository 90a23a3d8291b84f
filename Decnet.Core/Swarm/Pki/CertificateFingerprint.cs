using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Decnet.Core.Swarm.Pki;

/// <summary>The pin used everywhere in the swarm: lower-case hex SHA-256 of the certificate's DER encoding.</summary>
public static class CertificateFingerprint
{
    public const int Length = 64;

    public static string Of(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData()));
    }

    /// <summary>Accepts "AB:CD:..." or "abcd..." and returns the canonical form, or null when it is not a SHA-256.</summary>
    public static string? Normalize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var hex = text.Replace(":", "", StringComparison.Ordinal).Trim().ToLowerInvariant();
        return hex.Length == Length && hex.All(char.IsAsciiHexDigitLower) ? hex : null;
    }

    /// <summary>Constant-time comparison of two fingerprints in any accepted spelling.</summary>
    public static bool AreEqual(string? left, string? right)
    {
        var a = Normalize(left);
        var b = Normalize(right);
        return a is not null && b is not null
            && CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(a), System.Text.Encoding.ASCII.GetBytes(b));
    }
}
