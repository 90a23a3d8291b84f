using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Decnet.Core.Honeypots.Snmp;

/// <summary>
/// An authenticated SNMPv3 message as hashcat's SNMPv3 modes take it:
/// <c>$SNMPv3$type$msgid$message-with-zeroed-digest$engine-id$digest</c>, all hex. The digest length tells the
/// family: 12 bytes is HMAC-MD5-96 or HMAC-SHA1-96 (type 0, mode 25000), longer ones are the SHA-2 variants.
/// </summary>
public static class SnmpV3Hash
{
    public static (int Type, string Mode) ModeFor(int digestLength) => digestLength switch
    {
        16 => (3, "26700"),
        24 => (4, "26800"),
        32 => (5, "26900"),
        48 => (6, "27300"),
        _ => (0, "25000"),
    };

    public static string Line(int type, long messageId, byte[] zeroedMessage, byte[] engineId, byte[] digest) =>
        string.Create(CultureInfo.InvariantCulture,
            $"$SNMPv3${type}${messageId}${Convert.ToHexStringLower(zeroedMessage)}${Convert.ToHexStringLower(engineId)}${Convert.ToHexStringLower(digest)}");

    /// <summary>
    /// True when <paramref name="password"/> with <paramref name="algorithm"/> (MD5, SHA1, SHA256 ...) produced the
    /// captured digest: RFC 3414's password-to-key, localised to the engine ID, HMAC over the message. What a
    /// cracker does per guess; the tests use it to prove the capture is complete.
    /// </summary>
    public static bool Verify(string line, string password, HashAlgorithmName algorithm)
    {
        var parts = line.Split('$');
        if (parts.Length != 7 || parts[1] != "SNMPv3")
        {
            return false;
        }
        byte[] message, engineId, digest;
        try
        {
            message = Convert.FromHexString(parts[4]);
            engineId = Convert.FromHexString(parts[5]);
            digest = Convert.FromHexString(parts[6]);
        }
        catch (FormatException)
        {
            return false;
        }
        var key = LocalizedKey(password, engineId, algorithm);
        var mac = HmacFor(algorithm, key, message);
        return digest.Length <= mac.Length && CryptographicOperations.FixedTimeEquals(mac.AsSpan(0, digest.Length), digest);
    }

    // MD5 and SHA-1 are what SNMPv3 USM specifies; the decky only recomputes what clients derive.
#pragma warning disable CA5350, CA5351
    private static byte[] Hash(HashAlgorithmName algorithm, byte[] data) => algorithm.Name switch
    {
        "MD5" => MD5.HashData(data),
        "SHA1" => SHA1.HashData(data),
        "SHA384" => SHA384.HashData(data),
        "SHA512" => SHA512.HashData(data),
        _ => SHA256.HashData(data),
    };

    private static byte[] HmacFor(HashAlgorithmName algorithm, byte[] key, byte[] data) => algorithm.Name switch
    {
        "MD5" => HMACMD5.HashData(key, data),
        "SHA1" => HMACSHA1.HashData(key, data),
        "SHA384" => HMACSHA384.HashData(key, data),
        "SHA512" => HMACSHA512.HashData(key, data),
        _ => HMACSHA256.HashData(key, data),
    };
#pragma warning restore CA5350, CA5351

    /// <summary>RFC 3414 A.2: the password repeated to 1 MiB and hashed, then hashed again around the engine ID.</summary>
    public static byte[] LocalizedKey(string password, byte[] engineId, HashAlgorithmName algorithm)
    {
        var bytes = Encoding.UTF8.GetBytes(password);
        var expanded = new byte[1024 * 1024];
        for (var i = 0; i < expanded.Length; i++)
        {
            expanded[i] = bytes[i % bytes.Length];
        }
        var master = Hash(algorithm, expanded);
        return Hash(algorithm, [.. master, .. engineId, .. master]);
    }
}
