using System.Globalization;
using System.Text;
using Decnet.Core.Events;

namespace Decnet.Core.Swarm.Shipping;

/// <summary>
/// Turns a line received from a worker into the line the ingest stores. The worker is named by its
/// certificate, never by what the line says: a <c>[swarm@55555 source_worker="..."]</c> element is put
/// first in STRUCTURED-DATA, and since the first value of a repeated parameter wins, a
/// <c>source_worker</c> the worker wrote itself (or a HOSTNAME naming another worker) cannot override it.
/// </summary>
public static class ShippedLine
{
    public const string StructuredDataId = "swarm@55555";
    public const string SourceWorkerField = "source_worker";

    /// <summary>Header fields before STRUCTURED-DATA: PRI+VERSION, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID.</summary>
    private const int HeaderFields = 6;

    /// <summary>
    /// The stored form of a received frame: UTF-8 decoded, its line terminator removed, labelled with
    /// the worker. Null for a blank line (it still occupies its bytes in the spool).
    /// </summary>
    public static string? Label(ReadOnlySpan<byte> frame, string worker)
    {
        var text = Encoding.UTF8.GetString(frame).TrimEnd('\r', '\n');
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        return Label(text, worker);
    }

    /// <summary>Inserts the provenance element; a line that is not RFC 5424 at all is left as it is (and counted malformed).</summary>
    public static string Label(string line, string worker)
    {
        if (!line.StartsWith('<'))
        {
            return line;
        }
        var position = 0;
        for (var i = 0; i < HeaderFields; i++)
        {
            var space = line.IndexOf(' ', position);
            if (space <= position)
            {
                return line;
            }
            position = space + 1;
        }
        if (position >= line.Length)
        {
            return line;
        }
        var element = $"[{StructuredDataId} {SourceWorkerField}=\"{Escape(worker)}\"]";
        if (line[position] == '-' && (position + 1 == line.Length || line[position + 1] == ' '))
        {
            return string.Concat(line.AsSpan(0, position), element, line.AsSpan(position + 1));
        }
        return line[position] == '[' ? line.Insert(position, element) : line;
    }

    /// <summary>The ingest's idempotency source: one line of one spool file of one worker.</summary>
    public static string SourceId(SwarmPeer peer, string fileId, long offset) =>
        string.Create(CultureInfo.InvariantCulture, $"swarm:{peer.HostId:N}:{fileId}:{offset}");

    /// <summary>RFC 5424 PARAM-VALUE escaping.</summary>
    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("]", "\\]", StringComparison.Ordinal);

    /// <summary>For plain RFC 5425 frames outside a batch: stored, but without a replay identity.</summary>
    public static IngestLine Unkeyed(string rawLine, SwarmPeer peer) =>
        new(rawLine, string.Create(CultureInfo.InvariantCulture, $"swarm:{peer.HostId:N}:plain:{Guid.NewGuid():N}"));
}
