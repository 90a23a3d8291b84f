using System.Globalization;
using System.Text;
using CsCheck;

namespace Decnet.Tests.Honeypots.Fuzzing;

/// <summary>Helpers to write valid frames, and the generators that turn them into hostile sessions.</summary>
public static class FuzzFrames
{
    /// <summary>Line-protocol commands, each ended by CRLF.</summary>
    public static IEnumerable<byte[]> Lines(params string[] lines) => lines.Select(l => Encoding.UTF8.GetBytes(l + "\r\n"));

    public static byte[] Ascii(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Bytes attackers like: line ends, NUL, Telnet IAC, format strings, bidi overrides, invalid UTF-8.</summary>
    private static readonly byte[][] s_special =
    [
        "\r\n"u8.ToArray(), "\n"u8.ToArray(), "\r"u8.ToArray(), [0], [0xFF], [0xFF, 0xFF], [0xFF, 0xFA, 0x1F], [0xFF, 0xF0],
        "%s%s%n%x"u8.ToArray(), "\u202e"u8.ToArray(), [0xC0, 0x80], [0xFE, 0xFF], [0xED, 0xA0, 0x80], "../../../../etc/passwd"u8.ToArray(),
        "${jndi:ldap://x}"u8.ToArray(), "\r\n.\r\n"u8.ToArray(), "\"'`;|&$()"u8.ToArray(), [0x1B, (byte)'[', (byte)'2', (byte)'J'],
    ];

    /// <summary>Numbers at and past every integer boundary a parser may use for a length or a count.</summary>
    private static readonly string[] s_numbers =
    [
        "0", "-1", "-2147483648", "2147483647", "2147483648", "4294967295", "4294967296", "9223372036854775807",
        "18446744073709551616", "99999999999999999999999999999999", "1e309", "0x7fffffff", "00000000000000000000001", "+1", " 1", "",
    ];

    /// <summary>Four bytes dropped over a binary length or count field.</summary>
    private static readonly byte[][] s_lengths =
    [
        [0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF], [0x80, 0x00, 0x00, 0x00], [0x00, 0x00, 0x00, 0x00], [0xFF, 0xFF, 0xFF, 0x00], [0x00, 0x00, 0x01, 0x00],
    ];

    private static Gen<Mutation> MutationGen { get; } = Gen.Select(
        Gen.OneOf(Enum.GetValues<MutationKind>()), Gen.Double[0, 1], Gen.Int[1, 64], Gen.Byte.Array[1, 64],
        (kind, at, size, data) => new Mutation(kind, at, size, data));

    /// <summary>One hostile session built from <paramref name="protocol"/>'s valid conversation.</summary>
    public static Gen<FuzzSession> SessionGen(FuzzProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        var frames = protocol.ValidFrames;
        var last = frames.Count - 1;
        var step = Gen.Frequency(
            (5, Gen.Select(Gen.Int[0, last], MutationGen.List[1, 3], (i, mutations) => mutations.Aggregate(frames[i], (frame, m) => m.Apply(frame)))),
            (2, Gen.Int[0, last].Select(i => frames[i])),
            (1, Gen.Byte.Array[1, 2048]),
            (1, Gen.Select(Gen.OneOf<byte>(0x41, 0x00, 0xFF, 0x20, 0x0A, 0x30), Gen.Int[1024, 256 * 1024], (b, length) => Enumerable.Repeat(b, length).ToArray())));
        return Gen.Select(
            Gen.Int[0, frames.Count], step.List[0, 6], Gen.Int[0, 9], Gen.OneOf(Enum.GetValues<SessionEnd>()), protocol.Tls ? Gen.Int[0, 4] : Gen.Const(1),
            (prefix, steps, dribble, end, tlsChoice) => new FuzzSession([.. frames.Take(prefix), .. steps], dribble == 0, end, Raw: tlsChoice == 0));
    }

    public enum MutationKind
    {
        FlipBits,
        InsertRandom,
        InsertSpecial,
        Delete,
        Truncate,
        Repeat,
        HugeNumber,
        LengthField,
    }

    /// <summary>One change to a frame, at a relative position so it shrinks and applies to any frame.</summary>
    public sealed record Mutation(MutationKind Kind, double At, int Size, byte[] Data)
    {
        public byte[] Apply(byte[] frame)
        {
            ArgumentNullException.ThrowIfNull(frame);
            var at = (int)(At * frame.Length);
            switch (Kind)
            {
                case MutationKind.FlipBits:
                    var flipped = (byte[])frame.Clone();
                    for (var i = 0; i < Math.Min(Size, 8) && flipped.Length > 0; i++)
                    {
                        var position = (at + (i * Data[i % Data.Length])) % flipped.Length;
                        flipped[position] ^= (byte)(1 << (Data[i % Data.Length] % 8));
                    }
                    return flipped;
                case MutationKind.InsertRandom:
                    return [.. frame.AsSpan(0, at), .. Data, .. frame.AsSpan(at)];
                case MutationKind.InsertSpecial:
                    return [.. frame.AsSpan(0, at), .. s_special[Size % s_special.Length], .. frame.AsSpan(at)];
                case MutationKind.Delete:
                    var end = Math.Min(frame.Length, at + Size);
                    return [.. frame.AsSpan(0, at), .. frame.AsSpan(end)];
                case MutationKind.Truncate:
                    return frame[..at];
                case MutationKind.Repeat:
                    var slice = frame.AsSpan(at, Math.Min(frame.Length - at, 1 + (Size % 16))).ToArray();
                    var times = 1 + (Data[0] * 8);
                    return [.. frame.AsSpan(0, at), .. Enumerable.Repeat(slice, times).SelectMany(s => s), .. frame.AsSpan(at)];
                case MutationKind.HugeNumber:
                    return ReplaceNumber(frame, at, s_numbers[Size % s_numbers.Length]);
                default:
                    var field = s_lengths[Size % s_lengths.Length];
                    var patched = (byte[])frame.Clone();
                    for (var i = 0; i < field.Length && at + i < patched.Length; i++)
                    {
                        patched[at + i] = field[i];
                    }
                    return patched;
            }
        }

        /// <summary>Replaces the run of ASCII digits nearest <paramref name="at"/> (or inserts the number there).</summary>
        private static byte[] ReplaceNumber(byte[] frame, int at, string number)
        {
            var start = -1;
            for (var i = 0; i < frame.Length; i++)
            {
                var position = (at + i) % frame.Length;
                if (frame[position] is >= (byte)'0' and <= (byte)'9')
                {
                    start = position;
                    break;
                }
            }
            if (start < 0)
            {
                return [.. frame.AsSpan(0, at), .. Encoding.ASCII.GetBytes(number), .. frame.AsSpan(at)];
            }
            while (start > 0 && frame[start - 1] is >= (byte)'0' and <= (byte)'9')
            {
                start--;
            }
            var stop = start;
            while (stop < frame.Length && frame[stop] is >= (byte)'0' and <= (byte)'9')
            {
                stop++;
            }
            return [.. frame.AsSpan(0, start), .. Encoding.ASCII.GetBytes(number), .. frame.AsSpan(stop)];
        }
    }
}

/// <summary>How a fuzz session leaves: a clean close, a TCP reset, or after waiting briefly for the answer.</summary>
public enum SessionEnd
{
    Close,
    Reset,
    Linger,
}

/// <summary>One hostile connection: what is written, whether in small pieces, how it ends, and (TLS) whether it skips the handshake.</summary>
public sealed record FuzzSession(IReadOnlyList<byte[]> Steps, bool Dribble, SessionEnd End, bool Raw)
{
    public long Bytes => Steps.Sum(s => (long)s.Length);

    /// <summary>Readable enough to reproduce: each step escaped, long ones cut.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{End}{(Dribble ? ", dribbled" : "")}{(Raw ? ", raw over TLS port" : "")}, {Steps.Count} steps, {Bytes} bytes:");
        foreach (var step in Steps)
        {
            text.Append("\n  ").Append(Escape(step.AsSpan(0, Math.Min(step.Length, 160))));
            if (step.Length > 160)
            {
                text.Append(CultureInfo.InvariantCulture, $"… ({step.Length} bytes)");
            }
        }
        return text.ToString();
    }

    private static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes)
        {
            text.Append(b is >= 0x20 and < 0x7F and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:x2}");
        }
        return text.ToString();
    }
}
