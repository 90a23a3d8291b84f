using System.Net;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Tests.Infrastructure;

namespace Decnet.Tests.Honeypots.Fuzzing;

/// <summary>
/// What the fuzzer needs to know about one honeypot protocol. A new service plugs in by describing
/// itself here and calling <see cref="ProtocolFuzzer.RunAsync"/> from a test in the fuzz collection:
/// <code>
/// [Collection(ProcessMeasurementCollection.Name)]
[Trait("Category", TestCategories.Isolated)]
/// public sealed class PopFuzzTests
/// {
///     [Fact]
///     public Task Pop3_survives_random_and_mutated_frames() => ProtocolFuzzer.RunAsync(new FuzzProtocol
///     {
///         Factory = new Pop3HoneypotFactory(),
///         ValidFrames = [.. FuzzFrames.Lines("USER root", "PASS toor", "STAT", "RETR 1", "QUIT")],
///         RealClient = async target => Assert.Equal(0, (await RealClient.RunAsync("curl", [$"pop3://{target.Address}/"])).ExitCode),
///     });
/// }
/// </code>
/// <see cref="ValidFrames"/> is one well-formed client conversation, in order, one protocol message per
/// frame (for binary protocols each frame already carries its framing); the fuzzer replays prefixes of
/// it to reach deep states, then sends mutated, reordered and random frames.
/// </summary>
public sealed record FuzzProtocol
{
    public required IHoneypotServiceFactory Factory { get; init; }

    /// <summary>A valid client conversation, message by message.</summary>
    public required IReadOnlyList<byte[]> ValidFrames { get; init; }

    /// <summary>Runs a real client against the listener and asserts it was served; called after the fuzzing.</summary>
    public required Func<FuzzTarget, Task> RealClient { get; init; }

    /// <summary>The port served; the factory's first default port when null.</summary>
    public int? Port { get; init; }

    public IReadOnlyDictionary<string, string>? Persona { get; init; }

    /// <summary>The frames travel inside TLS (a fifth of the sessions skip the handshake and send them raw).</summary>
    public bool Tls { get; init; }

    /// <summary>Random sessions in the property phase (CsCheck iterations).</summary>
    public int Sessions { get; init; } = 100;

    /// <summary>Connections held open at once after each prefix of the valid conversation in the memory phase.</summary>
    public int HeldSessionsPerDepth { get; init; } = 10;

    /// <summary>Bytes each held connection sends without ever finishing a message.</summary>
    public int HeldSessionBytes { get; init; } = 512 * 1024;

    /// <summary>
    /// Managed memory one held connection may gain while it sends all but its first 64 KiB: a quarter of
    /// those bytes, so a service that buffers what it is sent fails, one that keeps bounded state passes.
    /// </summary>
    public long GrowthBytesPerSession { get; init; } = 112 * 1024;

    /// <summary>Managed memory one held connection may cost after its first 64 KiB (its state, its buffers, the test's client socket).</summary>
    public long FixedBytesPerSession { get; init; } = 512 * 1024;

    public string Name => Factory.Name;
}

/// <summary>Where the fuzzed listener is.</summary>
public sealed record FuzzTarget(TestDecky Decky, IPEndPoint EndPoint)
{
    public IPAddress Address => EndPoint.Address;

    public string Port => EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
