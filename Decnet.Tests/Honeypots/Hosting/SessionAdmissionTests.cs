using System.Net;
using System.Net.Sockets;
using Decnet.Core.Honeypots.Ftp;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Smtp;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Honeypots.Hosting;

/// <summary>
/// Connection floods against real listeners: one source address holds only its share of a decky and of
/// the host, the decky and host caps bound everyone together, and other addresses are still served.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SessionAdmissionTests
{
    /// <summary>Opens a connection from <paramref name="source"/>; served when the service's "220" banner arrives.</summary>
    private static async Task<(Socket Socket, bool Served)> ConnectAsync(IPAddress source, IPEndPoint target)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(source, 0));
        try
        {
            await socket.ConnectAsync(target);
            var buffer = new byte[3];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return (socket, read == 3 && buffer.AsSpan().SequenceEqual("220"u8));
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return (socket, false);
        }
    }

    private static async Task<List<(Socket Socket, bool Served)>> FloodAsync(IPAddress source, IEnumerable<IPEndPoint> targets) =>
        [.. await Task.WhenAll(targets.Select(t => ConnectAsync(source, t)))];

    private static void Close(IEnumerable<(Socket Socket, bool Served)> connections)
    {
        foreach (var (socket, _) in connections)
        {
            socket.Dispose();
        }
    }

    [Fact]
    public async Task Three_hundred_connections_from_one_address_are_mostly_refused_while_other_addresses_are_served()
    {
        await using var decky = TestDecky.Create();
        var ftp = new FtpHoneypotFactory();
        var smtp = new SmtpRelayHoneypotFactory();
        var hosted = await decky.StartAsync(
            new HostedServiceBinding("ftp", ftp.Create(decky.Context()), decky.Address, [new ServicePort(21)]),
            new HostedServiceBinding("smtp_relay", smtp.Create(decky.Context()), decky.Address, [new ServicePort(25)]));
        var attacker = TestDecky.NextAddress();
        var perDecky = new SessionAdmissionOptions().MaxSessionsPerSourcePerDecky;

        var flood = await FloodAsync(attacker, Enumerable.Range(0, 300).Select(i => hosted.EndPointOf(i % 2 == 0 ? "ftp" : "smtp_relay", i % 2 == 0 ? 21 : 25)));
        try
        {
            // Across both services of the decky, one address holds its share and no more.
            Assert.Equal(perDecky, flood.Count(c => c.Served));
            Assert.Equal(300 - perDecky, hosted.Statistics().Sum(s => s.RejectedSessions));

            var bystander = TestDecky.NextAddress().ToString();
            var listing = await RealClient.RunAsync("curl", ["-sS", "--max-time", "20", "--interface", bystander, "--user", "a:b", $"ftp://{decky.Address}/"]);
            Assert.True(listing.ExitCode == 0, listing.StdErr);
            Assert.Contains("README.txt", listing.StdOut, StringComparison.Ordinal);
            var mail = Path.Combine(decky.Root, "mail.txt");
            await File.WriteAllTextAsync(mail, "Subject: hello\r\n\r\nstill served\r\n", TestContext.Current.CancellationToken);
            var sent = await RealClient.RunAsync("curl", ["-sS", "--max-time", "20", "--interface", bystander, "--mail-from", "a@example.com", "--mail-rcpt", "b@example.com", "-T", mail, $"smtp://{decky.Address}/"]);
            Assert.True(sent.ExitCode == 0, sent.StdErr);
            await decky.Sink.WaitForAsync("message_accepted", e => e.Field("src_ip") == bystander);
        }
        finally
        {
            Close(flood);
        }

        // Slots come back when the attacker's sessions end.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (decky.Host.Admission.Active > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        var again = await FloodAsync(attacker, [hosted.EndPointOf("ftp", 21)]);
        Assert.True(again[0].Served);
        Close(again);
    }

    [Fact]
    public async Task One_address_is_held_to_its_share_of_the_host_across_deckies()
    {
        var options = new ServiceHostOptions { Admission = new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 20, MaxSessionsPerSourcePerHost = 30 } };
        await using var host = new ServiceHost(NullLoggerFactory.Instance, options);
        await using var first = TestDecky.Create();
        await using var second = TestDecky.Create();
        var ftp = new FtpHoneypotFactory();
        var a = await host.StartDeckyAsync(first.Name, [new HostedServiceBinding("ftp", ftp.Create(first.Context()), first.Address, [new ServicePort(21)])]);
        var b = await host.StartDeckyAsync(second.Name, [new HostedServiceBinding("ftp", ftp.Create(second.Context()), second.Address, [new ServicePort(21)])]);
        var attacker = TestDecky.NextAddress();

        var onFirst = await FloodAsync(attacker, Enumerable.Repeat(a.EndPointOf("ftp", 21), 25));
        var onSecond = await FloodAsync(attacker, Enumerable.Repeat(b.EndPointOf("ftp", 21), 25));
        var bystander = await FloodAsync(TestDecky.NextAddress(), [a.EndPointOf("ftp", 21), b.EndPointOf("ftp", 21)]);
        try
        {
            Assert.Equal(20, onFirst.Count(c => c.Served));
            Assert.Equal(10, onSecond.Count(c => c.Served));
            Assert.All(bystander, c => Assert.True(c.Served));
        }
        finally
        {
            Close([.. onFirst, .. onSecond, .. bystander]);
        }
    }

    [Fact]
    public async Task The_decky_and_host_caps_bound_every_address_together()
    {
        var options = new ServiceHostOptions { Admission = new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 8, MaxSessionsPerSourcePerHost = 8, MaxSessionsPerDecky = 12, MaxSessionsPerHost = 16 } };
        await using var host = new ServiceHost(NullLoggerFactory.Instance, options);
        await using var first = TestDecky.Create();
        await using var second = TestDecky.Create();
        var ftp = new FtpHoneypotFactory();
        var a = await host.StartDeckyAsync(first.Name, [new HostedServiceBinding("ftp", ftp.Create(first.Context()), first.Address, [new ServicePort(21)])]);
        var b = await host.StartDeckyAsync(second.Name, [new HostedServiceBinding("ftp", ftp.Create(second.Context()), second.Address, [new ServicePort(21)])]);

        // Four addresses, each within its own share, together reach the decky cap of the first decky...
        var onFirst = new List<(Socket Socket, bool Served)>();
        for (var i = 0; i < 4; i++)
        {
            onFirst.AddRange(await FloodAsync(TestDecky.NextAddress(), Enumerable.Repeat(a.EndPointOf("ftp", 21), 5)));
        }
        // ...and then the host cap across both deckies.
        var onSecond = new List<(Socket Socket, bool Served)>();
        for (var i = 0; i < 4; i++)
        {
            onSecond.AddRange(await FloodAsync(TestDecky.NextAddress(), Enumerable.Repeat(b.EndPointOf("ftp", 21), 5)));
        }
        try
        {
            Assert.Equal(12, onFirst.Count(c => c.Served));
            Assert.Equal(4, onSecond.Count(c => c.Served));
            Assert.Equal(16, host.Admission.Active);
        }
        finally
        {
            Close([.. onFirst, .. onSecond]);
        }
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Ipv6_sources_count_per_64_and_mapped_ipv4_as_ipv4()
    {
        var admission = new SessionAdmission(new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 2, MaxSessionsPerSourcePerHost = 2 });
        Assert.Equal(AdmissionRefusal.None, admission.TryAdmit("d", IPAddress.Parse("2001:db8:1:2::1")));
        Assert.Equal(AdmissionRefusal.None, admission.TryAdmit("d", IPAddress.Parse("2001:db8:1:2:ffff::9")));
        Assert.Equal(AdmissionRefusal.SourcePerHost, admission.TryAdmit("e", IPAddress.Parse("2001:db8:1:2:abcd::1")));
        Assert.Equal(AdmissionRefusal.None, admission.TryAdmit("d", IPAddress.Parse("2001:db8:1:3::1")));

        Assert.Equal(AdmissionRefusal.None, admission.TryAdmit("d", IPAddress.Parse("192.0.2.7")));
        Assert.Equal(AdmissionRefusal.None, admission.TryAdmit("d", IPAddress.Parse("::ffff:192.0.2.7")));
        Assert.Equal(AdmissionRefusal.SourcePerHost, admission.TryAdmit("d", IPAddress.Parse("192.0.2.7")));
        admission.Release("d", IPAddress.Parse("::ffff:192.0.2.7"));
        Assert.Equal(AdmissionRefusal.None, admission.TryAdmit("d", IPAddress.Parse("192.0.2.7")));
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Invalid_limits_are_all_reported_with_their_keys()
    {
        var options = new HoneypotLimitsOptions
        {
            Admission = new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 0, MaxSessionsPerSourcePerHost = 10, MaxSessionsPerDecky = 100, MaxSessionsPerHost = 50 },
            Artifacts = new Decnet.Core.Honeypots.Artifacts.ArtifactQuotaOptions { MaxBytesPerDecky = 10, MaxBytesTotal = 5, MaxFilesPerSession = -1 },
        };

        var result = new HoneypotLimitsOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains(failures, f => f.StartsWith("Decnet:Honeypots:Admission:MaxSessionsPerSourcePerDecky is 0", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Decnet:Honeypots:Admission:MaxSessionsPerDecky (100) cannot exceed MaxSessionsPerHost (50)", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Decnet:Honeypots:Artifacts:MaxFilesPerSession is -1", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Decnet:Honeypots:Artifacts:MaxBytesPerDecky (10) cannot exceed MaxBytesTotal (5)", StringComparison.Ordinal));
        Assert.Equal(4, failures.Count);
        Assert.True(new HoneypotLimitsOptionsValidator().Validate(null, new HoneypotLimitsOptions()).Succeeded);
    }
}
