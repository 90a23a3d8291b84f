using System.Net;
using System.Net.Sockets;
using System.Text;
using Decnet.Core.Honeypots.Admission;
using Decnet.Core.Honeypots.Ftp;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Decnet.Tests.Honeypots.Admission;

/// <summary>
/// The host-wide admission service over its real Unix socket: counts shared by every connection (every
/// service container), leases that die with their connection, and bounds on lines, leases and connections.
/// </summary>
[Trait("Category", "Integration")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AdmissionServerTests : IDisposable
{
    private readonly TempDirectory _folder = new("dnt-adm");

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string SocketPath => Path.Combine(_folder.Path, "admission", AdmissionProtocol.SocketFileName);

    public void Dispose() => _folder.Dispose();

    private AdmissionServer Start(SessionAdmissionOptions options, AdmissionServerLimits? limits = null)
    {
        var server = new AdmissionServer(SocketPath, new SessionAdmission(options), NullLogger.Instance, limits);
        server.Start();
        return server;
    }

    /// <summary>A raw protocol client, as a service container's honeypot host would be.</summary>
    private sealed class RawClient : IDisposable
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;
        private readonly LineReader _reader;

        public RawClient(string path)
        {
            _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _socket.Connect(new UnixDomainSocketEndPoint(path));
            _stream = new NetworkStream(_socket, ownsSocket: true);
            _reader = new LineReader(_stream, 1024, Encoding.ASCII);
        }

        public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes, Token);

        public async Task<string?> ReplyAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                var line = await _reader.ReadLineAsync(timeout.Token);
                return line.IsLine ? line.Text : null;
            }
            catch (IOException)
            {
                return null;
            }
        }

        /// <summary>The server's reply, or null when it has closed the connection (seen on the write, a broken pipe, or on the read).</summary>
        public async Task<string?> AskAsync(string request)
        {
            try
            {
                await SendAsync(Encoding.ASCII.GetBytes(request + "\n"));
            }
            catch (IOException)
            {
                return null;
            }
            return await ReplyAsync();
        }

        public void Dispose() => _stream.Dispose();
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Token);
        }
        Assert.True(condition(), what);
    }

    [Fact]
    public async Task Counts_are_shared_by_every_connection_and_each_refusal_names_the_full_bound()
    {
        await using var server = Start(new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 2, MaxSessionsPerSourcePerHost = 3, MaxSessionsPerDecky = 100, MaxSessionsPerHost = 100 });
        using var ftpContainer = new RawClient(SocketPath);
        using var redisContainer = new RawClient(SocketPath);
        using var otherDecky = new RawClient(SocketPath);

        Assert.Equal("OK 1", await ftpContainer.AskAsync("ACQUIRE web1 198.51.100.7"));
        Assert.Equal("OK 1", await redisContainer.AskAsync("ACQUIRE web1 198.51.100.7"));
        // Two containers of one decky, one count: the third session of the address is refused.
        Assert.Equal("REFUSED source_per_decky", await ftpContainer.AskAsync("ACQUIRE web1 198.51.100.7"));
        Assert.Equal("OK 1", await otherDecky.AskAsync("ACQUIRE db1 198.51.100.7"));
        Assert.Equal("REFUSED source_per_host", await otherDecky.AskAsync("ACQUIRE db1 198.51.100.7"));
        Assert.Equal("OK 2", await otherDecky.AskAsync("ACQUIRE db1 198.51.100.8"));
        Assert.Equal(4, server.Admission.Active);

        Assert.Equal("OK", await redisContainer.AskAsync("RELEASE 1"));
        Assert.Equal("ERR unknown lease", await redisContainer.AskAsync("RELEASE 1"));
        Assert.Equal("OK 2", await ftpContainer.AskAsync("ACQUIRE web1 198.51.100.7"));
    }

    [Fact]
    public async Task A_connection_that_ends_gives_back_every_lease_it_held()
    {
        await using var server = Start(new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 5, MaxSessionsPerSourcePerHost = 5, MaxSessionsPerDecky = 100, MaxSessionsPerHost = 100 });
        using (var dying = new RawClient(SocketPath))
        {
            for (var i = 1; i <= 5; i++)
            {
                Assert.Equal($"OK {i}", await dying.AskAsync("ACQUIRE web1 198.51.100.7"));
            }
            Assert.Equal("REFUSED source_per_host", await dying.AskAsync("ACQUIRE web1 198.51.100.7"));
        }

        await WaitUntilAsync(() => server.Admission.Active == 0, "the leases of the closed connection were not released");
        await WaitUntilAsync(() => server.Connections == 0, "the closed connection is still counted");
        using var next = new RawClient(SocketPath);
        Assert.Equal("OK 1", await next.AskAsync("ACQUIRE web1 198.51.100.7"));
    }

    [Fact]
    public async Task Garbage_lines_get_an_error_and_the_connection_keeps_working()
    {
        await using var server = Start(new SessionAdmissionOptions());
        using var client = new RawClient(SocketPath);
        string[] garbage =
        [
            "HELLO",
            "ACQUIRE",
            "ACQUIRE web1",
            "ACQUIRE web1 not-an-address",
            "ACQUIRE ../../etc 198.51.100.7",
            "ACQUIRE " + new string('a', 64) + " 198.51.100.7",
            "ACQUIRE web1 198.51.100.7 extra",
            "acquire web1 198.51.100.7",
            "RELEASE",
            "RELEASE -1",
            "RELEASE 99999999999999999999999",
            "RELEASE 7",
            "",
        ];
        foreach (var line in garbage)
        {
            var reply = await client.AskAsync(line);
            Assert.True(reply?.StartsWith("ERR ", StringComparison.Ordinal) == true, $"'{line}' was answered '{reply}'");
        }
        await client.SendAsync([0xff, 0x00, 0xc3, 0x28, (byte)'\r', (byte)'\n']);
        Assert.StartsWith("ERR ", await client.ReplyAsync(), StringComparison.Ordinal);

        Assert.Equal(0, server.Admission.Active);
        Assert.Equal("OK 1", await client.AskAsync("ACQUIRE web1 2001:db8::1"));
        Assert.Equal(1, server.Admission.Active);
    }

    [Fact]
    public async Task An_over_long_line_ends_the_connection_without_buffering_it_and_others_are_served()
    {
        await using var server = Start(new SessionAdmissionOptions());
        using var flooder = new RawClient(SocketPath);
        Assert.Equal("OK 1", await flooder.AskAsync("ACQUIRE web1 198.51.100.7"));
        // A megabyte without a line feed: the server keeps at most one line's worth and hangs up.
        var endless = new byte[1024 * 1024];
        endless.AsSpan().Fill((byte)'A');
        try
        {
            await flooder.SendAsync(endless);
        }
        catch (IOException)
        {
            // The server may close before the whole megabyte was written.
        }
        Assert.Equal("ERR line too long", await flooder.ReplyAsync());
        Assert.Null(await flooder.ReplyAsync());
        await WaitUntilAsync(() => server.Admission.Active == 0, "the cut connection kept its lease");

        using var other = new RawClient(SocketPath);
        Assert.Equal("OK 1", await other.AskAsync("ACQUIRE web1 198.51.100.7"));
    }

    [Fact]
    public async Task One_connection_holds_at_most_its_lease_cap_and_the_server_at_most_its_connection_cap()
    {
        await using var server = Start(
            new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 100, MaxSessionsPerSourcePerHost = 100, MaxSessionsPerDecky = 100, MaxSessionsPerHost = 100 },
            new AdmissionServerLimits { MaxConnections = 2, MaxLeasesPerConnection = 3 });
        using var first = new RawClient(SocketPath);
        using var second = new RawClient(SocketPath);
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal($"OK {i}", await first.AskAsync($"ACQUIRE web1 198.51.100.{i}"));
        }
        Assert.Equal("REFUSED connection", await first.AskAsync("ACQUIRE web1 198.51.100.9"));
        Assert.Equal("OK 1", await second.AskAsync("ACQUIRE web1 198.51.100.9"));

        // A third connection is closed at once; the two others keep working.
        using var third = new RawClient(SocketPath);
        Assert.Null(await third.AskAsync("ACQUIRE web1 198.51.100.10"));
        Assert.Equal(2, server.Connections);
        Assert.Equal("OK", await first.AskAsync("RELEASE 2"));
        Assert.Equal("OK 4", await first.AskAsync("ACQUIRE web1 198.51.100.9"));
    }

    [Fact]
    public async Task The_socket_and_its_folder_are_owner_only_and_a_stale_socket_is_replaced()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(SocketPath)!);
        await File.WriteAllTextAsync(SocketPath, "stale", Token);
        await using var server = Start(new SessionAdmissionOptions());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SocketPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(SocketPath)!));
        using var client = new RawClient(SocketPath);
        Assert.Equal("OK 1", await client.AskAsync("ACQUIRE web1 198.51.100.7"));
    }

    [Fact]
    public void A_socket_path_longer_than_a_unix_address_is_refused_with_the_path()
    {
        var path = "/tmp/" + new string('x', 120) + "/admission.sock";
        var error = Assert.Throws<ArgumentException>(() => new AdmissionServer(path, new SessionAdmission(new SessionAdmissionOptions()), NullLogger.Instance));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_container_client_admits_through_the_server_and_falls_back_to_its_own_counts_while_it_is_gone()
    {
        var local = new SessionAdmission(new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 1, MaxSessionsPerSourcePerHost = 1, MaxSessionsPerDecky = 10, MaxSessionsPerHost = 10 });
        var logs = new RecordingLoggerProvider();
        await using var client = new SharedSessionAdmission(SocketPath, local, logs.CreateLogger("admission")) { RetryInterval = TimeSpan.Zero };
        var attacker = IPAddress.Parse("198.51.100.7");

        // No socket yet: the container's own bound (1) decides, and says so once.
        var first = await client.AdmitAsync("web1", attacker, Token);
        Assert.True(first.Admitted);
        Assert.Equal(AdmissionRefusal.SourcePerHost, (await client.AdmitAsync("web1", attacker, Token)).Refusal);
        Assert.Single(logs.Entries, e => e.Message.Contains("unreachable", StringComparison.Ordinal));
        first.Lease!.Dispose();
        Assert.Equal(0, local.Active);

        await using (var server = Start(new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 3, MaxSessionsPerSourcePerHost = 3, MaxSessionsPerDecky = 10, MaxSessionsPerHost = 10 }))
        {
            // The shared bound (3) applies now, counted by the server, not locally.
            var held = new List<SessionAdmit>();
            for (var i = 0; i < 3; i++)
            {
                held.Add(await client.AdmitAsync("web1", attacker, Token));
            }
            Assert.All(held, a => Assert.True(a.Admitted));
            Assert.True(client.Shared);
            Assert.Equal(3, server.Admission.Active);
            Assert.Equal(0, local.Active);
            Assert.Equal(AdmissionRefusal.SourcePerHost, (await client.AdmitAsync("web1", attacker, Token)).Refusal);
            Assert.Contains(logs.Entries, e => e.Message.Contains("is back", StringComparison.Ordinal));

            foreach (var admit in held)
            {
                admit.Lease!.Dispose();
                admit.Lease.Dispose();
            }
            await WaitUntilAsync(() => server.Admission.Active == 0, "disposed leases were not released on the server");
        }

        // The server went away: the next admission falls back again and the decky keeps serving.
        Assert.True((await client.AdmitAsync("web1", attacker, Token)).Admitted);
        Assert.Equal(1, local.Active);
        Assert.False(client.Shared);
    }

    [Fact]
    public async Task Two_hosts_sharing_one_server_hold_one_address_to_one_decky_share_across_their_listeners()
    {
        await using var server = Start(new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 6, MaxSessionsPerSourcePerHost = 6, MaxSessionsPerDecky = 100, MaxSessionsPerHost = 100 });
        // Two honeypot hosts, as two service containers of one decky would be, each with a generous local bound.
        await using var first = TestDecky.Create();
        await using var second = TestDecky.Create();
        var local = new SessionAdmissionOptions { MaxSessionsPerSourcePerDecky = 100, MaxSessionsPerSourcePerHost = 100, MaxSessionsPerDecky = 100, MaxSessionsPerHost = 100 };
        await using var firstAdmission = new SharedSessionAdmission(SocketPath, new SessionAdmission(local), NullLogger.Instance);
        await using var secondAdmission = new SharedSessionAdmission(SocketPath, new SessionAdmission(local), NullLogger.Instance);
        await using var firstHost = new ServiceHost(NullLoggerFactory.Instance, new ServiceHostOptions { Admission = local, Admitter = firstAdmission });
        await using var secondHost = new ServiceHost(NullLoggerFactory.Instance, new ServiceHostOptions { Admission = local, Admitter = secondAdmission });
        var ftp = new FtpHoneypotFactory();
        var a = await firstHost.StartDeckyAsync("web1", [new HostedServiceBinding("ftp", ftp.Create(first.Context()), first.Address, [new ServicePort(21)])], Token);
        var b = await secondHost.StartDeckyAsync("web1", [new HostedServiceBinding("ftp", ftp.Create(second.Context()), second.Address, [new ServicePort(21)])], Token);
        var attacker = TestDecky.NextAddress();

        var flood = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => BannerAsync(attacker, i % 2 == 0 ? a.EndPointOf("ftp", 21) : b.EndPointOf("ftp", 21))));
        try
        {
            Assert.Equal(6, flood.Count(c => c.Served));
            var bystander = await BannerAsync(TestDecky.NextAddress(), b.EndPointOf("ftp", 21));
            Assert.True(bystander.Served);
            bystander.Socket.Dispose();
        }
        finally
        {
            foreach (var (socket, _) in flood)
            {
                socket.Dispose();
            }
        }
        await WaitUntilAsync(() => server.Admission.Active == 0, "the ended sessions kept their leases");
        var again = await BannerAsync(attacker, a.EndPointOf("ftp", 21));
        Assert.True(again.Served);
        again.Socket.Dispose();
    }

    private static async Task<(Socket Socket, bool Served)> BannerAsync(IPAddress source, IPEndPoint target)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(source, 0));
        try
        {
            await socket.ConnectAsync(target, Token);
            var buffer = new byte[3];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return (socket, read == 3 && buffer.AsSpan().SequenceEqual("220"u8));
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return (socket, false);
        }
    }
}
