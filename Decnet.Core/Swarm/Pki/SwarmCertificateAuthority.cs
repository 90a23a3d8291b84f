using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace Decnet.Core.Swarm.Pki;

/// <summary>
/// The swarm's private certificate authority, kept by the master. It signs one identity per worker
/// (server + client use, so the same certificate serves the agent API and authenticates heartbeats and
/// log shipping), an updater identity per worker (CN <c>updater@&lt;host&gt;</c>) and the master's own
/// identity (CN <c>decnet-master</c>), which the master presents to agents and serves its swarm
/// listeners with. Keys are ECDSA P-256; the CA key file is owner-only (0600).
/// </summary>
/// <remarks>
/// Layout under the CA folder: <c>ca.crt</c>, <c>ca.key</c>; <c>master/master.{crt,key}</c>;
/// <c>workers/&lt;name&gt;/worker.{crt,key}</c> and <c>workers/&lt;name&gt;/updater/updater.{crt,key}</c>.
/// Trust is never "any certificate this CA signed": every peer is also pinned by its fingerprint.
/// </remarks>
public sealed partial class SwarmCertificateAuthority : IDisposable
{
    public const string CaCommonName = "DECNET SWARM Root CA";
    public const string Organization = "DECNET";
    public const string MasterCommonName = "decnet-master";
    public const string UpdaterPrefix = "updater@";
    public static readonly TimeSpan CaLifetime = TimeSpan.FromDays(3650);
    public static readonly TimeSpan IdentityLifetime = TimeSpan.FromDays(825);

    private static readonly Oid ServerAuth = new(SwarmTrust.ServerAuthOid);
    private static readonly Oid ClientAuth = new(SwarmTrust.ClientAuthOid);

    private readonly X509Certificate2 _ca;
    private readonly TimeProvider _time;
    private readonly Lock _issueLock = new();

    private SwarmCertificateAuthority(string directory, X509Certificate2 ca, TimeProvider time)
    {
        Directory = directory;
        _ca = ca;
        _time = time;
        Fingerprint = CertificateFingerprint.Of(ca);
    }

    /// <summary>The folder holding the CA and every identity it issued.</summary>
    public string Directory { get; }

    /// <summary>Fingerprint of the CA certificate.</summary>
    public string Fingerprint { get; }

    /// <summary>The CA certificate without its key, as peers receive it.</summary>
    public string CertificatePem => _ca.ExportCertificatePem();

    /// <summary>A fresh copy of the public CA certificate (callers dispose it).</summary>
    public X509Certificate2 CreatePublicCertificate() => X509CertificateLoader.LoadCertificate(_ca.RawData);

    /// <summary>Opens the CA in <paramref name="directory"/>, creating it (key 0600) on first use.</summary>
    public static SwarmCertificateAuthority LoadOrCreate(string directory, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var full = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(full);
        var certificatePath = Path.Combine(full, "ca.crt");
        var keyPath = Path.Combine(full, "ca.key");
        if (File.Exists(certificatePath) && File.Exists(keyPath))
        {
            var loaded = IssuedIdentity.Load(certificatePath, keyPath).ToCertificate();
            return new SwarmCertificateAuthority(full, loaded, time);
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={CaCommonName}, O={Organization}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = time.GetUtcNow();
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(CaLifetime));
        var identity = new IssuedIdentity(CaCommonName, created.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), CertificateFingerprint.Of(created));
        identity.Save(full, "ca");
        return new SwarmCertificateAuthority(full, identity.ToCertificate(), time);
    }

    /// <summary>
    /// The master's own identity (CN <c>decnet-master</c>), created once and kept. SANs: 127.0.0.1,
    /// ::1, localhost, decnet-master and <paramref name="extraNames"/> (the names workers reach it by).
    /// </summary>
    public IssuedIdentity GetOrCreateMasterIdentity(IEnumerable<string>? extraNames = null)
    {
        var folder = Path.Combine(Directory, "master");
        lock (_issueLock)
        {
            if (File.Exists(Path.Combine(folder, "master.crt")) && File.Exists(Path.Combine(folder, "master.key")))
            {
                return IssuedIdentity.Load(Path.Combine(folder, "master.crt"), Path.Combine(folder, "master.key"));
            }
            var names = new List<string> { MasterCommonName, "localhost", "127.0.0.1", "::1", Environment.MachineName };
            names.AddRange(extraNames ?? []);
            var identity = Issue(MasterCommonName, names);
            identity.Save(folder, "master");
            return identity;
        }
    }

    /// <summary>
    /// Issues a worker identity (serverAuth + clientAuth). The worker name is always a SAN; the others
    /// are DNS names or IP addresses it is reached by. A copy is kept under <c>workers/&lt;name&gt;</c>.
    /// </summary>
    public IssuedIdentity IssueWorker(string name, IEnumerable<string>? subjectAlternativeNames = null)
    {
        RequireHostName(name);
        var identity = Issue(name, [name, .. subjectAlternativeNames ?? []]);
        lock (_issueLock)
        {
            identity.Save(Path.Combine(Directory, "workers", name), "worker");
        }
        return identity;
    }

    /// <summary>Issues the updater identity of a worker: CN <c>updater@&lt;name&gt;</c>, SANs the name and 127.0.0.1.</summary>
    public IssuedIdentity IssueUpdater(string name)
    {
        RequireHostName(name);
        var identity = Issue(UpdaterPrefix + name, [name, "127.0.0.1"]);
        lock (_issueLock)
        {
            identity.Save(Path.Combine(Directory, "workers", name, "updater"), "updater");
        }
        return identity;
    }

    /// <summary>Chain checks against this CA alone, for the master's own listeners.</summary>
    public SwarmTrust CreateTrust() => SwarmTrust.FromPem(CertificatePem, _time);

    public void Dispose() => _ca.Dispose();

    private IssuedIdentity Issue(string commonName, IEnumerable<string> names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}, O={Organization}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth, ClientAuth], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n.Trim()).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(name, out var address))
            {
                san.AddIpAddress(address);
            }
            else
            {
                san.AddDnsName(name);
            }
        }
        request.CertificateExtensions.Add(san.Build());

        var now = _time.GetUtcNow();
        var notAfter = now.Add(IdentityLifetime);
        if (notAfter > _ca.NotAfter)
        {
            notAfter = _ca.NotAfter;
        }
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(_ca, now.AddMinutes(-5), notAfter, serial);
        return new IssuedIdentity(commonName, issued.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), CertificateFingerprint.Of(issued));
    }

    /// <summary>Worker names become file names, certificate CNs and systemd arguments: hostname-safe only.</summary>
    public static bool IsValidHostName(string? name) => name is { Length: > 0 and <= 64 } && HostName().IsMatch(name);

    private static void RequireHostName(string name)
    {
        if (!IsValidHostName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid worker name: 1-64 characters of letters, digits, '-' and '.', starting with a letter or digit.", nameof(name));
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$")]
    private static partial Regex HostName();
}
