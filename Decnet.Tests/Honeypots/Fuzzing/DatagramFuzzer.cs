using System.Net;
using System.Net.Sockets;
using CsCheck;
using Decnet.Core.Honeypots.Hosting;
using Microsoft.Extensions.Logging;

namespace Decnet.Tests.Honeypots.Fuzzing;

/// <summary>What the datagram fuzzer needs to know about one UDP honeypot protocol.</summary>
public sealed record DatagramFuzzProtocol
{
    public required IHoneypotServiceFactory Factory { get; init; }

    /// <summary>Valid datagrams a client sends, by the UDP port they go to (the service's declared ports).</summary>
    public required IReadOnlyDictionary<int, byte[][]> ValidDatagrams { get; init; }

    /// <summary>Runs the protocol's real client against the decky and asserts it was served; called after the fuzzing.</summary>
    public required Func<FuzzTarget, Task> RealClient { get; init; }

    public IReadOnlyDictionary<string, string>? Persona { get; init; }

    /// <summary>The decky's hostname (name services answer only their own names).</summary>
    public string? Hostname { get; init; }

    /// <summary>Datagrams in the property phase (CsCheck iterations).</summary>
    public int Datagrams { get; init; } = 1000;

    /// <summary>Asserts the service's own state (transfers, budgets) is within its bound; called after every datagram.</summary>
    public Action<IHoneypotService>? AssertBoundedState { get; init; }

    /// <summary>True once the service has let go of what the fuzzing started (TFTP transfers); awaited before the real client.</summary>
    public Func<IHoneypotService, bool>? Settled { get; init; }

    /// <summary>
    /// Managed memory the whole run may leave behind at least (heap measurements of a run that keeps nothing
    /// vary by a few hundred KiB); beyond it, up to a quarter of the bytes the listener read. A service
    /// that keeps what it is sent keeps all of them.
    /// </summary>
    public long RetainedAllowance { get; init; } = 512 * 1024;
}

/// <summary>One fuzz datagram: to which port, from which of the fuzzer's source addresses, what bytes.</summary>
public sealed record FuzzDatagram(int PortIndex, int Source, byte[] Payload)
{
    public override string ToString() =>
        $"port#{PortIndex} from source #{Source}, {Payload.Length} bytes: {Convert.ToHexString(Payload.AsSpan(0, Math.Min(Payload.Length, 96)))}{(Payload.Length > 96 ? "..." : string.Empty)}";
}

/// <summary>
/// A fuzz campaign against the real UDP listeners of one service (the production <see cref="ServiceHost"/>
/// on a loopback decky). After a warm-up (the valid datagrams, then a tenth of the run's worth of fuzz),
/// CsCheck generates datagrams: valid ones, valid ones mutated (bits flipped, cut,
/// bytes inserted or repeated, 32-bit length fields set to boundary values), random bytes and oversized
/// datagrams up to 60 KB, from 16 source addresses, one at a time. After every datagram no datagram may
/// have faulted and the service's own state must be within its bound; a failure is shrunk and printed
/// with its seed. Afterwards the managed heap may have grown by at most 512 KiB or a quarter of the
/// bytes the listener read, whichever is more (a service keeping what it is sent keeps all of them),
/// the host logged no exception, and the protocol's real client is served.
/// </summary>
public static class DatagramFuzzer
{
    private const int SourceCount = 16;

    /// <summary>What the test decky's listeners read of one datagram (default limits).</summary>
    private static readonly int MaxRead = new SessionLimits().MaxDatagramBytes;

    public static async Task RunAsync(DatagramFuzzProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        await using var decky = TestDecky.Create();
        var ports = protocol.ValidDatagrams.Keys.Order().ToArray();
        var service = protocol.Factory.Create(decky.Context(protocol.Persona, hostname: protocol.Hostname));
        var hosted = await decky.StartAsync(new HostedServiceBinding(protocol.Factory.Name, service, decky.Address, [.. ports.Select(p => new ServicePort(p, ServiceTransport.Udp))]));
        var endPoints = ports.Select(p => hosted.EndPointOf(protocol.Factory.Name, p, ServiceTransport.Udp)).ToArray();
        var output = TestContext.Current.TestOutputHelper;

        var sources = Enumerable.Range(0, SourceCount).Select(_ => new UdpClient(new IPEndPoint(TestDecky.NextAddress(), 0))).ToArray();
        try
        {
            // Warm-up: every valid datagram once, then a tenth of the run's worth of fuzz, so caches a first
            // request builds (an SNMP agent's MIB) and code paths first taken are in the baseline.
            var warmUp = ports.SelectMany((port, i) => protocol.ValidDatagrams[port].Select(d => new FuzzDatagram(i, 0, d)))
                .Concat(DatagramGen(protocol, ports).Array[protocol.Datagrams / 10, protocol.Datagrams / 10].Single());
            foreach (var datagram in warmUp)
            {
                var received = Received(decky);
                await sources[datagram.Source].SendAsync(datagram.Payload, endPoints[datagram.PortIndex]);
                await SettleAsync(decky, sources[datagram.Source], received, datagram.Payload.Length);
            }
            decky.Sink.Retain = false;
            var baseline = RetainedBytes();
            var sent = 0L;
            var readable = 0L;
            var delivered = 0L;
            await DatagramGen(protocol, ports).SampleAsync(async datagram =>
            {
                var faultsBefore = Faulted(decky);
                var exceptionsBefore = Exceptions(decky).Count;
                var received = Received(decky);
                var client = sources[datagram.Source];
                await client.SendAsync(datagram.Payload, endPoints[datagram.PortIndex]);
                sent++;
                readable += datagram.Payload.Length <= MaxRead ? 1 : 0;
                delivered += Math.Min(datagram.Payload.Length, MaxRead);
                await SettleAsync(decky, client, received, datagram.Payload.Length);
                protocol.AssertBoundedState?.Invoke(service);
                var faults = Faulted(decky) - faultsBefore;
                var exceptions = Exceptions(decky).Skip(exceptionsBefore).ToList();
                if (faults > 0 || exceptions.Count > 0)
                {
                    throw new InvalidOperationException($"{faults} datagram(s) faulted: {string.Join("\n", exceptions.Take(2))}\nDatagram: {datagram}");
                }
            }, writeLine: output is null ? null : output.WriteLine, iter: protocol.Datagrams, threads: 1, print: d => d.ToString());

            if (protocol.Settled is { } settled)
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
                while (!settled(service))
                {
                    Assert.True(DateTime.UtcNow < deadline, "the service still held state 90 s after the fuzzing");
                    await Task.Delay(100);
                }
            }
            var growth = RetainedBytes() - baseline;
            var allowed = Math.Max(protocol.RetainedAllowance, delivered / 4);
            output?.WriteLine($"{protocol.Factory.Name}: {sent} datagrams sent ({delivered} bytes readable), {Received(decky)} received, heap growth {growth} bytes (allowed {allowed}), {decky.Sink.PublishedCount} events, {decky.Logs.Entries.Count} log entries");
            Assert.True(growth < allowed, $"the heap kept {growth} bytes after {sent} datagrams of which the listener read {delivered} bytes (allowed {allowed})");
            Assert.True(Received(decky) >= readable * 9 / 10, $"only {Received(decky)} of {readable} readable datagrams reached the listener");
        }
        finally
        {
            foreach (var source in sources)
            {
                source.Dispose();
            }
        }

        // Per-source and per-decky reply budgets run on one-second windows: let them pass, then the real client.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        decky.Sink.Retain = true;
        await protocol.RealClient(new FuzzTarget(decky, endPoints[0]));
        Assert.Equal(0, Faulted(decky));
        Assert.Empty(Exceptions(decky));
    }

    private static Gen<FuzzDatagram> DatagramGen(DatagramFuzzProtocol protocol, int[] ports)
    {
        var seeds = ports.Select(p => protocol.ValidDatagrams[p]).ToArray();
        var payload = Gen.Int[0, ports.Length - 1].SelectMany(portIndex => Gen.Frequency(
            (2, Gen.Int[0, seeds[portIndex].Length - 1].Select(i => seeds[portIndex][i])),
            (10, ProtocolFuzz.Mutated(seeds[portIndex])),
            (3, Gen.Byte.Array[0, 1472]),
            (4, Gen.Int[8 * 1024, 60 * 1024].Select(Gen.Byte, (length, fill) => Enumerable.Repeat(fill, length).ToArray()))).Select(bytes => (portIndex, bytes)));
        return Gen.Select(payload, Gen.Int[0, SourceCount - 1], (p, source) => new FuzzDatagram(p.portIndex, source, p.bytes));
    }

    /// <summary>
    /// Waits until the listener took the datagram in, and for its answer (if any) a few milliseconds: one
    /// datagram at a time, so a fault is the one just sent, and no reply queue builds up. A datagram larger
    /// than the listener reads may be dropped by the receive call itself, so it is not waited for long.
    /// </summary>
    private static async Task SettleAsync(TestDecky decky, UdpClient client, long receivedBefore, int length)
    {
        var deadline = DateTime.UtcNow + (length > MaxRead ? TimeSpan.FromMilliseconds(50) : TimeSpan.FromSeconds(2));
        while (Received(decky) <= receivedBefore && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1);
        }
        using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(5));
        try
        {
            while (true)
            {
                _ = await client.ReceiveAsync(wait.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // No (further) answer: most garbage gets none.
        }
        catch (SocketException)
        {
            // An ICMP error from a transfer port that already closed.
        }
    }

    private static long Received(TestDecky decky) => decky.Hosted.Statistics().Sum(s => s.Datagrams);

    private static long Faulted(TestDecky decky) => decky.Hosted.Statistics().Sum(s => s.FaultedSessions);

    private static List<string> Exceptions(TestDecky decky) =>
        [.. decky.Logs.Entries.Where(e => e.Level >= LogLevel.Warning && e.Exception is not null).Select(e => $"{e.Message}: {e.Exception}")];

    private static long RetainedBytes()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
