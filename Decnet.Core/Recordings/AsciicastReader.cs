using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Decnet.Core.Recordings;

/// <summary>The header of an asciicast v2 recording.</summary>
public sealed record AsciicastHeader(int Width, int Height, DateTimeOffset? StartedAt);

/// <summary>One chunk of a recording: seconds since the start, "o" (output) or "i" (input), the text.</summary>
public sealed record AsciicastFrame(double Time, string Kind, string Data);

/// <summary>A parsed recording; <see cref="Truncated"/> when the reader stopped at its byte limit.</summary>
public sealed record Asciicast(AsciicastHeader Header, IReadOnlyList<AsciicastFrame> Frames, bool Truncated)
{
    public double Duration => Frames.Count == 0 ? 0 : Frames[^1].Time;
}

/// <summary>
/// Reads asciicast v2 (a JSON header line, then <c>[time, kind, data]</c> lines). Written by the decoy
/// but shaped by the attacker's keystrokes, so it is read defensively: bounded bytes, malformed lines
/// skipped, times forced to be non-decreasing.
/// </summary>
public static class AsciicastReader
{
    public static async Task<Asciicast> ReadAsync(Stream stream, long maxBytes, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 16 * 1024, leaveOpen: true);
        var header = new AsciicastHeader(80, 24, null);
        var frames = new List<AsciicastFrame>();
        long read = 0;
        var truncated = false;
        var first = true;
        var last = 0.0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            read += Encoding.UTF8.GetByteCount(line) + 1;
            if (read > maxBytes)
            {
                truncated = true;
                break;
            }
            if (first)
            {
                first = false;
                header = ParseHeader(line) ?? header;
                continue;
            }
            if (ParseFrame(line) is { } frame)
            {
                last = Math.Max(last, frame.Time);
                frames.Add(frame with { Time = last });
            }
        }
        return new Asciicast(header, frames, truncated);
    }

    private static AsciicastHeader? ParseHeader(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            int Size(string name, int fallback) =>
                root.TryGetProperty(name, out var value) && value.TryGetInt32(out var number) ? Math.Clamp(number, 1, 1000) : fallback;
            DateTimeOffset? started = root.TryGetProperty("timestamp", out var stamp) && stamp.TryGetInt64(out var seconds)
                && seconds is > 0 and < 253402300799
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
            return new AsciicastHeader(Size("width", 80), Size("height", 24), started);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static AsciicastFrame? ParseFrame(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() < 3)
            {
                return null;
            }
            var time = root[0];
            var kind = root[1];
            var data = root[2];
            if (time.ValueKind != JsonValueKind.Number || kind.ValueKind != JsonValueKind.String || data.ValueKind != JsonValueKind.String)
            {
                return null;
            }
            var seconds = time.GetDouble();
            if (!double.IsFinite(seconds) || seconds < 0)
            {
                return null;
            }
            return new AsciicastFrame(seconds, kind.GetString()!, data.GetString()!);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Formats seconds as m:ss for the player.</summary>
    public static string Clock(double seconds)
    {
        var span = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return span.TotalHours >= 1
            ? span.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
            : span.ToString(@"m\:ss", CultureInfo.InvariantCulture);
    }
}
