using System.Buffers.Binary;
using CsCheck;

namespace Decnet.Tests.Honeypots;

/// <summary>
/// Mutation fuzzing shared by the service families: valid protocol messages mutated (bytes flipped, cut,
/// inserted or duplicated, length fields set to boundary values) by CsCheck and fed to parsers; live
/// listeners are fuzzed by <c>Fuzzing.ProtocolFuzzer</c>. A failure prints CsCheck's seed.
/// </summary>
public static class ProtocolFuzz
{
    public sealed record Mutation(int Kind, int Position, byte Value, int Length);

    public static readonly Gen<Mutation> AnyMutation =
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 1 << 16], Gen.Byte, Gen.Int[0, 64], (kind, position, value, length) => new Mutation(kind, position, value, length));

    private static readonly int[] BoundaryLengths = [0, -1, int.MaxValue, int.MinValue, 4, 5, 16, 1 << 20];

    /// <summary>One of the seeds with one to four mutations applied.</summary>
    public static Gen<byte[]> Mutated(params byte[][] seeds) =>
        Gen.Select(Gen.Int[0, seeds.Length - 1], AnyMutation.Array[1, 4], (index, mutations) => mutations.Aggregate(seeds[index], Apply));

    public static byte[] Apply(byte[] data, Mutation m)
    {
        var bytes = new List<byte>(data);
        var at = bytes.Count == 0 ? 0 : m.Position % bytes.Count;
        switch (m.Kind)
        {
            case 0 when bytes.Count > 0:
                bytes[at] ^= (byte)(m.Value | 1);
                break;
            case 1:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            case 2:
                bytes.InsertRange(at, Enumerable.Range(0, m.Length).Select(i => (byte)(m.Value + i)));
                break;
            case 3 or 4 when bytes.Count >= at + 4:
                var value = BoundaryLengths[m.Value % BoundaryLengths.Length];
                var span = new byte[4];
                if (m.Kind == 3)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(span, value);
                }
                else
                {
                    BinaryPrimitives.WriteInt32BigEndian(span, value);
                }
                for (var i = 0; i < 4; i++)
                {
                    bytes[at + i] = span[i];
                }
                break;
            case 5:
                bytes.InsertRange(at, bytes.Skip(at).Take(m.Length).ToList());
                break;
        }
        return [.. bytes];
    }
}
