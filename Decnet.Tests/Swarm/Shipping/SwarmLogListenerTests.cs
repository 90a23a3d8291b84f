using System.Buffers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Security;
using Decnet.Core.Swarm.Shipping;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Swarm.Shipping;

/// <summary>The master's RFC 5425 listener over real mutual TLS, storing into a real database.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SwarmLogListenerTests : IAsyncLifetime
{
    private ShippingLab _lab = null!;

    public async ValueTask InitializeAsync() => _lab = await ShippingLab.StartAsync();

    public async ValueTask DisposeAsync() => await _lab.DisposeAsync();

    public enum Presented
    {
        EnrolledWorker,
        OtherWorkerNotEnrolled,
        DecommissionedWorker,
        TombstonedButStillListedWorker,
        SelfSigned,
        ForeignCa,
        NoCertificate,
    }

    [Theory]
    [InlineData(Presented.EnrolledWorker, null)]
    [InlineData(Presented.OtherWorkerNotEnrolled, SwarmRefusal.UnknownHost)]
    [InlineData(Presented.DecommissionedWorker, SwarmRefusal.Revoked)]
    [InlineData(Presented.TombstonedButStillListedWorker, SwarmRefusal.Revoked)]
    [InlineData(Presented.SelfSigned, SwarmRefusal.SelfSigned)]
    [InlineData(Presented.ForeignCa, SwarmRefusal.ForeignCa)]
    [InlineData(Presented.NoCertificate, SwarmRefusal.NoCertificate)]
    public async Task Only_the_certificate_of_a_live_enrolled_worker_gets_its_lines_stored(Presented presented, SwarmRefusal? refusal)
    {
        using var foreign = new TempDirectory("decnet-foreign-ca");
        using var certificate = presented switch
        {
            Presented.EnrolledWorker => (await _lab.AddWorkerAsync("worker-a")).Certificate(),
            // Issued by the same CA, but no swarm host row carries its fingerprint.
            Presented.OtherWorkerNotEnrolled => (await _lab.AddWorkerAsync("worker-x", status: null)).Certificate(),
            Presented.DecommissionedWorker => (await _lab.AddWorkerAsync("worker-d", SwarmHostStatus.Decommissioned, tombstone: true)).Certificate(),
            Presented.TombstonedButStillListedWorker => (await _lab.AddWorkerAsync("worker-t", SwarmHostStatus.Active, tombstone: true)).Certificate(),
            Presented.SelfSigned => SelfSignedClient("worker-a"),
            // Another master's CA, same names and usages.
            Presented.ForeignCa => SwarmCertificateAuthority.LoadOrCreate(foreign.Path).IssueWorker("worker-a", ["127.0.0.1"]).ToCertificate(),
            _ => null,
        };

        var acked = await _lab.TryShipAsync(certificate, ShippingLab.Batch("00aa", 0, ShippingLab.Line(1), ShippingLab.Line(2)));

        Assert.Equal(refusal is null, acked);
        var rows = await _lab.RowsAsync();
        if (refusal is null)
        {
            Assert.Equal(2, rows.Count);
            Assert.All(rows, r => Assert.Equal("worker-a", ShippingLab.Field(r, ShippedLine.SourceWorkerField)));
            Assert.Empty(_lab.SecurityEvents.Recent());
        }
        else
        {
            Assert.Empty(rows);
            await ShippingLab.EventuallyAsync(() => _lab.Listener!.Counters.Refused >= 1, "the refusal is counted");
            Assert.Equal(0, _lab.Listener!.Counters.LinesReceived);
            // Shown as a swarm security event, with where it came from.
            await ShippingLab.EventuallyAsync(() => _lab.SecurityEvents.Recent().Any(e => e.Refusal == refusal), $"a {refusal} security event");
            var recorded = _lab.SecurityEvents.Recent().First(e => e.Refusal == refusal);
            Assert.Equal((SwarmGate.LogListenerEndpoint, "127.0.0.1"), (recorded.Endpoint, recorded.Remote));
            Assert.Equal(certificate is null ? null : CertificateFingerprint.Of(certificate), recorded.Fingerprint);
        }
    }

    [Fact]
    public async Task Lines_are_labelled_with_the_certificates_worker_whatever_their_hostname_or_fields_claim()
    {
        var workerA = await _lab.AddWorkerAsync("worker-a");
        await _lab.AddWorkerAsync("worker-b");
        using var certificate = workerA.Certificate();
        // HOSTNAME names the other worker, and the line even carries its own source_worker field.
        var forged = ShippingLab.Line(7, decky: "worker-b", extraStructuredData: " source_worker=\"worker-b\"");
        var nilData = "<134>1 2026-04-18T10:00:00Z worker-b http - request - GET /\n";

        Assert.True(await _lab.TryShipAsync(certificate, ShippingLab.Batch("00bb", 0, forged, nilData)));

        var rows = await _lab.RowsAsync();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal("worker-a", ShippingLab.Field(r, ShippedLine.SourceWorkerField)));
        // The claim survives only as what it is: the decky name the worker reported.
        Assert.All(rows, r => Assert.Equal("worker-b", r.Decky));
        Assert.Equal("203.0.113.7", rows[0].AttackerIp);
        Assert.Equal("GET /", rows[1].Msg);
    }

    [Fact]
    public async Task A_batch_sent_again_after_a_lost_acknowledgement_is_stored_once()
    {
        var worker = await _lab.AddWorkerAsync("worker-a");
        using var certificate = worker.Certificate();
        var first = ShippingLab.Batch("00cc", 0, ShippingLab.Line(1), ShippingLab.Line(2), ShippingLab.Line(3));
        // The forwarder died after the master stored the batch but before it saved its offset:
        // it sends the same lines again, now with more behind them.
        var again = ShippingLab.Batch("00cc", 0, ShippingLab.Line(1), ShippingLab.Line(2), ShippingLab.Line(3), ShippingLab.Line(4));

        Assert.True(await _lab.TryShipAsync(certificate, first));
        Assert.True(await _lab.TryShipAsync(certificate, again));

        var rows = await _lab.RowsAsync();
        Assert.Equal(["attempt 1", "attempt 2", "attempt 3", "attempt 4"], rows.Select(r => r.Msg));
    }

    [Fact]
    public async Task The_same_line_at_another_offset_or_from_another_worker_is_another_event()
    {
        var workerA = await _lab.AddWorkerAsync("worker-a");
        var workerB = await _lab.AddWorkerAsync("worker-b");
        using var a = workerA.Certificate();
        using var b = workerB.Certificate();
        var line = ShippingLab.Line(1);

        Assert.True(await _lab.TryShipAsync(a, ShippingLab.Batch("00dd", 0, line, line)));
        Assert.True(await _lab.TryShipAsync(b, ShippingLab.Batch("00dd", 0, line)));

        var rows = await _lab.RowsAsync();
        Assert.Equal(3, rows.Count);
        Assert.Equal(["worker-a", "worker-a", "worker-b"], rows.Select(r => ShippingLab.Field(r, ShippedLine.SourceWorkerField)));
    }

    [Fact]
    public async Task Plain_rfc5425_frames_without_the_batch_extension_are_stored_and_labelled()
    {
        var worker = await _lab.AddWorkerAsync("worker-a");
        using var certificate = worker.Certificate();
        await using (var connection = await RawConnection.OpenAsync(_lab, certificate))
        {
            await connection.SendAsync(Frame(ShippingLab.Line(1)), Frame(ShippingLab.Line(2)));
        }

        await _lab.WaitForRowsAsync(n => n == 2, TimeSpan.FromSeconds(15));
        Assert.All(await _lab.RowsAsync(), r => Assert.Equal("worker-a", ShippingLab.Field(r, ShippedLine.SourceWorkerField)));
    }

    [Theory]
    [InlineData("99999999999 ")]
    [InlineData("70000 ")]
    [InlineData("abc ")]
    [InlineData("@decnet-batch 1 zz 0 1")]
    public async Task A_peer_that_breaks_the_framing_is_disconnected(string wire)
    {
        var worker = await _lab.AddWorkerAsync("worker-a");
        using var certificate = worker.Certificate();
        await using var connection = await RawConnection.OpenAsync(_lab, certificate);
        var bytes = wire.StartsWith('@') ? Frame(wire) : Encoding.ASCII.GetBytes(wire);

        await connection.SendAsync(bytes);

        Assert.True(await connection.ClosedByPeerAsync());
        Assert.Empty(await _lab.RowsAsync());
    }

    [Fact]
    public async Task A_silent_peer_is_dropped_after_the_idle_timeout()
    {
        await _lab.StopListenerAsync();
        await _lab.StartListenerAsync(new SwarmLogListenerSettings { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        var worker = await _lab.AddWorkerAsync("worker-a");
        using var certificate = worker.Certificate();
        await using var connection = await RawConnection.OpenAsync(_lab, certificate);

        await connection.SendAsync(Encoding.ASCII.GetBytes("12"));

        Assert.True(await connection.ClosedByPeerAsync());
    }

    [Fact]
    public async Task Connections_beyond_the_limit_are_closed_at_once()
    {
        await _lab.StopListenerAsync();
        await _lab.StartListenerAsync(new SwarmLogListenerSettings { MaxConnections = 1 });
        var worker = await _lab.AddWorkerAsync("worker-a");
        using var certificate = worker.Certificate();
        await using var first = await RawConnection.OpenAsync(_lab, certificate);
        await first.SendAsync(Frame(ShippingLab.Line(1)));
        await _lab.WaitForRowsAsync(n => n == 1, TimeSpan.FromSeconds(15));

        Assert.False(await _lab.TryShipAsync(certificate, ShippingLab.Batch("00ee", 0, ShippingLab.Line(2))));
        Assert.Equal(1, await _lab.CountAsync());
    }

    private static byte[] Frame(string text)
    {
        var output = new ArrayBufferWriter<byte>();
        OctetCounting.WriteFrame(output, Encoding.UTF8.GetBytes(text));
        return output.WrittenMemory.ToArray();
    }

    /// <summary>A client certificate with clientAuth that no swarm CA issued.</summary>
    private static X509Certificate2 SelfSignedClient(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}, O=DECNET", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(SwarmTrust.ClientAuthOid), new Oid(SwarmTrust.ServerAuthOid)], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A bare TLS connection for writing arbitrary bytes.</summary>
    private sealed class RawConnection(System.Net.Sockets.TcpClient tcp, System.Net.Security.SslStream tls) : IAsyncDisposable
    {
        public static async Task<RawConnection> OpenAsync(ShippingLab lab, X509Certificate2 identity)
        {
            var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync("127.0.0.1", lab.Endpoint.Port);
            var tls = new System.Net.Security.SslStream(tcp.GetStream());
            await tls.AuthenticateAsClientAsync(lab.ClientOptions(identity));
            return new RawConnection(tcp, tls);
        }

        public async Task SendAsync(params byte[][] chunks)
        {
            foreach (var chunk in chunks)
            {
                await tls.WriteAsync(chunk);
            }
            await tls.FlushAsync();
        }

        /// <summary>True when the master closes the connection (EOF or reset) within 15 s.</summary>
        public async Task<bool> ClosedByPeerAsync()
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var buffer = new byte[256];
            try
            {
                while (await tls.ReadAsync(buffer, deadline.Token) > 0)
                {
                }
                return true;
            }
            catch (IOException)
            {
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await tls.DisposeAsync();
            tcp.Dispose();
        }
    }
}
