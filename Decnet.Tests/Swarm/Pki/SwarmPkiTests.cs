using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Pki;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Pki;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SwarmPkiTests : IDisposable
{
    private readonly TempDirectory _dir = new("decnet-pki");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_ca_is_created_once_with_an_owner_only_key_and_reloads_with_the_same_fingerprint()
    {
        string first;
        using (var ca = SwarmCertificateAuthority.LoadOrCreate(_dir.Path))
        {
            first = ca.Fingerprint;
            using var certificate = ca.CreatePublicCertificate();
            Assert.Equal("DECNET SWARM Root CA", certificate.GetNameInfo(X509NameType.SimpleName, false));
            var constraints = certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single();
            Assert.True(constraints.CertificateAuthority);
            Assert.Equal(0, constraints.PathLengthConstraint);
            Assert.False(certificate.HasPrivateKey);
        }

        var keyMode = File.GetUnixFileMode(Path.Combine(_dir.Path, "ca.key"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, keyMode);
        using var reopened = SwarmCertificateAuthority.LoadOrCreate(_dir.Path);
        Assert.Equal(first, reopened.Fingerprint);
    }

    [Fact]
    public void A_worker_identity_serves_and_authenticates_with_its_name_and_addresses_as_sans()
    {
        using var ca = SwarmCertificateAuthority.LoadOrCreate(_dir.Path);
        var worker = ca.IssueWorker("worker-01", ["10.1.2.3", "worker-01.lab"]);
        using var certificate = worker.ToCertificate();

        Assert.True(certificate.HasPrivateKey);
        Assert.Equal("worker-01", certificate.GetNameInfo(X509NameType.SimpleName, false));
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToList();
        Assert.Contains(SwarmTrust.ServerAuthOid, usages);
        Assert.Contains(SwarmTrust.ClientAuthOid, usages);
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains("worker-01", san.EnumerateDnsNames());
        Assert.Contains("worker-01.lab", san.EnumerateDnsNames());
        Assert.Contains(IPAddress.Parse("10.1.2.3"), san.EnumerateIPAddresses());
        Assert.Equal(CertificateFingerprint.Of(certificate), worker.Fingerprint);
        Assert.Matches("^[0-9a-f]{64}$", worker.Fingerprint);
        Assert.True(certificate.NotAfter - certificate.NotBefore <= TimeSpan.FromDays(826));

        var keyPath = Path.Combine(_dir.Path, "workers", "worker-01", "worker.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        using var trust = ca.CreateTrust();
        Assert.True(trust.HasIssued(certificate, PeerUsage.Client));
        Assert.True(trust.HasIssued(certificate, PeerUsage.Server));
    }

    [Fact]
    public void Updater_and_master_identities_carry_their_fixed_names()
    {
        using var ca = SwarmCertificateAuthority.LoadOrCreate(_dir.Path);
        var updater = ca.IssueUpdater("worker-02");
        var master = ca.GetOrCreateMasterIdentity(["master.lab"]);

        Assert.Equal("updater@worker-02", updater.CommonName);
        using var updaterCertificate = updater.ToCertificate();
        Assert.Equal("updater@worker-02", SwarmTrust.CommonName(updaterCertificate));
        using var masterCertificate = master.ToCertificate();
        Assert.Equal("decnet-master", SwarmTrust.CommonName(masterCertificate));
        Assert.Contains("master.lab", masterCertificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.Equal(master.Fingerprint, ca.GetOrCreateMasterIdentity().Fingerprint);
    }

    [Fact]
    public void Certificates_from_another_ca_or_self_signed_are_not_trusted()
    {
        using var ca = SwarmCertificateAuthority.LoadOrCreate(Path.Combine(_dir.Path, "ours"));
        using var other = SwarmCertificateAuthority.LoadOrCreate(Path.Combine(_dir.Path, "theirs"));
        using var trust = ca.CreateTrust();
        using var foreign = other.IssueWorker("worker-01").ToCertificate();
        using var key = ECDsa.Create();
        using var selfSigned = new CertificateRequest("CN=worker-01", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var caItself = ca.CreatePublicCertificate();

        Assert.False(trust.HasIssued(foreign, PeerUsage.Client));
        Assert.False(trust.HasIssued(selfSigned, PeerUsage.Client));
        Assert.False(trust.HasIssued(caItself, PeerUsage.Client));
        Assert.False(trust.HasIssued(null, PeerUsage.Client));
    }

    [Theory]
    [InlineData("")]
    [InlineData("../etc")]
    [InlineData("-rf")]
    [InlineData("name with space")]
    [InlineData("a;b")]
    public void Worker_names_that_are_not_hostname_safe_are_refused(string name)
    {
        using var ca = SwarmCertificateAuthority.LoadOrCreate(_dir.Path);
        Assert.Throws<ArgumentException>(() => ca.IssueWorker(name));
    }

    [Fact]
    public void Fingerprints_compare_in_any_spelling_and_reject_garbage()
    {
        const string hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        var colons = string.Join(':', Enumerable.Range(0, 32).Select(i => hex.Substring(i * 2, 2).ToUpperInvariant()));
        Assert.True(CertificateFingerprint.AreEqual(hex, colons));
        Assert.False(CertificateFingerprint.AreEqual(hex, hex[..^1] + "0"));
        Assert.Null(CertificateFingerprint.Normalize("zz"));
        Assert.False(CertificateFingerprint.AreEqual(null, null));
    }

    [Fact]
    public async Task Pinned_mutual_tls_connects_only_to_the_pinned_server_and_shows_the_client_identity()
    {
        using var ca = SwarmCertificateAuthority.LoadOrCreate(_dir.Path);
        using var trust = ca.CreateTrust();
        using var master = ca.GetOrCreateMasterIdentity().ToCertificate();
        var workerIdentity = ca.IssueWorker("worker-01", ["127.0.0.1"]);
        using var worker = workerIdentity.ToCertificate();
        var impostorIdentity = ca.IssueWorker("worker-02", ["127.0.0.1"]);
        using var impostor = impostorIdentity.ToCertificate();

        // The master dials the worker pinned on worker-01's fingerprint.
        var seen = await HandshakeAsync(serverCertificate: worker, clientCertificate: master, trust, workerIdentity.Fingerprint);
        Assert.Equal(CertificateFingerprint.Of(master), seen);

        // The same CA, another worker: the pin refuses it.
        await Assert.ThrowsAnyAsync<AuthenticationException>(() => HandshakeAsync(serverCertificate: impostor, clientCertificate: master, trust, workerIdentity.Fingerprint));
    }

    [Fact]
    public void Worker_settings_round_trip_through_the_ini_and_errors_name_line_and_key()
    {
        var settings = new AgentHostSettings
        {
            Name = "worker-01",
            HostUuid = Guid.NewGuid(),
            MasterHost = "10.0.0.1",
            MasterFingerprint = new string('a', 64),
            Ipvlan = true,
            HeartbeatSeconds = 5,
        };
        Assert.Equal(settings, AgentHostSettings.Parse(settings.ToIni()));

        var broken = settings.ToIni()
            .Replace($"host-uuid = {settings.HostUuid:D}", "host-uuid = nope", StringComparison.Ordinal)
            .Replace("agent-port = 8765", "agent-port = 99999", StringComparison.Ordinal);
        var error = Assert.Throws<IniValidationException>(() => AgentHostSettings.Parse(broken));
        Assert.Contains(error.Errors, e => e.Key == "host-uuid" && e.Line is > 0);
        Assert.Contains(error.Errors, e => e.Key == "agent-port" && e.Message.Contains("99999", StringComparison.Ordinal));
    }

    private static async Task<string> HandshakeAsync(X509Certificate2 serverCertificate, X509Certificate2 clientCertificate, SwarmTrust trust, string pin)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serverTask = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptTcpClientAsync();
            await using var tls = new SslStream(accepted.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = serverCertificate,
                    ClientCertificateRequired = true,
                    EnabledSslProtocols = PinnedTls.Protocols,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => trust.HasIssued(certificate, PeerUsage.Client),
                });
                await tls.WriteAsync(new byte[] { 1 });
                return tls.RemoteCertificate is { } remote ? CertificateFingerprint.Of(remote) : "";
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException)
            {
                return "";
            }
        });

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        await using var clientTls = new SslStream(client.GetStream());
        await clientTls.AuthenticateAsClientAsync(PinnedTls.CreateClientOptions(clientCertificate, trust, pin, targetHost: "worker"));
        var buffer = new byte[1];
        await clientTls.ReadExactlyAsync(buffer);
        return await serverTask;
    }
}
