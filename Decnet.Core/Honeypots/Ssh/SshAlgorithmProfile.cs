using System.Globalization;
using System.Text.RegularExpressions;

namespace Decnet.Core.Honeypots.Ssh;

/// <summary>
/// The KEXINIT lists of one OpenSSH build, in that build's order, so that the server half of HASSH
/// (md5 of "kex;ciphers;macs;compression" as the server sends them) is the real build's. Picked from the
/// persona's identification string (and, for Red Hat's crypto-policies builds, the decky's distro).
/// </summary>
public sealed partial record SshAlgorithmProfile(
    string Name,
    IReadOnlyList<string> KeyExchange,
    IReadOnlyList<string> KexMarkers,
    IReadOnlyList<string> HostKeys,
    IReadOnlyList<string> Ciphers,
    IReadOnlyList<string> Macs,
    IReadOnlyList<string> Compression)
{
    // Upstream defaults (myproposal.h). Ciphers, MACs and compression did not change from 7.4 to 9.8.
    private static readonly string[] UpstreamCiphers =
        ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com"];

    private static readonly string[] UpstreamMacs =
    [
        "umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
        "hmac-sha1-etm@openssh.com", "umac-64@openssh.com", "umac-128@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1",
    ];

    /// <summary>sshd's default Compression (delayed): zlib only after authentication.</summary>
    private static readonly string[] DelayedCompression = ["none", SshAlgorithms.Zlib];

    private static readonly string[] EcdhKex = ["ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521"];
    private static readonly string[] Sha2DhKex = ["diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256"];
    private static readonly string[] Curve25519 = ["curve25519-sha256", "curve25519-sha256@libssh.org"];
    private const string Sntrup = "sntrup761x25519-sha512@openssh.com";

    // Host key signature algorithms for sshd's default HostKey set (RSA, ECDSA P-256, Ed25519) in key order.
    private static readonly string[] HostKeysWithSshRsaFirst = ["ssh-rsa", "rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519"];
    private static readonly string[] HostKeysWithSshRsa = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ecdsa-sha2-nistp256", "ssh-ed25519"];
    private static readonly string[] HostKeysSha2 = ["rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519"];

    /// <summary>OpenSSH 7.4 (CentOS 7): group14-sha1 still last.</summary>
    public static readonly SshAlgorithmProfile OpenSsh74 = new("OpenSSH 7.4",
        [.. Curve25519, .. EcdhKex, .. Sha2DhKex, "diffie-hellman-group14-sha1"], [], HostKeysWithSshRsaFirst, UpstreamCiphers, UpstreamMacs, DelayedCompression);

    /// <summary>OpenSSH 8.2 (Ubuntu 20.04): group14-sha1 dropped; Ubuntu's Terrapin update adds strict kex.</summary>
    public static readonly SshAlgorithmProfile OpenSsh82Ubuntu = new("OpenSSH 8.2 (Ubuntu)",
        [.. Curve25519, .. EcdhKex, .. Sha2DhKex], [SshAlgorithms.StrictKexServer], HostKeysWithSshRsa, UpstreamCiphers, UpstreamMacs, DelayedCompression);

    /// <summary>OpenSSH 8.9 (Ubuntu 22.04): sntrup761x25519 after the ECDH methods (8.5 to 8.9).</summary>
    public static readonly SshAlgorithmProfile OpenSsh89Ubuntu = new("OpenSSH 8.9 (Ubuntu)",
        [.. Curve25519, .. EcdhKex, Sntrup, .. Sha2DhKex], [SshAlgorithms.StrictKexServer], HostKeysSha2, UpstreamCiphers, UpstreamMacs, DelayedCompression);

    /// <summary>
    /// Debian 12's OpenSSH 9.2p1 as its current package sends it (captured from /usr/sbin/sshd
    /// 1:9.2p1-2+deb12u10): the IETF name sntrup761x25519-sha512 backported ahead of the @openssh.com one,
    /// and the Terrapin fix's strict kex marker.
    /// </summary>
    public static readonly SshAlgorithmProfile OpenSsh92Debian = new("OpenSSH 9.2 (Debian 12)",
        ["sntrup761x25519-sha512", Sntrup, .. Curve25519, .. EcdhKex, .. Sha2DhKex], [SshAlgorithms.StrictKexServer], HostKeysSha2, UpstreamCiphers, UpstreamMacs, DelayedCompression);

    /// <summary>OpenSSH 9.0 to 9.5 upstream: sntrup761x25519 first.</summary>
    public static readonly SshAlgorithmProfile OpenSsh90 = new("OpenSSH 9.0",
        [Sntrup, .. Curve25519, .. EcdhKex, .. Sha2DhKex], [], HostKeysSha2, UpstreamCiphers, UpstreamMacs, DelayedCompression);

    /// <summary>OpenSSH 9.6 to 9.8 (Alpine, Kali, Arch): as 9.0, plus ext-info-s and strict kex.</summary>
    public static readonly SshAlgorithmProfile OpenSsh96 = new("OpenSSH 9.6",
        [Sntrup, .. Curve25519, .. EcdhKex, .. Sha2DhKex], [SshAlgorithms.ExtInfoServer, SshAlgorithms.StrictKexServer], HostKeysSha2, UpstreamCiphers, UpstreamMacs, DelayedCompression);

    /// <summary>
    /// Rocky 9 / Fedora: sshd takes its lists from the system crypto-policy (DEFAULT), which reorders
    /// ciphers and MACs and leaves out umac-64, sntrup and aes192. Not captured from a live host.
    /// </summary>
    public static readonly SshAlgorithmProfile RedHatCryptoPolicy = new("OpenSSH (Red Hat crypto-policies DEFAULT)",
        [.. Curve25519, .. EcdhKex, "diffie-hellman-group-exchange-sha256", "diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512"],
        [SshAlgorithms.StrictKexServer],
        HostKeysSha2,
        ["aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes256-ctr", "aes128-gcm@openssh.com", "aes128-ctr"],
        ["hmac-sha2-256-etm@openssh.com", "hmac-sha1-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha1", "umac-128@openssh.com", "hmac-sha2-512"],
        DelayedCompression);

    public static IReadOnlyList<SshAlgorithmProfile> All { get; } =
        [OpenSsh74, OpenSsh82Ubuntu, OpenSsh89Ubuntu, OpenSsh92Debian, OpenSsh90, OpenSsh96, RedHatCryptoPolicy];

    /// <summary>
    /// The profile for an identification string such as <c>SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3</c>.
    /// Versions between table rows take the nearest older row; non-OpenSSH banners get Debian 12's.
    /// </summary>
    public static SshAlgorithmProfile For(string identification, string distro)
    {
        var match = OpenSshVersion().Match(identification);
        if (!match.Success)
        {
            return OpenSsh92Debian;
        }
        var version = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * 10 + int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        var vendor = identification[(match.Index + match.Length)..];
        var debianFamily = vendor.Contains("Debian", StringComparison.Ordinal) || vendor.Contains("Ubuntu", StringComparison.Ordinal);
        if (!debianFamily && distro is "rocky9" or "fedora" && version >= 80)
        {
            return RedHatCryptoPolicy;
        }
        return version switch
        {
            < 82 => OpenSsh74,
            < 85 => OpenSsh82Ubuntu,
            < 90 => OpenSsh89Ubuntu,
            < 96 when version == 92 && debianFamily => OpenSsh92Debian,
            < 96 => OpenSsh90,
            _ => OpenSsh96,
        };
    }

    /// <summary>hasshServer: md5 of "kex;ciphers;macs;compression" of a server KEXINIT (server-to-client lists).</summary>
    public static string HasshAlgorithms(ReadOnlySpan<byte> kexInit)
    {
        var reader = new SshReader(kexInit);
        reader.ReadByte();
        reader.ReadBytes(16);
        var kex = reader.ReadString();
        reader.ReadString();
        reader.ReadString();
        var cipher = reader.ReadString();
        reader.ReadString();
        var mac = reader.ReadString();
        reader.ReadString();
        var compression = reader.ReadString();
        return $"{kex};{cipher};{mac};{compression}";
    }

    [GeneratedRegex(@"OpenSSH_(\d+)\.(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex OpenSshVersion();
}
