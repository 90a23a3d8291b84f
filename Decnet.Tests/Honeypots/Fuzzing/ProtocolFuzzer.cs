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
/// <item>Memory: after each prefix of the valid conversation (0 to all frames),
/// <see cref="FuzzProtocol.HeldSessionsPerDepth"/> connections each send
/// <see cref="FuzzProtocol.HeldSessionBytes"/> that never finish a message (runs of one byte, or short
/// lines a message body would collect) and stay open. The managed heap is looked at after the first
/// 64 KiB and after the rest: what a session gained in between must stay under
/// <see cref="FuzzProtocol.GrowthBytesPerSession"/> (memory does not follow the attacker's bytes), what
/// it cost at all under <see cref="FuzzProtocol.FixedBytesPerSession"/>, and the heap must drop back
/// when they close.</item>
/// <item>Service: the protocol's real client is still served.</item>
/// </list>
/// No session may fault at any point, and the host logs no exception.
/// </summary>
public static class ProtocolFuzzer
{
    private static readonly TimeSpan SessionEndDeadline = TimeSpan.FromSeconds(15);

    /// <summary>The first filler chunk of a held session, before the first look at the heap.</summary>
    private const int HeldChunkBytes = 64 * 1024;

    public static async Task<FuzzReport> RunAsync(FuzzProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        await using var decky = TestDecky.Create();
        var port = protocol.Port ?? protocol.Factory.DefaultPorts[0].Port;
        var hosted = await decky.StartAsync(protocol.Factory, protocol.Persona, ports: [new ServicePort(port)]);
        var target = new FuzzTarget(decky, hosted.EndPointOf(protocol.Name, port));
        var output = TestContext.Current.TestOutputHelper;

        // Phase 1: random sessions, one at a time, each checked as it ends.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var sessions = 0;
        long bytes = 0;
        var source = TestDecky.NextAddress();
        await FuzzFrames.SessionGen(protocol).SampleAsync(async session =>
        {
            // Only what this session caused counts, so shrinking converges on an input that fails by itself.
            var faultsBefore = Faulted(decky);
            var exceptionsBefore = Exceptions(decky).Count;
            await RunSessionAsync(protocol, target, source, session);
            await WaitForNoSessionsAsync(decky, $"after the session\n{session}");
            var faults = Faulted(decky) - faultsBefore;
            var exceptions = Exceptions(decky).Skip(exceptionsBefore).ToList();
            if (faults > 0 || exceptions.Count > 0)
            {
                throw new InvalidOperationException($"{faults} session(s) faulted: {string.Join("\n", exceptions.Take(2))}\nSession: {session}");
            }
            sessions++;
            bytes += session.Bytes;
        }, writeLine: output is null ? null : output.WriteLine, iter: protocol.Sessions, threads: 1, print: s => s.ToString());

        // Phase 2: at every depth of the valid conversation, connections that hold unfinished messages,
        // measured on the managed heap twice: after the first filler chunk (the session's fixed cost and
        // warmed caches) and after all of it. What grows in between grew with the attacker's bytes. The
        // test's sink keeps every event; in production they are written out, so here they are counted
        // and dropped.
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[fuzz] {protocol.Name}: property phase {clock.Elapsed.TotalSeconds:0.0} s"));
        clock.Restart();
        decky.Sink.Clear();
        decky.Sink.Retain = false;
        var baseline = RetainedBytes();
        var worst = (Depth: 0, Growth: 0L, Fixed: 0L);
        for (var depth = 0; depth <= protocol.ValidFrames.Count; depth++)
        {
            var (growth, fixedCost) = await MeasureHeldSessionsAsync(protocol, target, decky, depth);
            if (growth > protocol.GrowthBytesPerSession || fixedCost > protocol.FixedBytesPerSession)
            {
                // The heap is the whole process's: a collection or a timer elsewhere can land between two looks.
                // A session that really keeps what its attacker sends does it again, so the depth is measured
                // once more with new sessions and the lower figures stand.
                output?.WriteLine($"[fuzz] {protocol.Name} depth {depth}: over the allowance, measured again");
                var again = await MeasureHeldSessionsAsync(protocol, target, decky, depth);
                growth = Math.Min(growth, again.Growth);
                fixedCost = Math.Min(fixedCost, again.Fixed);
            }
            if (growth >= worst.Growth)
            {
                worst = (depth, growth, Math.Max(worst.Fixed, fixedCost));
            }
            worst.Fixed = Math.Max(worst.Fixed, fixedCost);
            Assert.True(growth <= protocol.GrowthBytesPerSession, string.Create(CultureInfo.InvariantCulture,
                $"{protocol.Name}: after {depth} valid frames each held session grew by {growth:N0} bytes while its attacker sent {protocol.HeldSessionBytes - HeldChunkBytes:N0} more, over the {protocol.GrowthBytesPerSession:N0} allowed"));
            Assert.True(fixedCost <= protocol.FixedBytesPerSession, string.Create(CultureInfo.InvariantCulture,
                $"{protocol.Name}: after {depth} valid frames each held session cost {fixedCost:N0} bytes, over the {protocol.FixedBytesPerSession:N0} allowed"));
        }
        var afterwards = RetainedBytes() - baseline;
        decky.Sink.Retain = true;
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[fuzz] {protocol.Name}: memory phase {clock.Elapsed.TotalSeconds:0.0} s"));
        clock.Restart();
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[fuzz] {protocol.Name}: {sessions} sessions, {bytes:N0} bytes; {protocol.HeldSessionsPerDepth} sessions held at each of {protocol.ValidFrames.Count + 1} depths with {protocol.HeldSessionBytes:N0} bytes each: at most {worst.Growth:N0} bytes of growth per session (depth {worst.Depth}), at most {worst.Fixed:N0} bytes of fixed cost, {afterwards:N0} after all closed"));
        Assert.True(afterwards <= 16 * 1024 * 1024, $"{protocol.Name}: {afterwards:N0} bytes still alive after every fuzz session closed");

        // Phase 3: the listener still serves a real client.
        await protocol.RealClient(target);
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[fuzz] {protocol.Name}: real client {clock.Elapsed.TotalSeconds:0.0} s"));

        Assert.Equal(0, Faulted(decky));
        Assert.Empty(Exceptions(decky));
        return new FuzzReport(sessions, bytes, worst.Growth, worst.Fixed);
    }

    /// <summary>
    /// Holds <see cref="FuzzProtocol.HeldSessionsPerDepth"/> sessions at <paramref name="depth"/> and returns what
    /// each gained on the heap between the first filler chunk and the rest (growth), and what each cost up to
    /// the first chunk (fixed).
    /// </summary>
    private static async Task<(long Growth, long Fixed)> MeasureHeldSessionsAsync(FuzzProtocol protocol, FuzzTarget target, TestDecky decky, int depth)
    {
        var before = RetainedBytes();
        var handled = Handled(decky);
        var held = await HoldSessionsAsync(protocol, target, depth);
        long early;
        long late;
        int heldEarly;
        int heldLate;
        try
        {
            // Every connection accepted (or refused) by the host; the service may already have cut some.
            await WaitForHandledAsync(decky, handled + held.Count(c => c.Connected));
            await WaitForQuietAsync(held);
            early = await SettledRetainedBytesAsync();
            heldEarly = Active(decky);
            await FillHeldSessionsAsync(protocol, held);
            // The service is done with what was sent once it stops answering (an echoing shell answers every byte):
            // a session still working through its backlog holds buffers it is about to drop, which is not growth.
            await WaitForQuietAsync(held);
            late = await SettledRetainedBytesAsync();
            heldLate = Active(decky);
        }
        finally
        {
            foreach (var connection in held)
            {
                connection.Dispose();
            }
        }
        await WaitForNoSessionsAsync(decky, $"after the connections held at depth {depth} closed");
        // Per session the service still held: sessions it cut for their bytes cost nothing and are not counted.
        var growth = heldLate == 0 ? 0 : Math.Max(0, late - early) / heldLate;
        var fixedCost = heldEarly == 0 ? 0 : Math.Max(0, early - before) / heldEarly;
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[fuzz] {protocol.Name} depth {depth}: {heldEarly} of {held.Count} sessions held, {fixedCost:N0} bytes per held session after {HeldChunkBytes:N0} bytes; {heldLate} held, {growth:N0} more after {protocol.HeldSessionBytes:N0}"));
        return (growth, fixedCost);
    }

    private static int Active(TestDecky decky) => decky.Hosted.Statistics().Sum(s => s.ActiveSessions);

    /// <summary>Connections the host has accepted or refused so far.</summary>
    private static long Handled(TestDecky decky) => decky.Hosted.Statistics().Sum(s => s.AcceptedSessions + s.RejectedSessions);

    private static async Task WaitForHandledAsync(TestDecky decky, long count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (Handled(decky) < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
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
    private static async Task DrainAsync(Stream stream, CancellationToken cancellationToken, HeldConnection? held = null)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (await stream.ReadAsync(buffer, cancellationToken) > 0)
            {
                held?.Answered();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
            // Reset or cut: nothing more to read.
        }
    }

    /// <summary>Opens the held connections: <paramref name="depth"/> valid frames, then the first filler chunk.</summary>
    private static async Task<List<HeldConnection>> HoldSessionsAsync(FuzzProtocol protocol, FuzzTarget target, int depth)
    {
        var source = TestDecky.NextAddress();
        var held = new List<HeldConnection>();
        for (var i = 0; i < protocol.HeldSessionsPerDepth; i++)
        {
            var connection = new HeldConnection(HeldFiller(i));
            held.Add(connection);
            connection.Stream = await ConnectAsync(protocol, target, source, raw: false, connection.Owned, TestContext.Current.CancellationToken);
            connection.Connected = true;
            if (connection.Stream is null)
            {
                continue;
            }
            connection.Drain = DrainAsync(connection.Stream, connection.Stop.Token, connection);
            try
            {
                foreach (var frame in protocol.ValidFrames.Take(depth))
                {
                    await connection.Stream.WriteAsync(frame, TestContext.Current.CancellationToken);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                connection.Stream = null;
                continue;
            }
            await SendFillerAsync(connection, HeldChunkBytes);
        }
        return held;
    }

    /// <summary>Sends the rest of <see cref="FuzzProtocol.HeldSessionBytes"/> on every held connection still open.</summary>
    private static Task FillHeldSessionsAsync(FuzzProtocol protocol, List<HeldConnection> held) =>
        Task.WhenAll(held.Select(connection => SendFillerAsync(connection, protocol.HeldSessionBytes - HeldChunkBytes)));

    private static async Task SendFillerAsync(HeldConnection connection, int bytes)
    {
        if (connection.Stream is null)
        {
            return;
        }
        try
        {
            for (var sent = 0; sent < bytes; sent += connection.Filler.Length)
            {
                using var slow = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
                // A service that stops reading is fine (that is a bound too): stop sending to it.
                slow.CancelAfter(TimeSpan.FromSeconds(2));
                await connection.Stream.WriteAsync(connection.Filler, slow.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
            // Cut for the bytes, or not reading: both keep the session bounded.
            connection.Stream = null;
        }
    }

    /// <summary>Waits until no held connection has had an answer for half a second (at most 10 s).</summary>
    private static async Task WaitForQuietAsync(List<HeldConnection> held)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (Environment.TickCount64 < deadline && held.Any(c => Environment.TickCount64 - c.LastAnswer < 500))
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// The heap once the service has worked through what was sent: looked at every quarter second until two
    /// looks agree within 64 KiB (at most 4 s), the later look kept. What the service really keeps is there in
    /// both looks; what was still in flight at the first is gone by the second.
    /// </summary>
    private static async Task<long> SettledRetainedBytesAsync()
    {
        var previous = long.MinValue;
        var now = 0L;
        for (var look = 0; look < 16; look++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), TestContext.Current.CancellationToken);
            now = RetainedBytes();
            if (Math.Abs(now - previous) <= 64 * 1024)
            {
                break;
            }
            previous = now;
        }
        return now;
    }

    /// <summary>
    /// 64 KiB that never end a message: one byte repeated, or (every fifth) 100-byte lines, which a message
    /// body would collect. Made once, so the test's own buffers are not measured as the service's.
    /// </summary>
    private static readonly byte[][] s_fillers =
    [
        [.. Enumerable.Repeat((byte)'A', HeldChunkBytes)],
        [.. Enumerable.Repeat((byte)'0', HeldChunkBytes)],
        [.. Enumerable.Repeat((byte)' ', HeldChunkBytes)],
        [.. Enumerable.Repeat((byte)0xFF, HeldChunkBytes)],
        [.. Enumerable.Repeat(System.Text.Encoding.ASCII.GetBytes(new string('x', 98) + "\r\n"), HeldChunkBytes / 100).SelectMany(l => l)],
    ];

    private static byte[] HeldFiller(int index) => s_fillers[index % s_fillers.Length];

    private sealed class HeldConnection(byte[] filler) : IDisposable
    {
        public byte[] Filler => filler;
        public Stream? Stream { get; set; }

        /// <summary>The TCP connection was made (the host accepted or refused it).</summary>
        public bool Connected { get; set; }
        public List<IDisposable> Owned { get; } = [];
        public CancellationTokenSource Stop { get; } = new();
        public Task Drain { get; set; } = Task.CompletedTask;

        private long _lastAnswer;

        /// <summary>When the service last answered (<see cref="Environment.TickCount64"/>).</summary>
        public long LastAnswer => Volatile.Read(ref _lastAnswer);

        public void Answered() => Volatile.Write(ref _lastAnswer, Environment.TickCount64);

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

/// <summary>What a campaign did: sessions sent, their bytes, and the most heap a held session grew by and cost.</summary>
public sealed record FuzzReport(int Sessions, long Bytes, long GrowthPerSession, long FixedBytesPerSession);
