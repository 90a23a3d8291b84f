using System.Net;
using System.Net.Sockets;
using System.Text;
using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.Logging;

namespace Decnet.Tests.Honeypots.Hosting;

/// <summary>Echoes lines back; "boom" makes it throw, so tests can prove faults stay in their session.</summary>
internal sealed class EchoService(ServiceContext context) : IHoneypotService
{
    public ServiceContext Context { get; } = context;

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var reader = connection.CreateLineReader();
        await connection.Stream.WriteAsync("hello\n"u8.ToArray(), cancellationToken);
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellationToken);
            if (line.Status == LineStatus.EndOfStream)
            {
                return;
            }
            if (line.Text == "boom")
            {
                throw new InvalidOperationException("service bug");
            }
            connection.Emit("line", ("text", line.Text));
            await connection.Stream.WriteAsync(Encoding.UTF8.GetBytes(line.Text + "\n"), cancellationToken);
        }
    }

    public ValueTask<ReadOnlyMemory<byte>?> HandleDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, IPEndPoint local, CancellationToken cancellationToken) =>
        ValueTask.FromResult<ReadOnlyMemory<byte>?>(datagram.ToArray().Reverse().ToArray());
}

/// <summary>Reads one line, waits for the test's go, then answers with a long reply and ends the session.</summary>
internal sealed class LastWordService(ServiceContext context, int replyBytes) : IHoneypotService
{
    public ServiceContext Context { get; } = context;

    public TaskCompletionSource LineRead { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        await connection.CreateLineReader().ReadLineAsync(cancellationToken);
        LineRead.SetResult();
        await Answer.Task.WaitAsync(cancellationToken);
        await connection.Stream.WriteAsync(new byte[replyBytes], cancellationToken);
    }
}

public sealed class ServiceHostTests
{
    private static async Task<(TcpClient Client, StreamReader Reader, StreamWriter Writer)> ConnectAsync(IPEndPoint endPoint)
    {
        var client = new TcpClient(endPoint.AddressFamily);
        await client.ConnectAsync(endPoint);
        var stream = client.GetStream();
        var reader = new StreamReader(stream, Encoding.UTF8);
        var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        return (client, reader, writer);
    }

    private static HostedServiceBinding Echo(TestDecky decky, SessionLimits? limits = null, int port = 7007, ServiceTransport transport = ServiceTransport.Tcp) =>
        new("echo", new EchoService(decky.Context(limits: limits)), decky.Address, [new ServicePort(port, transport)]);

    [Fact]
    [Trait("Category", "Unit")]
    public async Task Sessions_emit_connect_and_disconnect_with_reason_and_byte_counts()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(Echo(decky));
        var (client, reader, writer) = await ConnectAsync(hosted.EndPointOf("echo", 7007));
        var clientEndPoint = (IPEndPoint)client.Client.LocalEndPoint!;
        using (client)
        {
            Assert.Equal("hello", await reader.ReadLineAsync());
            await writer.WriteLineAsync("ping");
            Assert.Equal("ping", await reader.ReadLineAsync());
        }
        var disconnect = await decky.Sink.WaitForAsync("disconnect");
        Assert.Equal("closed", disconnect.Field("reason"));
        Assert.Equal("5", disconnect.Field("bytes_in"));
        Assert.Equal(clientEndPoint.Address.ToString(), disconnect.Field("src_ip"));
        Assert.Equal(clientEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), disconnect.Field("src_port"));
        var connect = Assert.Single(decky.Sink.OfType("connect"));
        Assert.Equal("7007", connect.Field("dst_port"));
        Assert.Equal(decky.Name, connect.Decky);
        Assert.Equal("echo", connect.Service);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task A_session_ending_with_unread_attacker_bytes_still_delivers_its_whole_last_reply()
    {
        // Closing a socket with unread received bytes makes the kernel reset the connection and throw away
        // whatever of the reply it had not sent yet; the host drops those bytes first so the close is a FIN.
        // A client with a tiny receive window (a slow reader) leaves most of the reply queued on our side.
        const int replyBytes = 12 * 1024;
        await using var decky = TestDecky.Create();
        var service = new LastWordService(decky.Context(), replyBytes);
        var hosted = await decky.StartAsync(new HostedServiceBinding("lastword", service, decky.Address, [new ServicePort(7010)]));
        using var client = new TcpClient(AddressFamily.InterNetwork) { ReceiveBufferSize = 1 };
        await client.ConnectAsync(hosted.EndPointOf("lastword", 7010));
        var stream = client.GetStream();

        await stream.WriteAsync("QUIT\r\n"u8.ToArray());
        await service.LineRead.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // Bytes the service never reads, like the rest of a scanner's probe.
        await stream.WriteAsync(Encoding.ASCII.GetBytes(new string('x', 2000) + "\r\n"));
        service.Answer.SetResult();
        var disconnect = await decky.Sink.WaitForAsync("disconnect");
        // The socket is closed right after the disconnect event; only then does the client start reading.
        await Task.Delay(TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken);

        var received = 0L;
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            received += read;
        }
        Assert.Equal(replyBytes, received);
        Assert.Equal("closed", disconnect.Field("reason"));
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task Connections_beyond_the_concurrency_limit_are_closed_at_once_and_counted()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(Echo(decky, new SessionLimits { MaxConcurrentSessions = 2 }));
        var endPoint = hosted.EndPointOf("echo", 7007);
        var first = await ConnectAsync(endPoint);
        var second = await ConnectAsync(endPoint);
        Assert.Equal("hello", await first.Reader.ReadLineAsync());
        Assert.Equal("hello", await second.Reader.ReadLineAsync());

        // The reset can land before or after the client's connect completes: both mean "rejected".
        using var third = new TcpClient();
        var read = 0;
        try
        {
            await third.ConnectAsync(endPoint);
            read = await third.GetStream().ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            read = 0;
        }
        Assert.Equal(0, read);
        var stats = Assert.Single(hosted.Statistics());
        Assert.Equal(1, stats.RejectedSessions);
        Assert.Equal(2, stats.ActiveSessions);

        // A slot freed by a closing session is usable again.
        first.Client.Dispose();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (hosted.Statistics()[0].ActiveSessions > 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        var fourth = await ConnectAsync(endPoint);
        Assert.Equal("hello", await fourth.Reader.ReadLineAsync());
        second.Client.Dispose();
        fourth.Client.Dispose();
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task An_idle_session_is_cut_at_the_idle_timeout()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(Echo(decky, new SessionLimits { IdleTimeout = TimeSpan.FromMilliseconds(300) }));
        var (client, reader, _) = await ConnectAsync(hosted.EndPointOf("echo", 7007));
        using (client)
        {
            Assert.Equal("hello", await reader.ReadLineAsync());
            var disconnect = await decky.Sink.WaitForAsync("disconnect", timeout: TimeSpan.FromSeconds(5));
            Assert.Equal("idle_timeout", disconnect.Field("reason"));
            Assert.Null(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(5)));
        }
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task Activity_keeps_a_session_alive_until_the_maximum_duration()
    {
        await using var decky = TestDecky.Create();
        // Wide margins so a loaded machine cannot stretch a pause past the idle timeout.
        var limits = new SessionLimits { IdleTimeout = TimeSpan.FromMilliseconds(1500), MaxSessionDuration = TimeSpan.FromSeconds(6) };
        var hosted = await decky.StartAsync(Echo(decky, limits));
        var (client, reader, writer) = await ConnectAsync(hosted.EndPointOf("echo", 7007));
        using (client)
        {
            Assert.Equal("hello", await reader.ReadLineAsync());
            // Keep talking, well past the idle timeout, until the host ends the session.
            var talking = System.Diagnostics.Stopwatch.StartNew();
            var echoes = 0;
            while (talking.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(200);
                try
                {
                    await writer.WriteLineAsync("still here");
                    if (await reader.ReadLineAsync() != "still here")
                    {
                        break;
                    }
                    echoes++;
                }
                catch (IOException)
                {
                    break;
                }
            }
            Assert.True(echoes > 10, $"only {echoes} echoes before the cut");
            var disconnect = await decky.Sink.WaitForAsync("disconnect", timeout: TimeSpan.FromSeconds(15));
            Assert.Equal("max_duration", disconnect.Field("reason"));
        }
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task A_session_that_sends_more_than_the_byte_cap_is_cut()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(Echo(decky, new SessionLimits { MaxBytesPerSession = 4096 }));
        var (client, reader, _) = await ConnectAsync(hosted.EndPointOf("echo", 7007));
        using (client)
        {
            Assert.Equal("hello", await reader.ReadLineAsync());
            var payload = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("0123456789abcde\n", 1024)));
            try
            {
                await client.GetStream().WriteAsync(payload);
            }
            catch (IOException)
            {
                // The host may reset the connection while the payload is still in flight.
            }
            var disconnect = await decky.Sink.WaitForAsync("disconnect", timeout: TimeSpan.FromSeconds(5));
            Assert.Equal("byte_cap", disconnect.Field("reason"));
            Assert.Equal("4096", disconnect.Field("bytes_in"));
        }
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task A_faulting_session_is_logged_and_the_listener_keeps_serving()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(Echo(decky));
        var endPoint = hosted.EndPointOf("echo", 7007);
        var (client, reader, writer) = await ConnectAsync(endPoint);
        using (client)
        {
            Assert.Equal("hello", await reader.ReadLineAsync());
            await writer.WriteLineAsync("boom");
            var disconnect = await decky.Sink.WaitForAsync("disconnect");
            Assert.Equal("fault", disconnect.Field("reason"));
        }
        Assert.Contains(decky.Logs.Entries, e => e.Level == LogLevel.Warning && e.Exception is InvalidOperationException);

        var again = await ConnectAsync(endPoint);
        using (again.Client)
        {
            Assert.Equal("hello", await again.Reader.ReadLineAsync());
        }
        Assert.Equal(1, Assert.Single(hosted.Statistics()).FaultedSessions);
        // The check the garbage tests end with catches exactly this.
        var check = await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(decky.AssertNoSessionFaultsAsync);
        Assert.Contains("service bug", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task An_attacker_resetting_mid_conversation_ends_the_session_as_closed_not_as_a_fault()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(Echo(decky));
        var endPoint = hosted.EndPointOf("echo", 7007);
        for (var i = 0; i < 20; i++)
        {
            using var client = new TcpClient(endPoint.AddressFamily);
            await client.ConnectAsync(endPoint);
            // Lines the service echoes into a connection that is reset at once (RST, nothing read).
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("ping\n", 2000))));
            client.Client.LingerState = new LingerOption(true, 0);
        }

        await decky.AssertNoSessionFaultsAsync();
        var disconnects = await WaitForCountAsync(decky, "disconnect", 20);
        Assert.All(disconnects, d => Assert.Equal("closed", d.Field("reason")));
        Assert.Equal(20, Assert.Single(hosted.Statistics()).AcceptedSessions);
    }

    private static async Task<IReadOnlyList<Decnet.Core.Honeypots.Events.HoneypotEvent>> WaitForCountAsync(TestDecky decky, string eventType, int count)
    {
        for (var attempt = 0; attempt < 200 && decky.Sink.OfType(eventType).Count < count; attempt++)
        {
            await Task.Delay(50);
        }
        var events = decky.Sink.OfType(eventType);
        Assert.Equal(count, events.Count);
        return events;
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task A_port_already_in_use_is_reported_per_port_and_the_other_ports_still_serve()
    {
        await using var decky = TestDecky.Create();
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(decky.Address, 7022));
        squatter.Listen();

        var host = new ServiceHost(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        await using var _ = host;
        var binding = new HostedServiceBinding("echo", new EchoService(decky.Context()), decky.Address, [new ServicePort(7022), new ServicePort(7023)]);
        var hosted = await host.StartDeckyAsync(decky.Name, [binding]);

        Assert.False(hosted.AllBound);
        var failed = hosted.Bindings.Single(b => !b.Succeeded);
        Assert.Equal(PortBindStatus.AddressInUse, failed.Status);
        Assert.Equal($"{decky.Address}:7022 address in use", failed.ToString());
        var (client, reader, _) = await ConnectAsync(hosted.EndPointOf("echo", 7023));
        using (client)
        {
            Assert.Equal("hello", await reader.ReadLineAsync());
        }
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task The_privileged_port_offset_moves_low_ports_and_reports_the_real_port()
    {
        await using var decky = TestDecky.Create();
        var host = new ServiceHost(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, new ServiceHostOptions { PrivilegedPortOffset = 20000 });
        await using var _ = host;
        var binding = new HostedServiceBinding("echo", new EchoService(decky.Context()), decky.Address, [new ServicePort(21), new ServicePort(2121)]);
        var hosted = await host.StartDeckyAsync(decky.Name, [binding]);

        var low = hosted.Bindings.Single(b => b.Requested.Port == 21);
        Assert.Equal(20021, low.ActualPort);
        Assert.Equal($"{decky.Address}:21 bound (as 20021)", low.ToString());
        Assert.Equal(2121, hosted.Bindings.Single(b => b.Requested.Port == 2121).ActualPort);
        var (client, reader, _) = await ConnectAsync(hosted.EndPointOf("echo", 21));
        using (client)
        {
            Assert.Equal("hello", await reader.ReadLineAsync());
        }
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task Stopping_a_decky_cuts_its_sessions_and_frees_its_ports()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(Echo(decky));
        var endPoint = hosted.EndPointOf("echo", 7007);
        var (client, reader, _) = await ConnectAsync(endPoint);
        using (client)
        {
            Assert.Equal("hello", await reader.ReadLineAsync());
            Assert.True(await decky.Host.StopDeckyAsync(decky.Name));
            var disconnect = await decky.Sink.WaitForAsync("disconnect");
            Assert.Equal("host_stopped", disconnect.Field("reason"));
        }
        using var probe = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync(endPoint));

        var again = await decky.Host.StartDeckyAsync(decky.Name, [Echo(decky)]);
        Assert.True(again.AllBound);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task Datagram_services_answer_each_datagram()
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(Echo(decky, port: 7161, transport: ServiceTransport.Udp));
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        await udp.SendAsync("abc"u8.ToArray(), hosted.EndPointOf("echo", 7161, ServiceTransport.Udp));
        var reply = await udp.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("cba", Encoding.ASCII.GetString(reply.Buffer));
    }
}
