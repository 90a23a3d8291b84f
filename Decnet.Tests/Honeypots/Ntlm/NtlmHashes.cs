using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Digests;

namespace Decnet.Tests.Honeypots.Ntlm;

/// <summary>
/// Checks a captured hashcat line the way hashcat does: recomputes the response from the password the
/// real client typed. A line that verifies is a line an operator can crack offline.
/// </summary>
public static class NtlmHashes
{
    public static byte[] NtHash(string password)
    {
        var digest = new MD4Digest();
        var bytes = Encoding.Unicode.GetBytes(password);
        digest.BlockUpdate(bytes, 0, bytes.Length);
        var hash = new byte[16];
        digest.DoFinal(hash, 0);
        return hash;
    }

    /// <summary>True when a mode 5600 line (user::domain:challenge:ntproofstr:blob) matches the password.</summary>
    // NTLM is built on MD4 and HMAC-MD5; verifying its responses needs them.
#pragma warning disable CA5351
    public static bool VerifiesNetNtlmV2(string line, string password)
    {
        var parts = line.Split(':');
        Assert.Equal(6, parts.Length);
        var (user, domain, challenge, proof, blob) = (parts[0], parts[2], Convert.FromHexString(parts[3]), parts[4], Convert.FromHexString(parts[5]));
        var ntowfv2 = HMACMD5.HashData(NtHash(password), Encoding.Unicode.GetBytes(user.ToUpperInvariant() + domain));
        byte[] message = [.. challenge, .. blob];
        var expected = HMACMD5.HashData(ntowfv2, message);
        return Convert.ToHexStringLower(expected) == proof;
    }
#pragma warning restore CA5351
}
