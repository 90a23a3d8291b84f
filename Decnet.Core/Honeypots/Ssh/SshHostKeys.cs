using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>A server host key: its public blob (RFC 4253 §6.6) and signatures over the exchange hash.</summary>
public abstract class SshHostKey
{
    /// <summary>Key type inside the public blob (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa).</summary>
    public abstract string KeyType { get; }

    /// <summary>Signature algorithms this key can serve; which of them a decky advertises is its profile's choice.</summary>
    public abstract IReadOnlyList<string> Algorithms { get; }

    public abstract byte[] PublicBlob { get; }

    public abstract byte[] Sign(string algorithm, byte[] data);

    /// <summary>OpenSSH's <c>SHA256:</c> fingerprint (unpadded base64 of the blob's SHA-256).</summary>
    public string Fingerprint => SshFingerprint.Sha256(PublicBlob);
}

public static class SshFingerprint
{
    public static string Sha256(ReadOnlySpan<byte> blob) => "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');
}

public sealed class Ed25519HostKey(byte[] seed) : SshHostKey
{
    private readonly Ed25519PrivateKeyParameters _key = new(seed, 0);

    public override string KeyType => "ssh-ed25519";
    public override IReadOnlyList<string> Algorithms { get; } = ["ssh-ed25519"];
    public override byte[] PublicBlob => new SshWriter().String(KeyType).Binary(_key.GeneratePublicKey().GetEncoded()).ToArray();

    public byte[] Seed => _key.GetEncoded();

    public override byte[] Sign(string algorithm, byte[] data)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, _key);
        signer.BlockUpdate(data, 0, data.Length);
        return new SshWriter().String(KeyType).Binary(signer.GenerateSignature()).ToArray();
    }
}

public sealed class EcdsaP256HostKey(ECDsa key) : SshHostKey
{
    public override string KeyType => "ecdsa-sha2-nistp256";
    public override IReadOnlyList<string> Algorithms { get; } = ["ecdsa-sha2-nistp256"];

    public ECDsa Key => key;

    public override byte[] PublicBlob
    {
        get
        {
            var q = key.ExportParameters(false).Q;
            return new SshWriter().String(KeyType).String("nistp256").Binary([0x04, .. q.X!, .. q.Y!]).ToArray();
        }
    }

    public override byte[] Sign(string algorithm, byte[] data)
    {
        // RFC 5656 §3.1.2: the signature blob is mpint r, mpint s.
        var raw = key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var inner = new SshWriter().MpintUnsigned(raw.AsSpan(0, 32)).MpintUnsigned(raw.AsSpan(32)).ToArray();
        return new SshWriter().String(KeyType).Binary(inner).ToArray();
    }
}

public sealed class RsaHostKey(RSA key) : SshHostKey
{
    public override string KeyType => "ssh-rsa";

    /// <summary>RFC 8332 signature algorithms, and plain ssh-rsa (SHA-1) that OpenSSH offered until 8.8.</summary>
    public override IReadOnlyList<string> Algorithms { get; } = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];

    public RSA Key => key;

    public override byte[] PublicBlob
    {
        get
        {
            var p = key.ExportParameters(false);
            return new SshWriter().String(KeyType).MpintUnsigned(p.Exponent).MpintUnsigned(p.Modulus).ToArray();
        }
    }

    public override byte[] Sign(string algorithm, byte[] data)
    {
        var hash = algorithm switch
        {
            "rsa-sha2-512" => HashAlgorithmName.SHA512,
            "ssh-rsa" => HashAlgorithmName.SHA1,
            _ => HashAlgorithmName.SHA256,
        };
        return new SshWriter().String(algorithm).Binary(key.SignData(data, hash, RSASignaturePadding.Pkcs1)).ToArray();
    }
}

/// <summary>
/// The decky's host keys, generated on first use and kept as PKCS#8 PEM files (mode 0600) in the
/// service's state directory so that every reconnect sees the same fingerprints.
/// </summary>
public sealed class SshHostKeys
{
    // PKCS#8 header for a raw Ed25519 private key (RFC 8410 §7): SEQUENCE { 0, { 1.3.101.112 }, OCTET STRING { OCTET STRING(32) } }.
    private static readonly byte[] Ed25519Pkcs8Prefix = Convert.FromHexString("302e020100300506032b657004220420");

    private SshHostKeys(IReadOnlyList<SshHostKey> keys) => Keys = keys;

    /// <summary>In OpenSSH's default HostKey order: RSA, ECDSA, Ed25519.</summary>
    public IReadOnlyList<SshHostKey> Keys { get; }

    public IEnumerable<string> Algorithms => Keys.SelectMany(k => k.Algorithms);

    public SshHostKey ForAlgorithm(string algorithm) => Keys.First(k => k.Algorithms.Contains(algorithm));

    public static SshHostKeys LoadOrCreate(string directory)
    {
        Directory.CreateDirectory(directory);
        var rsa = RSA.Create();
        var rsaPem = LoadOrCreatePem(Path.Combine(directory, "ssh_host_rsa_key.pem"), () =>
        {
            using var fresh = RSA.Create(3072);
            return fresh.ExportPkcs8PrivateKeyPem();
        });
        rsa.ImportFromPem(rsaPem);

        var ecdsa = ECDsa.Create();
        var ecdsaPem = LoadOrCreatePem(Path.Combine(directory, "ssh_host_ecdsa_key.pem"), () =>
        {
            using var fresh = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            return fresh.ExportPkcs8PrivateKeyPem();
        });
        ecdsa.ImportFromPem(ecdsaPem);

        var edPem = LoadOrCreatePem(Path.Combine(directory, "ssh_host_ed25519_key.pem"), () =>
            PemEncoding.WriteString("PRIVATE KEY", [.. Ed25519Pkcs8Prefix, .. RandomNumberGenerator.GetBytes(32)]));
        var der = PemEncoding.Find(edPem) is var fields ? Convert.FromBase64String(edPem[fields.Base64Data]) : [];
        if (der.Length != Ed25519Pkcs8Prefix.Length + 32 || !der.AsSpan(0, Ed25519Pkcs8Prefix.Length).SequenceEqual(Ed25519Pkcs8Prefix))
        {
            throw new InvalidDataException("ssh_host_ed25519_key.pem is not a PKCS#8 Ed25519 key");
        }
        return new SshHostKeys([new RsaHostKey(rsa), new EcdsaP256HostKey(ecdsa), new Ed25519HostKey(der[Ed25519Pkcs8Prefix.Length..])]);
    }

    private static string LoadOrCreatePem(string path, Func<string> create)
    {
        if (File.Exists(path))
        {
            return File.ReadAllText(path);
        }
        var pem = create();
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using var stream = new FileStream(path, options);
            stream.Write(Encoding.ASCII.GetBytes(pem));
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another instance of the same decky won the race: use its key.
            return File.ReadAllText(path);
        }
        return pem;
    }
}
