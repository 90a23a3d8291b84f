using System.Globalization;
using System.Text;

namespace Decnet.Core.Events;

/// <summary>
/// Parses the RFC 5424 lines our services write (see <c>Rfc5424Formatter</c>) and those rsyslog relays
/// from inside deckies. Unlike upstream, any PROCID is accepted: sshd, sudo and bash lines carry a real
/// PID and are exactly the activity worth profiling. Every structured-data element is read, not only
/// <c>relay@55555</c>, and its parameters are merged into <see cref="ParsedEvent.Fields"/> in line order.
/// </summary>
public static class Rfc5424Parser
{
    /// <summary>Longer lines are cut here and flagged: one hostile line must not cost unbounded memory.</summary>
    public const int MaxLineLength = 64 * 1024;

    /// <summary>Where the attacker's address may be, in order of preference (upstream's spellings).</summary>
    public static readonly IReadOnlyList<string> AttackerIpKeys = ["src_ip", "src", "client_ip", "remote_ip", "remote_addr", "target_ip", "ip"];

    private const string NilValue = "-";

    public static ParseResult Parse(string? line)
    {
        line ??= string.Empty;
        var truncated = false;
        if (line.Length > MaxLineLength)
        {
            var cut = MaxLineLength;
            if (char.IsHighSurrogate(line[cut - 1]))
            {
                cut--;
            }
            line = line[..cut];
            truncated = true;
        }
        // Docker and file tails hand over the line terminator; it is never part of an event.
        var text = line.TrimEnd('\r', '\n');
        var error = TryParse(text, line, out var parsed);
        return error is null
            ? new ParseResult(parsed, line, null, truncated)
            : new ParseResult(null, line, error, truncated);
    }

    private static string? TryParse(string text, string rawLine, out ParsedEvent? parsed)
    {
        parsed = null;
        var position = 0;
        if (!TryReadPriority(text, ref position, out var priority))
        {
            return "missing or invalid PRI";
        }
        if (!TryReadToken(text, ref position, out var version) || version != "1")
        {
            return "unsupported version";
        }
        if (!TryReadToken(text, ref position, out var timestampText) || !TryParseTimestamp(timestampText, out var timestamp))
        {
            return "missing or invalid TIMESTAMP";
        }
        if (!TryReadToken(text, ref position, out var hostname)
            || !TryReadToken(text, ref position, out var appName)
            || !TryReadToken(text, ref position, out var procId)
            || !TryReadToken(text, ref position, out var msgId))
        {
            return "truncated header";
        }
        var fields = new List<KeyValuePair<string, string>>();
        var sdError = ReadStructuredData(text, ref position, fields);
        if (sdError is not null)
        {
            return sdError;
        }
        string? message = null;
        if (position < text.Length)
        {
            if (text[position] != ' ')
            {
                return "no space between STRUCTURED-DATA and MSG";
            }
            message = text[(position + 1)..];
            if (message.StartsWith('\uFEFF'))
            {
                message = message[1..];
            }
            if (message.Length == 0)
            {
                message = null;
            }
        }
        parsed = new ParsedEvent(
            timestamp,
            priority,
            Nil(hostname),
            Nil(appName),
            Nil(procId),
            Nil(msgId),
            fields,
            message,
            FindAttackerIp(fields, message),
            rawLine);
        return null;
    }

    /// <summary>First non-empty IP field by preference; else a <c>key=value</c> pair in MSG (bash CMD lines); else null.</summary>
    public static string? FindAttackerIp(IReadOnlyList<KeyValuePair<string, string>> fields, string? message)
    {
        foreach (var key in AttackerIpKeys)
        {
            foreach (var (name, value) in fields)
            {
                if (string.Equals(name, key, StringComparison.Ordinal) && !string.IsNullOrWhiteSpace(value))
                {
                    return value;
                }
            }
        }
        if (string.IsNullOrEmpty(message))
        {
            return null;
        }
        string? best = null;
        var bestRank = int.MaxValue;
        foreach (var token in message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = token.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }
            var rank = IndexOfKey(token.AsSpan(0, equals));
            var value = token[(equals + 1)..].Trim('"', '\'');
            if (rank >= 0 && rank < bestRank && value.Length > 0)
            {
                (best, bestRank) = (value, rank);
            }
        }
        return best;
    }

    private static int IndexOfKey(ReadOnlySpan<char> key)
    {
        for (var i = 0; i < AttackerIpKeys.Count; i++)
        {
            if (key.SequenceEqual(AttackerIpKeys[i]))
            {
                return i;
            }
        }
        return -1;
    }

    private static string Nil(string token) => token == NilValue ? string.Empty : token;

    private static bool TryReadPriority(string text, ref int position, out int priority)
    {
        priority = 0;
        if (position >= text.Length || text[position] != '<')
        {
            return false;
        }
        var close = text.IndexOf('>', position + 1);
        if (close < 0 || close - position - 1 is < 1 or > 3)
        {
            return false;
        }
        var digits = text.AsSpan(position + 1, close - position - 1);
        if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out priority) || priority > 191)
        {
            return false;
        }
        position = close + 1;
        return true;
    }

    /// <summary>A header token ends at a single space; the space is consumed.</summary>
    private static bool TryReadToken(string text, ref int position, out string token)
    {
        token = string.Empty;
        var space = text.IndexOf(' ', position);
        if (space <= position)
        {
            return false;
        }
        token = text[position..space];
        position = space + 1;
        return true;
    }

    private static bool TryParseTimestamp(string text, out DateTime utc)
    {
        utc = default;
        // RFC 5424 requires the 'T' form; this also keeps locale-dependent shapes out.
        if (text.Length < 19 || text[10] != 'T')
        {
            return false;
        }
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return false;
        }
        utc = parsed.UtcDateTime;
        return true;
    }

    private static string? ReadStructuredData(string text, ref int position, List<KeyValuePair<string, string>> fields)
    {
        if (position >= text.Length)
        {
            return "missing STRUCTURED-DATA";
        }
        if (text[position] == '-')
        {
            position++;
            return null;
        }
        if (text[position] != '[')
        {
            return "invalid STRUCTURED-DATA";
        }
        var value = new StringBuilder();
        while (position < text.Length && text[position] == '[')
        {
            position++;
            var idEnd = position;
            while (idEnd < text.Length && text[idEnd] is not ' ' and not ']')
            {
                idEnd++;
            }
            if (idEnd == position || idEnd >= text.Length)
            {
                return "invalid SD-ID";
            }
            position = idEnd;
            while (position < text.Length && text[position] == ' ')
            {
                position++;
                var equals = text.IndexOf('=', position);
                if (equals <= position || equals + 1 >= text.Length || text[equals + 1] != '"')
                {
                    return "invalid SD-PARAM";
                }
                var name = text[position..equals];
                if (name.AsSpan().IndexOfAny(" ]\"") >= 0)
                {
                    return "invalid SD-PARAM name";
                }
                position = equals + 2;
                value.Clear();
                if (!TryReadParamValue(text, ref position, value))
                {
                    return "unterminated SD-PARAM value";
                }
                fields.Add(new(name, value.ToString()));
            }
            if (position >= text.Length || text[position] != ']')
            {
                return "unterminated SD-ELEMENT";
            }
            position++;
        }
        return null;
    }

    /// <summary>
    /// Reads up to the closing quote. RFC 5424 escapes are '\"', '\\' and '\]'; our formatter also writes
    /// control characters as '\n', '\r', '\t' and '\xHH' so that one event stays one line, and those are
    /// decoded too. Any other backslash is literal, as the RFC says.
    /// </summary>
    private static bool TryReadParamValue(string text, ref int position, StringBuilder value)
    {
        while (position < text.Length)
        {
            // Plain runs are copied in one piece; only a quote or a backslash needs a look.
            var run = text.AsSpan(position).IndexOfAny('"', '\\');
            if (run < 0)
            {
                value.Append(text.AsSpan(position));
                position = text.Length;
                return false;
            }
            value.Append(text.AsSpan(position, run));
            position += run;
            var c = text[position];
            if (c == '"')
            {
                position++;
                return true;
            }
            if (position + 1 < text.Length)
            {
                var next = text[position + 1];
                switch (next)
                {
                    case '"' or '\\' or ']':
                        value.Append(next);
                        position += 2;
                        continue;
                    case 'n':
                        value.Append('\n');
                        position += 2;
                        continue;
                    case 'r':
                        value.Append('\r');
                        position += 2;
                        continue;
                    case 't':
                        value.Append('\t');
                        position += 2;
                        continue;
                    case 'x' when position + 3 < text.Length
                        && int.TryParse(text.AsSpan(position + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code):
                        value.Append((char)code);
                        position += 4;
                        continue;
                }
            }
            value.Append(c);
            position++;
        }
        return false;
    }
}
