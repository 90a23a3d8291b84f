using System.Globalization;
using System.Text;

namespace Decnet.Core.Honeypots.Sip;

/// <summary>One SIP request: request line, headers (attacker spelling kept, compact forms expanded) and body.</summary>
public sealed class SipRequest
{
    public required string Method { get; init; }
    public required string Uri { get; init; }
    public required IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; }
    public int BodyLength { get; init; }

    public string? Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    public IEnumerable<string> All(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);
}

/// <summary>
/// Parses SIP requests with the bounds a UDP datagram or a TCP stream of an attacker needs: at most
/// <see cref="MaxHeaders"/> headers, each line at most the session's line length, a body of at most
/// <see cref="MaxBodyBytes"/>. Malformed input is a parse failure, never an exception.
/// </summary>
public static class SipParser
{
    public const int MaxHeaders = 80;
    public const int MaxBodyBytes = 64 * 1024;

    private static readonly Dictionary<string, string> CompactForms = new(StringComparer.Ordinal)
    {
        ["v"] = "Via",
        ["f"] = "From",
        ["t"] = "To",
        ["i"] = "Call-ID",
        ["m"] = "Contact",
        ["l"] = "Content-Length",
        ["c"] = "Content-Type",
        ["k"] = "Supported",
        ["s"] = "Subject",
        ["e"] = "Content-Encoding",
    };

    /// <summary>Splits the request line; false when it is not <c>METHOD uri SIP/2.0</c>.</summary>
    public static bool TryParseRequestLine(string line, out string method, out string uri)
    {
        method = uri = string.Empty;
        var parts = line.Split(' ');
        if (parts.Length != 3 || parts[2] != "SIP/2.0" || parts[0].Length is 0 or > 32 || parts[1].Length == 0
            || !parts[0].All(c => char.IsAsciiLetterUpper(c) || c == '-'))
        {
            return false;
        }
        (method, uri) = (parts[0], parts[1]);
        return true;
    }

    /// <summary>One header line as (canonical name, value); false when the line is no header.</summary>
    public static bool TryParseHeader(string line, out KeyValuePair<string, string> header)
    {
        header = default;
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }
        var name = line[..colon].Trim();
        if (name.Length == 0 || name.Any(c => c <= ' ' || c >= '\x7f'))
        {
            return false;
        }
        header = new(CompactForms.GetValueOrDefault(name, name), line[(colon + 1)..].Trim());
        return true;
    }

    /// <summary>A whole message in one datagram. Null when it is not a SIP request (responses and garbage included).</summary>
    public static SipRequest? ParseDatagram(ReadOnlySpan<byte> datagram, int maxLineLength)
    {
        var text = Encoding.UTF8.GetString(datagram);
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = headerEnd >= 0 ? text[..headerEnd] : text;
        var lines = head.Split('\n');
        if (lines.Length == 0 || !TryParseRequestLine(lines[0].TrimEnd('\r'), out var method, out var uri))
        {
            return null;
        }
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var raw in lines.Skip(1))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                break;
            }
            if (line.Length > maxLineLength || headers.Count >= MaxHeaders || !TryParseHeader(line, out var header))
            {
                return null;
            }
            headers.Add(header);
        }
        var body = headerEnd >= 0 ? Encoding.UTF8.GetByteCount(text.AsSpan(headerEnd + 4)) : 0;
        return new SipRequest { Method = method, Uri = uri, Headers = headers, BodyLength = body };
    }

    /// <summary>The Content-Length a TCP message declares; null when absent, -1 when it is unusable.</summary>
    public static int? ContentLength(IEnumerable<KeyValuePair<string, string>> headers)
    {
        var value = headers.FirstOrDefault(h => string.Equals(h.Key, "Content-Length", StringComparison.OrdinalIgnoreCase)).Value;
        if (value is null)
        {
            return null;
        }
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var length) && length <= MaxBodyBytes ? length : -1;
    }

    /// <summary>
    /// The parameters of a Digest credential (<c>username="1001", realm="asterisk", ...</c>); quoted values may
    /// contain commas. Names are lower-cased; at most 32 parameters.
    /// </summary>
    public static Dictionary<string, string> DigestParameters(string credentials)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var text = credentials.AsSpan().Trim();
        if (!text.StartsWith("Digest", StringComparison.OrdinalIgnoreCase))
        {
            return result;
        }
        var position = 6;
        while (position < text.Length && result.Count < 32)
        {
            while (position < text.Length && (text[position] is ' ' or ',' or '\t'))
            {
                position++;
            }
            var equals = text[position..].IndexOf('=');
            if (equals <= 0)
            {
                break;
            }
            var name = text.Slice(position, equals).Trim().ToString().ToLowerInvariant();
            position += equals + 1;
            string value;
            if (position < text.Length && text[position] == '"')
            {
                var builder = new StringBuilder();
                position++;
                while (position < text.Length && text[position] != '"')
                {
                    if (text[position] == '\\' && position + 1 < text.Length)
                    {
                        position++;
                    }
                    builder.Append(text[position++]);
                }
                position++;
                value = builder.ToString();
            }
            else
            {
                var end = text[position..].IndexOf(',');
                var slice = end < 0 ? text[position..] : text.Slice(position, end);
                position += slice.Length;
                value = slice.Trim().ToString();
            }
            result.TryAdd(name, value);
        }
        return result;
    }

    /// <summary>The sent-by port of a Via value, and whether it asks for the source port (RFC 3581 rport).</summary>
    public static (int? Port, bool RequestsRport) ViaPort(string via)
    {
        var parts = via.Split(';');
        var requestsRport = parts.Skip(1).Any(p => p.Trim().Equals("rport", StringComparison.OrdinalIgnoreCase));
        var sentBy = parts[0].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (sentBy.Length < 2)
        {
            return (null, requestsRport);
        }
        var host = sentBy[1];
        var colon = host.LastIndexOf(':');
        if (colon > 0 && host.IndexOf(']', StringComparison.Ordinal) < colon
            && int.TryParse(host[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535)
        {
            return (port, requestsRport);
        }
        return (null, requestsRport);
    }
}
