using System.Net;
using System.Net.Sockets;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Honeypots.Hosting;

/// <summary>
/// A flood of idle connections against the real host, measured on the whole process (managed heap, open
/// file descriptors), so it runs with the other process-wide measurements, alone.
/// </summary>
[Collection(ProcessMeasurementCollection.Name)]
[Trait("Category", TestCategories.Isolated)]
public sealed class ServiceHostFloodTests
{
    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_thousand_idle_ftp_connections_are_cut_at_the_idle_timeout_and_memory_stays_bounded()
    {
        await using var decky = TestDecky.Create();
        var limits = new SessionLimits { IdleTimeout = TimeSpan.FromSeconds(2), MaxConcurrentSessions = 2000 };
        // The flood comes from one address: the host's per-source shares must let it in to test idle cuts.
        var admission = new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 2000, MaxSessionsPerSourcePerHost = 2000, MaxSessionsPerDecky = 2000, MaxSessionsPerHost = 2000 };
        var ftp = new Decnet.Core.Honeypots.Ftp.FtpHoneypotFactory();
        var hosted = await decky.StartAsync(new ServiceHostOptions { Admission = admission }, new HostedServiceBinding("ftp", ftp.Create(decky.Context(limits: limits)), decky.Address, ftp.DefaultPorts));
        var endPoint = hosted.EndPointOf("ftp", 21);
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var fdsBefore = Directory.GetFiles("/proc/self/fd").Length;

        var clients = new List<Socket>();
        try
        {
            for (var i = 0; i < 1000; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(endPoint);
                clients.Add(socket);
            }
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (decky.Sink.OfType("disconnect").Count < 1000 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            var disconnects = decky.Sink.OfType("disconnect");
            Assert.Equal(1000, disconnects.Count);
            Assert.All(disconnects, d => Assert.Equal("idle_timeout", d.Field("reason")));
            Assert.Equal(0, Assert.Single(hosted.Statistics()).ActiveSessions);

            GC.Collect();
            var after = GC.GetTotalMemory(forceFullCollection: true);
            // The captured events themselves stay referenced by the sink; everything per session must be gone.
            Assert.True(after - before < 16 * 1024 * 1024, $"managed heap grew by {(after - before) / 1024} KiB");
            // The 1,000 client sockets are still open here; the server's 1,000 must already be closed.
            var fdGrowth = Directory.GetFiles("/proc/self/fd").Length - fdsBefore;
            Assert.True(fdGrowth < 1000 + 200, $"{fdGrowth} more file descriptors than before the flood");

            // The host still serves once the flood is over.
            using var client = new TcpClient();
            await client.ConnectAsync(endPoint);
            using var reader = new StreamReader(client.GetStream());
            Assert.Equal("220 (vsFTPd 3.0.3)", await reader.ReadLineAsync());
        }
        finally
        {
            foreach (var socket in clients)
            {
                socket.Dispose();
            }
        }
    }
}
