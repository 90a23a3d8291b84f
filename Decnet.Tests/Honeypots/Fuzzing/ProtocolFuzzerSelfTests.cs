using System.Net.Sockets;
using System.Text;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Honeypots.Fuzzing;

/// <summary>
/// The harness itself must fail on the defects it exists to find: a service that keeps what it is sent
/// fails the memory phase, one that throws on a byte fails the property phase.
/// </summary>
[Trait("Category", "Integration")]
[Collection(ProcessMeasurementCollection.Name)]
[Trait("Category", TestCategories.Isolated)]
public sealed class ProtocolFuzzerSelfTests
{
    private static readonly IReadOnlyList<byte[]> s_frames = [.. FuzzFrames.Lines("HELLO fuzz", "SEND 12 bytes here", "BYE")];

    /// <summary>A raw client: the toy protocols below have no real one.</summary>
    private static async Task GreetedAsync(FuzzTarget target)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(target.EndPoint, TestContext.Current.CancellationToken);
        var buffer = new byte[16];
        var read = await client.GetStream().ReadAsync(buffer, TestContext.Current.CancellationToken);
        Assert.Equal("READY\r\n", Encoding.ASCII.GetString(buffer, 0, read));
    }

    [Fact]
    public async Task A_service_that_buffers_what_it_is_sent_fails_the_memory_phase()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => ProtocolFuzzer.RunAsync(new FuzzProtocol
        {
            Factory = new ToyFactory(context => new HoardingService(context)),
            ValidFrames = s_frames,
            RealClient = GreetedAsync,
            Sessions = 20,
        }));

        Assert.Contains("each held session grew by", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_that_throws_on_a_byte_fails_the_property_phase()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => ProtocolFuzzer.RunAsync(new FuzzProtocol
        {
            Factory = new ToyFactory(context => new NulIntolerantService(context)),
            ValidFrames = s_frames,
            RealClient = GreetedAsync,
            Sessions = 60,
        }));

        Assert.Contains("session(s) faulted", failure.ToString(), StringComparison.Ordinal);
    }

    private sealed class ToyFactory(Func<ServiceContext, IHoneypotService> create) : IHoneypotServiceFactory
    {
        public string Name => "toy";

        public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(7070)];

        public IHoneypotService Create(ServiceContext context) => create(context);
    }

    /// <summary>Keeps every chunk it reads until the attacker leaves: memory follows the attacker's bytes.</summary>
    private sealed class HoardingService(ServiceContext context) : IHoneypotService
    {
        public ServiceContext Context { get; } = context;

        public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
        {
            await connection.Stream.WriteAsync("READY\r\n"u8.ToArray(), cancellationToken);
            var kept = new List<byte[]>();
            var buffer = new byte[4096];
            int read;
            while ((read = await connection.Stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                kept.Add(buffer[..read]);
            }
            connection.Emit("hoarded", ("chunks", kept.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>Throws when a NUL byte arrives: the fault a parser with an unchecked case has.</summary>
    private sealed class NulIntolerantService(ServiceContext context) : IHoneypotService
    {
        public ServiceContext Context { get; } = context;

        public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
        {
            await connection.Stream.WriteAsync("READY\r\n"u8.ToArray(), cancellationToken);
            var buffer = new byte[4096];
            int read;
            while ((read = await connection.Stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (buffer.AsSpan(0, read).Contains((byte)0))
                {
                    throw new InvalidOperationException("NUL in the input");
                }
            }
        }
    }
}
