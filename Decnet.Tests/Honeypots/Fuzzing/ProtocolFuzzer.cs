using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using CsCheck;
using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.Logging;

namespace Decnet.Tests.Honeypots.Fuzzing;

/// <summary>
/// A fuzz campaign against one real listener (the production <see cref="ServiceHost"/> on a loopback
/// decky), in three phases:
/// <list type="number">
/// <item>Property: CsCheck generates sessions from the protocol's valid frames (valid prefixes, then
/// mutated, reordered, random and oversized frames, written whole or dribbled, ended by close, reset or
/// linger). After each one the session must have ended (no session outlives its client by more than a
/// few seconds) and none may have faulted. A failure is shrunk to a minimal session and printed with
/// its seed.</item>
/// <item>Memory: <see cref="FuzzProtocol.HeldSessions"/> connections each send
/// <see cref="FuzzProtocol.HeldSessionBytes"/> that never finish a message and stay open; the managed
/// heap they keep alive must stay under <see cref="FuzzProtocol.RetainedBytesPerSession"/> each, and
/// drop back when they close.</item>
/// <item>Service: the protocol's real client is still served.</item>
/// </list>
/// No session may fault at any point, and the host logs no exception.
/// </summary>
public static class ProtocolFuzzer
{
    private static readonly TimeSpan SessionEndDeadline = TimeSpan.FromSeconds(15);

    public static async Task<FuzzReport> RunAsync(FuzzProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        await using var decky = TestDecky.Create();
        var port = protocol.Port ?? protocol.Factory.DefaultPorts[0].Port;
        var hosted = await decky.StartAsync(protocol.Factory, protocol.Persona, ports: [new ServicePort(port)]);
        var target = new FuzzTarget(decky, hosted.EndPointOf(protocol.Name, port));
        var output = TestContext.Current.TestOutputHelper;

        // Phase 1: random sessions, one at a time, each checked as it ends.
        var sessions = 0;
        long bytes = 0;
        var source = TestDecky.NextAddress();
        await FuzzFrames.SessionGen(protocol).SampleAsync(async session =>
        {
            var faultsBefore = Faulted(decky);
            await RunSessionAsync(protocol, target, source, session);
            await WaitForNoSessionsAsync(decky, $"after the session\n{session}");
            var faults = Faulted(decky) - faultsBefore;
            if (faults > 0 || Exceptions(decky).Count > 0)
            {
                throw new InvalidOperationException($"{faults} session(s) faulted: {string.Join("\n", Exceptions(decky).Take(2))}\nSession: {session}");
            }
            sessions++;
            bytes += session.Bytes;
        }, writeLine: output is null ? null : output.WriteLine, iter: protocol.Sessions, threads: 1, print: s => s.ToString());

        // Phase 2: connections that hold unfinished messages, measured on the managed heap. The test's
        // sink keeps every event; in production they are written out, so it is emptied before measuring.
        decky.Sink.Clear();
        var baseline = RetainedBytes();
        var held = await HoldSessionsAsync(protocol, target);
        long retained;
        try
        {
            await WaitForActiveAsync(decky, held.Count);
            // Give the service time to read (and buffer, if it does) everything that was sent.
            await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
            decky.Sink.Clear();
            retained = RetainedBytes() - baseline;
        }
        finally
        {
            foreach (var connection in held)
            {
                connection.Dispose();
            }
        }
        await WaitForNoSessionsAsync(decky, "after the held connections closed");
        decky.Sink.Clear();
        var afterwards = RetainedBytes() - baseline;
        var perSession = retained / held.Count;
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[fuzz] {protocol.Name}: {sessions} sessions, {bytes:N0} bytes; {held.Count} held sessions of {protocol.HeldSessionBytes:N0} bytes kept {retained:N0} bytes ({perSession:N0} each), {afterwards:N0} after they closed"));
        Assert.True(perSession <= protocol.RetainedBytesPerSession,
            $"{protocol.Name}: each held session kept {perSession:N0} bytes alive, over the {protocol.RetainedBytesPerSession:N0} allowed");
        Assert.True(afterwards <= 16 * 1024 * 1024, $"{protocol.Name}: {afterwards:N0} bytes still alive after every fuzz session closed");

        // Phase 3: the listener still serves a real client.
        await protocol.RealClient(target);

        Assert.Equal(0, Faulted(decky));
        Assert.Empty(Exceptions(decky));
        return new FuzzReport(sessions, bytes, perSession);
    }

    private static long Faulted(TestDecky decky) => decky.Hosted.Statistics().Sum(s => s.FaultedSessions);

    private static IReadOnlyList<string> Exceptions(TestDecky decky) =>
        [.. decky.Logs.Entries.Where(e => e.Level >= LogLevel.Warning && e.Exception is not null).Select(e => $"{e.Message}: {e.Exception}")];

    private static async Task WaitForNoSessionsAsync(TestDecky decky, string when)
    {
        var deadline = DateTime.UtcNow + SessionEndDeadline;
        while (decky.Hosted.Statistics().Sum(s => s.ActiveSessions) > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"a session was still open {SessionEndDeadline.TotalSeconds} s {when}");
            }
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    private static async Task WaitForActiveAsync(TestDecky decky, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (decky.Hosted.Statistics().Sum(s => s.ActiveSessions) < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The managed heap after full, compacting collections: what is really kept alive.</summary>
    private static long RetainedBytes()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task<Stream?> ConnectAsync(FuzzProtocol protocol, FuzzTarget target, IPAddress source, bool raw, List<IDisposable> owned, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        owned.Add(socket);
        socket.Bind(new IPEndPoint(source, 0));
        await socket.ConnectAsync(target.EndPoint, cancellationToken);
        var stream = new NetworkStream(socket, ownsSocket: false);
        owned.Add(stream);
        if (!protocol.Tls || raw)
        {
            return stream;
        }
        var tls = new SslStream(stream, leaveInnerStreamOpen: true);
        owned.Add(tls);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                // The decky's certificate is self-signed on purpose; the fuzzer is not checking it.
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            }, cancellationToken);
            return tls;
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
        {
            return null;
        }
    }

    private static async Task RunSessionAsync(FuzzProtocol protocol, FuzzTarget target, IPAddress source, FuzzSession session)
    {
        var owned = new List<IDisposable>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            var stream = await ConnectAsync(protocol, target, source, session.Raw, owned, timeout.Token);
            var socket = (Socket)owned[0];
            if (stream is null)
            {
                return;
            }
            var drain = DrainAsync(stream, timeout.Token);
            try
            {
                foreach (var step in session.Steps)
                {
                    if (session.Dribble)
                    {
                        for (var offset = 0; offset < step.Length; offset += 7)
                        {
                            await stream.WriteAsync(step.AsMemory(offset, Math.Min(7, step.Length - offset)), timeout.Token);
                            await stream.FlushAsync(timeout.Token);
                        }
                    }
                    else
                    {
                        await stream.WriteAsync(step, timeout.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // The service hung up on the input: a correct answer.
            }
            switch (session.End)
            {
                case SessionEnd.Close:
                    Shutdown(socket);
                    await Task.WhenAny(drain, Task.Delay(TimeSpan.FromSeconds(3), timeout.Token));
                    break;
                case SessionEnd.Linger:
                    await Task.WhenAny(drain, Task.Delay(TimeSpan.FromMilliseconds(300), timeout.Token));
                    break;
                default:
                    socket.LingerState = new LingerOption(true, 0);
                    break;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
            // Refused or cut by the service while connecting: also an answer.
        }
        finally
        {
            for (var i = owned.Count - 1; i >= 0; i--)
            {
                owned[i].Dispose();
            }
        }
    }

    private static void Shutdown(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // Already reset by the service.
        }
    }

    /// <summary>Reads and discards what the service answers, so it never blocks writing to us.</summary>
    private static async Task DrainAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (await stream.ReadAsync(buffer, cancellationToken) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
            // Reset or cut: nothing more to read.
        }
    }

    /// <summary>Opens the held connections: a valid prefix of varying depth, then bytes that never finish a message.</summary>
    private static async Task<List<HeldConnection>> HoldSessionsAsync(FuzzProtocol protocol, FuzzTarget target)
    {
        var perSource = new SessionAdmissionOptions().MaxSessionsPerSourcePerDecky / 2;
        var sources = Enumerable.Range(0, (protocol.HeldSessions + perSource - 1) / perSource).Select(_ => TestDecky.NextAddress()).ToList();
        var held = new List<HeldConnection>();
        for (var i = 0; i < protocol.HeldSessions; i++)
        {
            var connection = new HeldConnection();
            held.Add(connection);
            var stream = await ConnectAsync(protocol, target, sources[i / perSource], raw: false, connection.Owned, TestContext.Current.CancellationToken);
            if (stream is null)
            {
                continue;
            }
            connection.Drain = DrainAsync(stream, connection.Stop.Token);
            try
            {
                foreach (var frame in protocol.ValidFrames.Take(i % (protocol.ValidFrames.Count + 1)))
                {
                    await stream.WriteAsync(frame, TestContext.Current.CancellationToken);
                }
                var chunk = HeldFiller(i);
                for (var sent = 0; sent < protocol.HeldSessionBytes; sent += chunk.Length)
                {
                    using var slow = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
                    // A service that stops reading is fine (that is a bound too): stop sending to it.
                    slow.CancelAfter(TimeSpan.FromSeconds(2));
                    await stream.WriteAsync(chunk, slow.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                // Cut for the bytes, or not reading: both keep the session bounded.
            }
        }
        return held;
    }

    /// <summary>64 KiB that never end a message: one byte repeated, or (every fifth) 100-byte lines, which a message body would collect.</summary>
    private static byte[] HeldFiller(int index) => (index % 5) switch
    {
        0 => Enumerable.Repeat((byte)'A', 64 * 1024).ToArray(),
        1 => Enumerable.Repeat((byte)'0', 64 * 1024).ToArray(),
        2 => Enumerable.Repeat((byte)' ', 64 * 1024).ToArray(),
        3 => Enumerable.Repeat((byte)0xFF, 64 * 1024).ToArray(),
        _ => [.. Enumerable.Repeat(System.Text.Encoding.ASCII.GetBytes(new string('x', 98) + "\r\n"), 64 * 1024 / 100).SelectMany(l => l)],
    };

    private sealed class HeldConnection : IDisposable
    {
        public List<IDisposable> Owned { get; } = [];
        public CancellationTokenSource Stop { get; } = new();
        public Task Drain { get; set; } = Task.CompletedTask;

        public void Dispose()
        {
            Stop.Cancel();
            for (var i = Owned.Count - 1; i >= 0; i--)
            {
                Owned[i].Dispose();
            }
            Stop.Dispose();
        }
    }
}

/// <summary>What a campaign did: sessions sent, their bytes, and the heap each held session kept.</summary>
public sealed record FuzzReport(int Sessions, long Bytes, long RetainedBytesPerSession);
