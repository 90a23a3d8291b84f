using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Tftp;

namespace Decnet.Tests.Honeypots.Tftp;

[Trait("Category", "Integration")]
public sealed class TftpHoneypotTests
{
    private static Task<RealClient.Result> Tftp(TestDecky decky, int port, params string[] command) =>
        RealClient.RunAsync("tftp", ["-m", "binary", decky.Address.ToString(), port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", .. command]);

    private static int Port(HostedDecky hosted) => hosted.EndPointOf("tftp", 69, ServiceTransport.Udp).Port;

    [Fact]
    public async Task Tftp_get_serves_the_bait_router_config_and_misses_are_logged()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new TftpHoneypotFactory());
        var target = Path.Combine(decky.Root, "running-config");

        var get = await Tftp(decky, Port(hosted), "get", "running-config", target);
        Assert.True(get.ExitCode == 0 && File.Exists(target), get.StdOut + get.StdErr);
        var config = await File.ReadAllTextAsync(target);
        Assert.Contains("enable secret 5 $1$", config, StringComparison.Ordinal);
        Assert.Contains("snmp-server community", config, StringComparison.Ordinal);

        var missing = await Tftp(decky, Port(hosted), "get", "../../etc/shadow", Path.Combine(decky.Root, "shadow"));
        Assert.Contains("File not found", missing.StdOut + missing.StdErr, StringComparison.Ordinal);

        var request = await decky.Sink.WaitForAsync("request", e => e.Field("filename") == "running-config");
        Assert.Equal("RRQ", request.Field("op"));
        Assert.Equal("octet", request.Field("mode"));
        var download = await decky.Sink.WaitForAsync("download", e => e.Field("filename") == "running-config");
        Assert.Equal("true", download.Field("complete"));
        Assert.Equal(config.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), download.Field("bytes_sent"));
        var miss = await decky.Sink.WaitForAsync("download", e => e.Field("filename") == "../../etc/shadow");
        Assert.Equal("false", miss.Field("found"));
    }

    [Fact]
    public async Task Tftp_put_is_stored_as_an_artifact_with_its_sha256()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new TftpHoneypotFactory());
        var payload = RandomNumberGenerator.GetBytes(150_000);
        var source = Path.Combine(decky.Root, "implant.bin");
        await File.WriteAllBytesAsync(source, payload);

        var put = await Tftp(decky, Port(hosted), "put", source, "firmware/update.bin");

        Assert.True(put.ExitCode == 0, put.StdOut + put.StdErr);
        var captured = await decky.Sink.WaitForAsync("file_captured");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(payload)), captured.Field("sha256"));
        Assert.Equal("150000", captured.Field("size"));
        Assert.Equal("firmware/update.bin", captured.Field("orig_path"));
        Assert.Equal("false", captured.Field("truncated"));
        Assert.Equal("true", captured.Field("complete"));
        var stored = Path.Combine(decky.ArtifactsDirectory, decky.Name, "tftp", captured.Field("stored_as")!);
        Assert.Equal(payload, await File.ReadAllBytesAsync(stored));
        Assert.EndsWith("_update.bin", captured.Field("stored_as"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upload_over_the_cap_is_refused_with_disk_full_and_kept_truncated()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new TftpHoneypotFactory(), new Dictionary<string, string> { ["max_upload_bytes"] = "4096" });
        var source = Path.Combine(decky.Root, "big.bin");
        await File.WriteAllBytesAsync(source, RandomNumberGenerator.GetBytes(20_000));

        var put = await Tftp(decky, Port(hosted), "put", source, "big.bin");

        Assert.Contains("Disk full", put.StdOut + put.StdErr, StringComparison.Ordinal);
        var captured = await decky.Sink.WaitForAsync("file_captured");
        Assert.Equal("4096", captured.Field("size"));
        Assert.Equal("true", captured.Field("truncated"));
        Assert.Equal("false", captured.Field("complete"));
    }

    [Fact]
    public async Task Curl_negotiates_options_and_each_transfer_runs_on_its_own_server_port()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new TftpHoneypotFactory());
        var port = Port(hosted);

        var curl = await RealClient.RunAsync("curl", ["-sS", "--tftp-blksize", "1024", $"tftp://{decky.Address}:{port}/pxelinux.cfg/default"]);
        Assert.True(curl.ExitCode == 0, curl.StdErr);
        Assert.Contains("APPEND initrd=", curl.StdOut, StringComparison.Ordinal);
        var request = await decky.Sink.WaitForAsync("request", e => e.Field("filename") == "pxelinux.cfg/default");
        Assert.Contains("\"blksize\":\"1024\"", request.Field("options"), StringComparison.Ordinal);

        // The first answer to a read request comes from a new port of the decky's address (RFC 1350 transfer id).
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await client.SendToAsync(Encoding.ASCII.GetBytes("\0\u0001startup-config\0octet\0"), new IPEndPoint(decky.Address, port));
        var buffer = new byte[2048];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = await client.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
        var from = (IPEndPoint)received.RemoteEndPoint;
        Assert.Equal(decky.Address, from.Address);
        Assert.NotEqual(port, from.Port);
        Assert.Equal(new byte[] { 0, 3, 0, 1 }, buffer[..4]);
        Assert.Equal(516, received.ReceivedBytes);
    }

    [Fact]
    public async Task More_than_four_transfers_from_one_address_are_refused_as_busy()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new TftpHoneypotFactory());
        var server = new IPEndPoint(decky.Address, Port(hosted));
        var sockets = Enumerable.Range(0, 5).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)).ToList();
        try
        {
            // Four transfers that never acknowledge hold their slots while the server retransmits.
            foreach (var socket in sockets)
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                await socket.SendToAsync(Encoding.ASCII.GetBytes("\0\u0001running-config\0octet\0"), server);
                await decky.Sink.WaitForAsync("request", e => e.Field("src_port") == ((IPEndPoint)socket.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            var buffer = new byte[512];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var last = await sockets[^1].ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
            Assert.Equal(server, (IPEndPoint)last.RemoteEndPoint);
            Assert.Equal("\0\u0005\0\0Server busy\0", Encoding.ASCII.GetString(buffer, 0, last.ReceivedBytes));
            await decky.Sink.WaitForAsync("transfer_refused");
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Garbage_and_mutated_requests_fault_nothing_and_tftp_still_gets_files()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new TftpHoneypotFactory());
        var server = new IPEndPoint(decky.Address, Port(hosted));
        var random = new Random(69);
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            byte[][] mutated =
            [
                [0, 1],
                [0, 1, (byte)'a'],
                Encoding.ASCII.GetBytes("\0\u0002x\0octet\0blksize\0-7\0tsize\0999999999999999999999\0"),
                Encoding.ASCII.GetBytes("\0\u0001" + new string('A', 4000) + "\0octet\0"),
                Encoding.ASCII.GetBytes("\0\u0001f\0octet\0" + string.Concat(Enumerable.Repeat("x\0y\0", 200))),
                Encoding.ASCII.GetBytes("\0\u0001f\0morse\0"),
                [0, 3, 0, 1, 1, 2, 3],
                [0, 4, 0, 9],
                [0, 6],
                [0xff, 0xff, 0, 0],
            ];
            foreach (var packet in mutated)
            {
                await socket.SendToAsync(packet, server);
            }
            for (var i = 0; i < 50; i++)
            {
                var junk = new byte[random.Next(1, 1500)];
                random.NextBytes(junk);
                await socket.SendToAsync(junk, server);
            }
        }

        var target = Path.Combine(decky.Root, "startup-config");
        var get = await Tftp(decky, Port(hosted), "get", "startup-config", target);
        Assert.True(get.ExitCode == 0 && File.Exists(target), get.StdOut + get.StdErr);
        await decky.Sink.WaitForAsync("unknown_opcode");
        WireBounty.AssertNoFaults(decky);
        Assert.DoesNotContain(decky.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
    }
}
