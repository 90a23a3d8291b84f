using Decnet.Core.Swarm.Pki;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Swarm.Controller;

namespace Decnet.Tests.Swarm.Controller;

/// <summary>The one function that says which certificate a heartbeat came with.</summary>
[Trait("Category", TestCategories.Unit)]
public sealed class PeerCertificateTests : IDisposable
{
    private readonly TempDirectory _directory = new("decnet-peer");
    private readonly SwarmCertificateAuthority _authority;

    public PeerCertificateTests() => _authority = SwarmCertificateAuthority.LoadOrCreate(_directory.Path);

    public void Dispose()
    {
        _authority.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public void The_connection_certificate_gives_its_fingerprint()
    {
        var worker = _authority.IssueWorker("w1");
        using var certificate = worker.ToCertificate();

        Assert.Equal(worker.Fingerprint, PeerCertificate.Fingerprint(certificate, null));
    }

    [Fact]
    public void The_tls_feature_certificate_is_used_when_the_connection_has_none()
    {
        var worker = _authority.IssueWorker("w2");
        using var certificate = worker.ToCertificate();

        Assert.Equal(worker.Fingerprint, PeerCertificate.Fingerprint(null, certificate));
    }

    [Fact]
    public void The_connection_certificate_wins_when_both_are_there()
    {
        var first = _authority.IssueWorker("w3");
        var second = _authority.IssueWorker("w4");
        using var connection = first.ToCertificate();
        using var tls = second.ToCertificate();

        Assert.Equal(first.Fingerprint, PeerCertificate.Fingerprint(connection, tls));
    }

    [Fact]
    public void Neither_certificate_means_no_fingerprint()
    {
        Assert.Null(PeerCertificate.Fingerprint(null, null));
    }
}
