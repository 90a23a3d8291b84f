using System.Numerics;
using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc7748;
using Org.BouncyCastle.Security;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// The algorithm lists of the server KEXINIT. They follow OpenSSH 9.2's defaults in OpenSSH's order,
/// minus what this server does not implement (sntrup761x25519, umac, hmac-sha1, zlib): advertising an
/// algorithm we cannot run would let a client pick it and fail the handshake.
/// </summary>
public static class SshAlgorithms
{
    public const string StrictKexServer = "kex-strict-s-v00@openssh.com";
    public const string StrictKexClient = "kex-strict-c-v00@openssh.com";
    public const string ExtInfoClient = "ext-info-c";

    public static readonly IReadOnlyList<string> KeyExchange =
    [
        "curve25519-sha256",
        "curve25519-sha256@libssh.org",
        "ecdh-sha2-nistp256",
        "ecdh-sha2-nistp384",
        "ecdh-sha2-nistp521",
        "diffie-hellman-group-exchange-sha256",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512",
        "diffie-hellman-group14-sha256",
    ];

    public static readonly IReadOnlyList<string> Ciphers =
    [
        "chacha20-poly1305@openssh.com",
        "aes128-ctr",
        "aes192-ctr",
        "aes256-ctr",
        "aes128-gcm@openssh.com",
        "aes256-gcm@openssh.com",
    ];

    public static readonly IReadOnlyList<string> Macs =
    [
        "hmac-sha2-256-etm@openssh.com",
        "hmac-sha2-512-etm@openssh.com",
        "hmac-sha2-256",
        "hmac-sha2-512",
    ];

    public static readonly IReadOnlyList<string> Compression = ["none"];

    public static bool IsAead(string cipher) => cipher is "chacha20-poly1305@openssh.com" or "aes128-gcm@openssh.com" or "aes256-gcm@openssh.com";

    public static (int KeySize, int IvSize) CipherSizes(string cipher) => cipher switch
    {
        "chacha20-poly1305@openssh.com" => (64, 0),
        "aes128-gcm@openssh.com" => (16, 12),
        "aes256-gcm@openssh.com" => (32, 12),
        "aes128-ctr" => (16, 16),
        "aes192-ctr" => (24, 16),
        "aes256-ctr" => (32, 16),
        _ => throw new SshProtocolException($"unsupported cipher {cipher}", SshProtocolException.KeyExchangeFailed),
    };

    public static int MacKeySize(string mac) => mac.StartsWith("hmac-sha2-512", StringComparison.Ordinal) ? 64 : 32;

    public static IPacketCipher CreateCipher(string cipher, string mac, byte[] key, byte[] iv, byte[] macKey) => cipher switch
    {
        "chacha20-poly1305@openssh.com" => new ChaChaPolyCipher(key),
        "aes128-gcm@openssh.com" or "aes256-gcm@openssh.com" => new AesGcmCipher(key, iv),
        _ => new CtrHmacCipher(
            key,
            iv,
            mac.StartsWith("hmac-sha2-512", StringComparison.Ordinal) ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256,
            macKey,
            mac.EndsWith("-etm@openssh.com", StringComparison.Ordinal)),
    };

    public static HashAlgorithmName KexHash(string kex) => kex switch
    {
        "ecdh-sha2-nistp384" => HashAlgorithmName.SHA384,
        "ecdh-sha2-nistp521" or "diffie-hellman-group16-sha512" or "diffie-hellman-group18-sha512" => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };

    public static byte[] Hash(HashAlgorithmName hash, ReadOnlySpan<byte> data) =>
        hash == HashAlgorithmName.SHA512 ? SHA512.HashData(data)
        : hash == HashAlgorithmName.SHA384 ? SHA384.HashData(data)
        : SHA256.HashData(data);
}

/// <summary>A finite-field Diffie-Hellman group: prime and generator.</summary>
public sealed record DhGroup(BigInteger Prime, BigInteger Generator)
{
    public int Bits => (int)Prime.GetBitLength();

    private static DhGroup From(Org.BouncyCastle.Crypto.Parameters.DHParameters parameters) =>
        new(new BigInteger(parameters.P.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true), new BigInteger(parameters.G.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true));

    /// <summary>RFC 3526 MODP groups 14, 16 and 18 (2048, 4096, 8192 bits).</summary>
    public static readonly DhGroup Group14 = From(Org.BouncyCastle.Crypto.Agreement.DHStandardGroups.rfc3526_2048);
    public static readonly DhGroup Group16 = From(Org.BouncyCastle.Crypto.Agreement.DHStandardGroups.rfc3526_4096);
    public static readonly DhGroup Group18 = From(Org.BouncyCastle.Crypto.Agreement.DHStandardGroups.rfc3526_8192);

    public static DhGroup? ForKex(string kex) => kex switch
    {
        "diffie-hellman-group14-sha256" => Group14,
        "diffie-hellman-group16-sha512" => Group16,
        "diffie-hellman-group18-sha512" => Group18,
        _ => null,
    };

    /// <summary>
    /// Group exchange (RFC 4419) without a moduli file, like sshd's fallback: the smallest built-in group
    /// of at least the preferred size that fits the client's bounds, else the largest that fits.
    /// </summary>
    public static DhGroup? ForExchange(uint min, uint preferred, uint max)
    {
        DhGroup[] groups = [Group14, Group16, Group18];
        var fitting = groups.Where(g => g.Bits >= min && g.Bits <= max).ToList();
        return fitting.FirstOrDefault(g => g.Bits >= preferred) ?? fitting.LastOrDefault();
    }
}

/// <summary>The server half of an ephemeral key agreement: our public value and the shared secret K.</summary>
public static class SshKeyAgreement
{
    private static readonly SecureRandom Random = new();

    /// <summary>Finite-field DH (RFC 4253 §8): checks 1 &lt; e &lt; p-1, returns f and K.</summary>
    public static (BigInteger ServerPublic, byte[] SharedSecret) AgreeFiniteField(DhGroup group, BigInteger clientPublic)
    {
        if (clientPublic <= BigInteger.One || clientPublic >= group.Prime - BigInteger.One)
        {
            throw new SshProtocolException("DH public value out of range", SshProtocolException.KeyExchangeFailed);
        }
        // A 512-bit exponent exceeds twice the strength of the largest group (RFC 3526 §8).
        var exponent = new BigInteger(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64), isUnsigned: true, isBigEndian: true) | BigInteger.One << 511;
        var serverPublic = BigInteger.ModPow(group.Generator, exponent, group.Prime);
        var shared = BigInteger.ModPow(clientPublic, exponent, group.Prime);
        if (shared <= BigInteger.One)
        {
            throw new SshProtocolException("degenerate DH shared secret", SshProtocolException.KeyExchangeFailed);
        }
        return (serverPublic, shared.ToByteArray(isUnsigned: true, isBigEndian: true));
    }

    /// <returns>The server's ephemeral public value and the shared secret as an unsigned big-endian number.</returns>
    public static (byte[] ServerPublic, byte[] SharedSecret) Agree(string kex, ReadOnlySpan<byte> clientPublic)
    {
        if (kex.StartsWith("curve25519", StringComparison.Ordinal))
        {
            // RFC 8731 §3: 32-byte keys; an all-zero result (low-order point) must abort.
            if (clientPublic.Length != X25519.PointSize)
            {
                throw new SshProtocolException("bad curve25519 public key", SshProtocolException.KeyExchangeFailed);
            }
            var priv = new byte[X25519.ScalarSize];
            X25519.GeneratePrivateKey(Random, priv);
            var pub = new byte[X25519.PointSize];
            X25519.GeneratePublicKey(priv, 0, pub, 0);
            var secret = new byte[X25519.PointSize];
            if (!X25519.CalculateAgreement(priv, 0, clientPublic.ToArray(), 0, secret, 0))
            {
                throw new SshProtocolException("curve25519 shared secret is zero", SshProtocolException.KeyExchangeFailed);
            }
            return (pub, secret);
        }

        var (curve, size) = kex switch
        {
            "ecdh-sha2-nistp256" => (ECCurve.NamedCurves.nistP256, 32),
            "ecdh-sha2-nistp384" => (ECCurve.NamedCurves.nistP384, 48),
            "ecdh-sha2-nistp521" => (ECCurve.NamedCurves.nistP521, 66),
            _ => throw new SshProtocolException($"unsupported kex {kex}", SshProtocolException.KeyExchangeFailed),
        };
        // RFC 5656 §4: Q_C is an uncompressed SEC1 point.
        if (clientPublic.Length != 1 + 2 * size || clientPublic[0] != 0x04)
        {
            throw new SshProtocolException("bad ECDH public key", SshProtocolException.KeyExchangeFailed);
        }
        try
        {
            using var peer = ECDiffieHellman.Create(new ECParameters
            {
                Curve = curve,
                Q = new ECPoint { X = clientPublic.Slice(1, size).ToArray(), Y = clientPublic.Slice(1 + size, size).ToArray() },
            });
            using var ours = ECDiffieHellman.Create(curve);
            var q = ours.ExportParameters(false).Q;
            return ([0x04, .. q.X!, .. q.Y!], ours.DeriveRawSecretAgreement(peer.PublicKey));
        }
        catch (CryptographicException)
        {
            throw new SshProtocolException("invalid ECDH public key", SshProtocolException.KeyExchangeFailed);
        }
    }

    /// <summary>RFC 4253 §7.2 key derivation: HASH(K || H || letter || session_id), extended until long enough.</summary>
    public static byte[] DeriveKey(HashAlgorithmName hash, byte[] sharedSecret, byte[] exchangeHash, char letter, byte[] sessionId, int length)
    {
        var k = new SshWriter().MpintUnsigned(sharedSecret).ToArray();
        var result = new List<byte>(SshAlgorithms.Hash(hash, [.. k, .. exchangeHash, (byte)letter, .. sessionId]));
        while (result.Count < length)
        {
            result.AddRange(SshAlgorithms.Hash(hash, [.. k, .. exchangeHash, .. result]));
        }
        return [.. result.Take(length)];
    }
}
