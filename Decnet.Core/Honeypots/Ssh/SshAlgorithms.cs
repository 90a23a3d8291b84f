using System.Numerics;
using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc7748;
using Org.BouncyCastle.Security;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// Everything this server can run, and the per-algorithm parameters. What a decky advertises is a subset
/// chosen by its <see cref="SshAlgorithmProfile"/>; every name a profile lists must be in these sets
/// (a client may pick any advertised algorithm, and a failing handshake is a honeypot tell).
/// </summary>
public static class SshAlgorithms
{
    public const string StrictKexServer = "kex-strict-s-v00@openssh.com";
    public const string StrictKexClient = "kex-strict-c-v00@openssh.com";
    public const string ExtInfoClient = "ext-info-c";
    public const string ExtInfoServer = "ext-info-s";
    public const string Zlib = "zlib@openssh.com";

    public static readonly IReadOnlySet<string> KeyExchange = new HashSet<string>(StringComparer.Ordinal)
    {
        "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com",
        "curve25519-sha256", "curve25519-sha256@libssh.org",
        "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
        "diffie-hellman-group-exchange-sha256",
        "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
        "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1",
    };

    /// <summary>Kex markers (RFC 8308, OpenSSH strict kex): listed in KEXINIT, never negotiated.</summary>
    public static readonly IReadOnlySet<string> KexMarkers = new HashSet<string>(StringComparer.Ordinal) { StrictKexServer, ExtInfoServer };

    public static readonly IReadOnlySet<string> HostKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ecdsa-sha2-nistp256", "ssh-ed25519",
    };

    public static readonly IReadOnlySet<string> Ciphers = new HashSet<string>(StringComparer.Ordinal)
    {
        "chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
    };

    public static readonly IReadOnlySet<string> Macs = new HashSet<string>(StringComparer.Ordinal)
    {
        "umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
        "hmac-sha1-etm@openssh.com", "umac-64@openssh.com", "umac-128@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1",
    };

    public static readonly IReadOnlySet<string> Compression = new HashSet<string>(StringComparer.Ordinal) { "none", Zlib };

    public static bool IsAead(string cipher) => cipher is "chacha20-poly1305@openssh.com" or "aes128-gcm@openssh.com" or "aes256-gcm@openssh.com";

    public static bool IsSntrup(string kex) => kex is "sntrup761x25519-sha512" or "sntrup761x25519-sha512@openssh.com";

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

    /// <summary>HMAC keys are as long as the hash output; UMAC takes a 16-byte AES key.</summary>
    public static int MacKeySize(string mac) => mac switch
    {
        _ when mac.StartsWith("umac-", StringComparison.Ordinal) => 16,
        _ when mac.StartsWith("hmac-sha2-512", StringComparison.Ordinal) => 64,
        _ when mac.StartsWith("hmac-sha1", StringComparison.Ordinal) => 20,
        _ => 32,
    };

    public static ISshMac CreateMac(string mac, byte[] key) => mac switch
    {
        "umac-64@openssh.com" or "umac-64-etm@openssh.com" => new UmacSshMac(key, 8),
        "umac-128@openssh.com" or "umac-128-etm@openssh.com" => new UmacSshMac(key, 16),
        "hmac-sha2-512" or "hmac-sha2-512-etm@openssh.com" => new HmacSshMac(HashAlgorithmName.SHA512, key),
        "hmac-sha2-256" or "hmac-sha2-256-etm@openssh.com" => new HmacSshMac(HashAlgorithmName.SHA256, key),
        "hmac-sha1" or "hmac-sha1-etm@openssh.com" => new HmacSshMac(HashAlgorithmName.SHA1, key),
        _ => throw new SshProtocolException($"unsupported MAC {mac}", SshProtocolException.KeyExchangeFailed),
    };

    public static IPacketCipher CreateCipher(string cipher, string mac, byte[] key, byte[] iv, byte[] macKey) => cipher switch
    {
        "chacha20-poly1305@openssh.com" => new ChaChaPolyCipher(key),
        "aes128-gcm@openssh.com" or "aes256-gcm@openssh.com" => new AesGcmCipher(key, iv),
        _ => new CtrMacCipher(key, iv, CreateMac(mac, macKey), mac.EndsWith("-etm@openssh.com", StringComparison.Ordinal)),
    };

    public static HashAlgorithmName KexHash(string kex) => kex switch
    {
        "ecdh-sha2-nistp384" => HashAlgorithmName.SHA384,
        "ecdh-sha2-nistp521" or "diffie-hellman-group16-sha512" or "diffie-hellman-group18-sha512"
            or "sntrup761x25519-sha512" or "sntrup761x25519-sha512@openssh.com" => HashAlgorithmName.SHA512,
        "diffie-hellman-group14-sha1" => HashAlgorithmName.SHA1,
        _ => HashAlgorithmName.SHA256,
    };

    // SHA-1 only where a persona's build offers it (diffie-hellman-group14-sha1 on OpenSSH 7.4): the
    // protocol fixes the hash, and a decoy that refused it would not look like that build.
#pragma warning disable CA5350
    public static byte[] Hash(HashAlgorithmName hash, ReadOnlySpan<byte> data) =>
        hash == HashAlgorithmName.SHA512 ? SHA512.HashData(data)
        : hash == HashAlgorithmName.SHA384 ? SHA384.HashData(data)
        : hash == HashAlgorithmName.SHA1 ? SHA1.HashData(data)
        : SHA256.HashData(data);
#pragma warning restore CA5350
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
        "diffie-hellman-group14-sha256" or "diffie-hellman-group14-sha1" => Group14,
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

    /// <summary>
    /// sntrup761x25519-sha512 (OpenSSH kexsntrup761x25519.c): the client sends its Streamlined NTRU Prime
    /// 761 public key followed by its X25519 key; we encapsulate to the former and agree with the latter,
    /// reply with ciphertext || our X25519 key, and K = SHA-512(KEM key || X25519 secret), which the
    /// exchange hash and key derivation take as an SSH string, not an mpint.
    /// </summary>
    /// <returns>Our reply blob and the encoded K (string).</returns>
    public static (byte[] ServerPublic, byte[] EncodedSecret) AgreeSntrup761X25519(ReadOnlySpan<byte> clientPublic)
    {
        var ntruParameters = Org.BouncyCastle.Pqc.Crypto.NtruPrime.SNtruPrimeParameters.sntrup761;
        const int NtruPublicKeySize = 1158;
        if (clientPublic.Length != NtruPublicKeySize + X25519.PointSize)
        {
            throw new SshProtocolException("bad sntrup761x25519 public key", SshProtocolException.KeyExchangeFailed);
        }
        var ntruPublic = new Org.BouncyCastle.Pqc.Crypto.NtruPrime.SNtruPrimePublicKeyParameters(ntruParameters, clientPublic[..NtruPublicKeySize].ToArray());
        var encapsulated = new Org.BouncyCastle.Pqc.Crypto.NtruPrime.SNtruPrimeKemGenerator(Random).GenerateEncapsulated(ntruPublic);
        var (x25519Public, x25519Secret) = Agree("curve25519-sha256", clientPublic[NtruPublicKeySize..]);
        var kemKey = encapsulated.GetSecret();
        var k = SHA512.HashData([.. kemKey, .. x25519Secret]);
        return ([.. encapsulated.GetEncapsulation(), .. x25519Public], new SshWriter().Binary(k).ToArray());
    }

    /// <summary>RFC 4253 §7.2 key derivation: HASH(K || H || letter || session_id), extended until long enough.</summary>
    public static byte[] DeriveKey(HashAlgorithmName hash, byte[] sharedSecret, byte[] exchangeHash, char letter, byte[] sessionId, int length) =>
        DeriveKeyFromEncoded(hash, new SshWriter().MpintUnsigned(sharedSecret).ToArray(), exchangeHash, letter, sessionId, length);

    /// <summary>Key derivation with K already in its wire encoding (mpint for DH/ECDH, string for hybrid kex).</summary>
    public static byte[] DeriveKeyFromEncoded(HashAlgorithmName hash, byte[] k, byte[] exchangeHash, char letter, byte[] sessionId, int length)
    {
        var result = new List<byte>(SshAlgorithms.Hash(hash, [.. k, .. exchangeHash, (byte)letter, .. sessionId]));
        while (result.Count < length)
        {
            result.AddRange(SshAlgorithms.Hash(hash, [.. k, .. exchangeHash, .. result]));
        }
        return [.. result.Take(length)];
    }
}
