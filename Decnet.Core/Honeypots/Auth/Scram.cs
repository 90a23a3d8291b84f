using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Decnet.Core.Honeypots.Auth;

public enum ScramAlgorithm
{
    Sha1,
    Sha256,
}

/// <summary>The client's first SCRAM message (RFC 5802 §7): GS2 header, user name and nonce.</summary>
/// <param name="Bare">The message without its GS2 header: the first part of the AuthMessage.</param>
public sealed record ScramClientFirst(string Gs2Header, string Username, string Nonce, string Bare);

/// <summary>The client's final SCRAM message: channel binding, the combined nonce and the proof.</summary>
/// <param name="WithoutProof">Everything before <c>,p=</c>: the last part of the AuthMessage.</param>
public sealed record ScramClientFinal(string ChannelBinding, string Nonce, byte[] Proof, string WithoutProof);

/// <summary>
/// A complete SCRAM exchange as the server saw it. It holds everything an offline cracker needs: for a
/// candidate password, derive the salted password with the salt and iteration count, compute the client
/// proof over the AuthMessage and compare it with the captured one (<see cref="Verify"/> does exactly that).
/// </summary>
public sealed record ScramExchange(ScramAlgorithm Algorithm, string Username, byte[] Salt, int Iterations, string AuthMessage, byte[] Proof)
{
    public string Mechanism => Algorithm == ScramAlgorithm.Sha1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256";

    /// <summary>
    /// One line per exchange: <c>$scram-sha-256$iterations$salt$authmessage$proof</c> with the last three
    /// in base64. No cracker ships a mode for captured exchanges, so the layout keeps every input whole.
    /// </summary>
    public string HashLine =>
        string.Create(CultureInfo.InvariantCulture,
            $"${Mechanism.ToLowerInvariant()}${Iterations}${Convert.ToBase64String(Salt)}${Convert.ToBase64String(Encoding.UTF8.GetBytes(AuthMessage))}${Convert.ToBase64String(Proof)}");

    /// <summary>Reads a <see cref="HashLine"/> back (the user name is not part of it); null when malformed.</summary>
    public static ScramExchange? TryParse(string line, string username = "")
    {
        var parts = line.Split('$');
        if (parts.Length != 6 || parts[0].Length != 0 || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations is < 1 or > 1_000_000)
        {
            return null;
        }
        var algorithm = parts[1] switch
        {
            "scram-sha-1" => ScramAlgorithm.Sha1,
            "scram-sha-256" => ScramAlgorithm.Sha256,
            _ => (ScramAlgorithm?)null,
        };
        try
        {
            return algorithm is null ? null : new ScramExchange(algorithm.Value, username, Convert.FromBase64String(parts[3]), iterations,
                Encoding.UTF8.GetString(Convert.FromBase64String(parts[4])), Convert.FromBase64String(parts[5]));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>True when <paramref name="password"/> (already in the form the protocol feeds to PBKDF2) produced the captured proof.</summary>
    public bool Verify(string password)
    {
        var keys = Scram.Keys(Algorithm, password, Salt, Iterations);
        var signature = Scram.Hmac(Algorithm, keys.StoredKey, Encoding.UTF8.GetBytes(AuthMessage));
        var expected = new byte[signature.Length];
        for (var i = 0; i < expected.Length; i++)
        {
            expected[i] = (byte)(keys.ClientKey[i] ^ signature[i]);
        }
        return CryptographicOperations.FixedTimeEquals(expected, Proof);
    }

    /// <summary>The server's final message <c>v=...</c> for a password the decky accepts.</summary>
    public string ServerFinal(string password)
    {
        var keys = Scram.Keys(Algorithm, password, Salt, Iterations);
        return "v=" + Convert.ToBase64String(Scram.Hmac(Algorithm, keys.ServerKey, Encoding.UTF8.GetBytes(AuthMessage)));
    }
}

/// <summary>
/// Parsing and arithmetic of SCRAM (RFC 5802, RFC 7677) for services that capture logins. Parsers take
/// attacker text: they return null on anything malformed and never throw.
/// </summary>
public static class Scram
{
    /// <summary>Longest SCRAM message accepted; real ones are under 200 bytes.</summary>
    public const int MaxMessageLength = 2048;

    public static ScramClientFirst? ParseClientFirst(string message)
    {
        if (message.Length is 0 or > MaxMessageLength)
        {
            return null;
        }
        // gs2-header = gs2-cbind-flag "," [ authzid ] ","
        var first = message.IndexOf(',', StringComparison.Ordinal);
        if (first < 0)
        {
            return null;
        }
        var second = message.IndexOf(',', first + 1);
        if (second < 0)
        {
            return null;
        }
        var flag = message[..first];
        if (flag is not ("n" or "y") && !flag.StartsWith("p=", StringComparison.Ordinal))
        {
            return null;
        }
        var bare = message[(second + 1)..];
        string? user = null;
        string? nonce = null;
        foreach (var attribute in bare.Split(','))
        {
            if (attribute.StartsWith("n=", StringComparison.Ordinal))
            {
                user = DecodeName(attribute[2..]);
            }
            else if (attribute.StartsWith("r=", StringComparison.Ordinal))
            {
                nonce = attribute[2..];
            }
            else if (attribute.StartsWith("m=", StringComparison.Ordinal))
            {
                // Mandatory extensions are not supported by any server: the exchange fails.
                return null;
            }
        }
        return user is null || string.IsNullOrEmpty(nonce) || !IsPrintable(nonce) ? null : new ScramClientFirst(message[..(second + 1)], user, nonce, bare);
    }

    public static ScramClientFinal? ParseClientFinal(string message)
    {
        if (message.Length is 0 or > MaxMessageLength)
        {
            return null;
        }
        var proofAt = message.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0)
        {
            return null;
        }
        var withoutProof = message[..proofAt];
        string? binding = null;
        string? nonce = null;
        foreach (var attribute in withoutProof.Split(','))
        {
            if (attribute.StartsWith("c=", StringComparison.Ordinal))
            {
                binding = attribute[2..];
            }
            else if (attribute.StartsWith("r=", StringComparison.Ordinal))
            {
                nonce = attribute[2..];
            }
        }
        var proof = FromBase64(message[(proofAt + 3)..]);
        return binding is null || nonce is null || proof is null ? null : new ScramClientFinal(binding, nonce, proof, withoutProof);
    }

    public static string ServerFirst(string combinedNonce, byte[] salt, int iterations) =>
        string.Create(CultureInfo.InvariantCulture, $"r={combinedNonce},s={Convert.ToBase64String(salt)},i={iterations}");

    /// <summary>A server nonce: 18 random bytes in base64, as PostgreSQL and MongoDB make them.</summary>
    public static string NewNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));

    /// <summary>
    /// A salt that stays the same for a user on this decky, as a stored verifier's does: a real server
    /// answering a second attempt with a new salt would betray that the user does not exist.
    /// </summary>
    public static byte[] SaltFor(byte[] secret, string username, int length = 16) =>
        HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(username))[..length];

    // SCRAM-SHA-1 is what MongoDB clients still negotiate by default: the protocol fixes the hash.
#pragma warning disable CA5350
    internal static (byte[] ClientKey, byte[] StoredKey, byte[] ServerKey) Keys(ScramAlgorithm algorithm, string password, byte[] salt, int iterations)
    {
        var hash = algorithm == ScramAlgorithm.Sha1 ? HashAlgorithmName.SHA1 : HashAlgorithmName.SHA256;
        var length = algorithm == ScramAlgorithm.Sha1 ? 20 : 32;
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, hash, length);
        var clientKey = Hmac(algorithm, salted, "Client Key"u8.ToArray());
        var storedKey = algorithm == ScramAlgorithm.Sha1 ? SHA1.HashData(clientKey) : SHA256.HashData(clientKey);
        return (clientKey, storedKey, Hmac(algorithm, salted, "Server Key"u8.ToArray()));
    }

    internal static byte[] Hmac(ScramAlgorithm algorithm, byte[] key, byte[] data) =>
        algorithm == ScramAlgorithm.Sha1 ? HMACSHA1.HashData(key, data) : HMACSHA256.HashData(key, data);
#pragma warning restore CA5350

    private static string DecodeName(string value) =>
        value.Replace("=2C", ",", StringComparison.Ordinal).Replace("=3D", "=", StringComparison.Ordinal);

    private static bool IsPrintable(string text) => text.All(c => c is > ' ' and < '\x7f' and not ',');

    private static byte[]? FromBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) && written > 0 ? buffer[..written] : null;
    }
}
