using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Decnet.Core.Events;

/// <summary>
/// A per-thread buffer and JSON writer for the small JSON texts the ingest makes for every row (fields,
/// SIEM record): reset for each text instead of a new stream, buffer and writer each time.
/// Not re-entrant: a text is finished before the next one starts on the same thread.
/// </summary>
internal sealed class JsonScratch
{
    // Stored fields are data for our own UI and API, which encode on output; keeping non-ASCII readable
    // at rest matters more than HTML-safe escaping.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A buffer grown past this by one long line is dropped afterwards, so idle threads keep little.</summary>
    private const int KeptCapacity = 64 * 1024;

    [ThreadStatic]
    private static JsonScratch? t_current;

    private ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _writer;

    private JsonScratch() => _writer = new Utf8JsonWriter(_buffer, Options);

    /// <summary>The thread's writer, emptied (also after a text that failed half-way).</summary>
    public static Utf8JsonWriter Start()
    {
        var scratch = t_current ??= new JsonScratch();
        if (scratch._buffer.Capacity > KeptCapacity)
        {
            scratch._buffer = new ArrayBufferWriter<byte>(1024);
        }
        else
        {
            scratch._buffer.ResetWrittenCount();
        }
        scratch._writer.Reset(scratch._buffer);
        return scratch._writer;
    }

    /// <summary>The text written since <see cref="Start"/>.</summary>
    public static string Finish()
    {
        var scratch = t_current ?? throw new InvalidOperationException("Finish without Start");
        scratch._writer.Flush();
        return Encoding.UTF8.GetString(scratch._buffer.WrittenSpan);
    }
}
