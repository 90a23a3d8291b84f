using System.Globalization;
using System.Text;

namespace Decnet.Core.Honeypots.Events;

/// <summary>
/// Renders a <see cref="HoneypotEvent"/> as one RFC 5424 line:
/// <c>&lt;PRI&gt;1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [relay@55555 k="v" ...] MSG</c>.
/// Every attacker-controlled piece is sanitised so one event is always exactly one parseable line.
/// </summary>
public static class Rfc5424Formatter
{
    public const string StructuredDataId = "relay@55555";
    public const int Facility = 16; // local0
    public const int MaxHostnameLength = 255;
    public const int MaxAppNameLength = 48;
    public const int MaxProcIdLength = 128;
    public const int MaxMsgIdLength = 32;
    public const int MaxParamNameLength = 32;

    /// <summary>Longest rendered parameter value; services already bound what they capture, this is the last line of defence.</summary>
    public const int MaxParamValueLength = 8192;

    public const int MaxMessageLength = 8192;

    public static int Priority(EventSeverity severity) => (Facility * 8) + (int)severity;

    public static string Format(HoneypotEvent honeypotEvent, string? procId = null)
    {
        var builder = new StringBuilder(256);
        builder.Append('<').Append(Priority(honeypotEvent.Severity).ToString(CultureInfo.InvariantCulture)).Append(">1 ");
        builder.Append(honeypotEvent.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)).Append(' ');
        AppendHeaderField(builder, honeypotEvent.Decky, MaxHostnameLength);
        builder.Append(' ');
        AppendHeaderField(builder, honeypotEvent.Service, MaxAppNameLength);
        builder.Append(' ');
        AppendHeaderField(builder, procId, MaxProcIdLength);
        builder.Append(' ');
        AppendHeaderField(builder, honeypotEvent.EventType, MaxMsgIdLength);
        builder.Append(' ');
        AppendStructuredData(builder, honeypotEvent.Fields);
        if (!string.IsNullOrEmpty(honeypotEvent.Message))
        {
            builder.Append(' ');
            AppendFlattened(builder, honeypotEvent.Message, MaxMessageLength);
        }
        return builder.ToString();
    }

    /// <summary>Header fields are PRINTUSASCII without spaces; anything else becomes '_', empty becomes NILVALUE.</summary>
    private static void AppendHeaderField(StringBuilder builder, string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            builder.Append('-');
            return;
        }
        var length = Math.Min(value.Length, maxLength);
        for (var i = 0; i < length; i++)
        {
            builder.Append(HeaderChar(value[i]));
        }
    }

    /// <summary>
    /// A header field as a parser reads it back from the line: sanitised and cut, empty when the line
    /// carries NILVALUE (which a value of exactly "-" also becomes).
    /// </summary>
    public static string HeaderValue(string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }
        var text = string.Create(Math.Min(value.Length, maxLength), value, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = HeaderChar(source[i]);
            }
        });
        return text == "-" ? string.Empty : text;
    }

    private static char HeaderChar(char c) => c is > ' ' and <= '~' ? c : '_';

    private static void AppendStructuredData(StringBuilder builder, IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        if (fields.Count == 0)
        {
            builder.Append('-');
            return;
        }
        builder.Append('[').Append(StructuredDataId);
        foreach (var (key, value) in fields)
        {
            builder.Append(' ').Append(SanitiseParamName(key)).Append("=\"");
            AppendParamValue(builder, value ?? string.Empty);
            builder.Append('"');
        }
        builder.Append(']');
    }

    /// <summary>SD-NAME: 1 to 32 PRINTUSASCII characters except '=', space, ']' and '"'.</summary>
    public static string SanitiseParamName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "_";
        }
        var length = Math.Min(name.Length, MaxParamNameLength);
        return string.Create(length, name, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var c = source[i];
                span[i] = c is > ' ' and <= '~' and not '=' and not ']' and not '"' ? c : '_';
            }
        });
    }

    /// <summary>
    /// PARAM-VALUE escapes '\', '"' and ']' with a backslash (RFC 5424 §6.3.3). Line breaks and other
    /// control characters are written as visible escapes so an attacker cannot forge a second log line.
    /// </summary>
    private static void AppendParamValue(StringBuilder builder, string value)
    {
        var length = ParamValueLength(value);
        for (var i = 0; i < length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '\\' or '"' or ']':
                    builder.Append('\\').Append(c);
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                case < ' ' or '\x7f':
                    builder.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }
    }

    /// <summary>
    /// How much of a parameter value the line carries: at most <see cref="MaxParamValueLength"/> characters,
    /// never ending in half a surrogate pair. Every character of that prefix reads back as itself.
    /// </summary>
    public static int ParamValueLength(string value)
    {
        var length = Math.Min(value.Length, MaxParamValueLength);
        if (length > 0 && char.IsHighSurrogate(value[length - 1]))
        {
            length--;
        }
        return length;
    }

    /// <summary>The message as the line carries it: on one line (control characters become spaces) and cut.</summary>
    public static string FlattenedMessage(string message) =>
        string.Create(Math.Min(message.Length, MaxMessageLength), message, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = FlattenedChar(source[i]);
            }
        });

    private static void AppendFlattened(StringBuilder builder, string message, int maxLength)
    {
        var length = Math.Min(message.Length, maxLength);
        for (var i = 0; i < length; i++)
        {
            builder.Append(FlattenedChar(message[i]));
        }
    }

    private static char FlattenedChar(char c) => c is '\r' or '\n' or < ' ' ? ' ' : c;
}
