using System.Net;
using System.Net.Sockets;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Honeypots.Fuzzing;

/// <summary>
/// The datagram harness must fail on the defects it exists to find: a service that throws on a byte
/// fails the property phase, one that keeps what it is sent fails the heap check, and one whose state
/// check fails is reported.
/// </summary>
[Trait("Category", "Integration")]
[Collection(ProcessMeasurementCollection.Name)]
[Trait("Category", TestCategories.Isolated)]
public sealed class DatagramFuzzerSelfTests
{
    private const int Port = 7071;

    private static readonly Dictionary<int, byte[][]> s_datagrams = new() { [Port] = ["PING 1"u8.ToArray(), "PING 22 twenty-two"u8.ToArray()] };

    /// <summary>A raw client: the toy protocol below has no real one.</summary>
    private static async Task PongAsync(FuzzTarget target)
    {
        using var client = new UdpClient(new IPEndPoint(target.Address, 0));
        await client.SendAsync("PING 1"u8.ToArray(), target.EndPoint, TestContext.Current.CancellationToken);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        wait.CancelAfter(TimeSpan.FromSeconds(5));
        Assert.Equal("PONG"u8.ToArray(), (await client.ReceiveAsync(wait.Token)).Buffer);
    }

    [Fact]
    public async Task A_service_that_throws_on_a_byte_fails_the_property_phase()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => DatagramFuzzer.RunAsync(new DatagramFuzzProtocol
        {
            Factory = new ToyFactory(context => new ToyService(context, throwOnNul: true)),
            ValidDatagrams = s_datagrams,
            RealClient = PongAsync,
            Datagrams = 200,
        }));

        Assert.Contains("datagram(s) faulted", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_that_keeps_every_datagram_fails_the_heap_check()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => DatagramFuzzer.RunAsync(new DatagramFuzzProtocol
        {
            Factory = new ToyFactory(context => new ToyService(context, hoard: true)),
            ValidDatagrams = s_datagrams,
            RealClient = PongAsync,
            Datagrams = 1000,
        }));

        Assert.Contains("the heap kept", failure.Message, StringComparison.Ordinal);
        Assert.IsType<Xunit.Sdk.TrueException>(failure);
    }

    [Fact]
    public async Task A_service_whose_state_outgrows_its_bound_fails_the_state_check()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => DatagramFuzzer.RunAsync(new DatagramFuzzProtocol
        {
            Factory = new ToyFactory(context => new ToyService(context)),
            ValidDatagrams = s_datagrams,
            RealClient = PongAsync,
            Datagrams = 200,
            AssertBoundedState = service => Assert.True(((ToyService)service).Answered <= 50, "the toy answered more than 50 datagrams"),
        }));

        Assert.Contains("the toy answered more than 50 datagrams", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public Task A_bounded_service_that_never_throws_passes() => DatagramFuzzer.RunAsync(new DatagramFuzzProtocol
    {
        Factory = new ToyFactory(context => new ToyService(context)),
        ValidDatagrams = s_datagrams,
        RealClient = PongAsync,
        Datagrams = 200,
        AssertBoundedState = service => Assert.True(((ToyService)service).Answered >= 0),
    });

    private sealed class ToyFactory(Func<ServiceContext, IHoneypotService> create) : IHoneypotServiceFactory
    {
        public string Name => "toy";

        public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(Port, ServiceTransport.Udp)];

        public IHoneypotService Create(ServiceContext context) => create(context);
    }

    /// <summary>Answers PONG to anything starting with PING; optionally throws on NUL or keeps every datagram.</summary>
    private sealed class ToyService(ServiceContext context, bool throwOnNul = false, bool hoard = false) : IHoneypotService
    {
        private readonly List<byte[]> _kept = [];

        public ServiceContext Context { get; } = context;

        public int Answered { get; private set; }

        public ValueTask<ReadOnlyMemory<byte>?> HandleDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, IPEndPoint local, CancellationToken cancellationToken)
        {
            if (throwOnNul && datagram.Span.Contains((byte)0))
            {
                throw new InvalidOperationException("NUL in the datagram");
            }
            if (hoard)
            {
                _kept.Add(datagram.ToArray());
            }
            if (!datagram.Span.StartsWith("PING"u8))
            {
                return ValueTask.FromResult<ReadOnlyMemory<byte>?>(null);
            }
            Answered++;
            return ValueTask.FromResult<ReadOnlyMemory<byte>?>("PONG"u8.ToArray());
        }
    }
}
