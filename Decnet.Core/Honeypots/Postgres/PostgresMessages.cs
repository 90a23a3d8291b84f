using System.Buffers.Binary;
using System.Text;

namespace Decnet.Core.Honeypots.Postgres;

/// <summary>One field of an ErrorResponse or NoticeResponse, by its one-letter code.</summary>
public readonly record struct PostgresErrorField(char Code, string Value);

/// <summary>
/// Builds backend messages of the PostgreSQL v3 wire protocol (type byte, Int32 length that counts
/// itself, payload) and parses the few frontend payloads the honeypot reads. Parsers take attacker
/// bytes: they check every length and return null instead of throwing.
/// </summary>
public static class PostgresMessages
{
    public const int ProtocolVersion3 = 196608;
    public const int SslRequestCode = 80877103;
    public const int GssEncRequestCode = 80877104;
    public const int CancelRequestCode = 80877102;

    /// <summary>PostgreSQL refuses startup packets shorter than 8 or longer than this (MAX_STARTUP_PACKET_LENGTH).</summary>
    public const int MaxStartupPacket = 10_000;

    private const int MaxStartupParameters = 64;

    public static byte[] Message(char type, ReadOnlySpan<byte> payload)
    {
        var message = new byte[payload.Length + 5];
        message[0] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), payload.Length + 4);
        payload.CopyTo(message.AsSpan(5));
        return message;
    }

    public static byte[] Authentication(int code, ReadOnlySpan<byte> data = default)
    {
        var payload = new byte[4 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(payload, code);
        data.CopyTo(payload.AsSpan(4));
        return Message('R', payload);
    }

    /// <summary>AuthenticationSASL: the mechanisms the server offers, each NUL-terminated, then an empty one.</summary>
    public static byte[] AuthenticationSasl(params string[] mechanisms)
    {
        var data = new List<byte>();
        foreach (var mechanism in mechanisms)
        {
            data.AddRange(Encoding.ASCII.GetBytes(mechanism));
            data.Add(0);
        }
        data.Add(0);
        return Authentication(10, data.ToArray());
    }

    public static byte[] ParameterStatus(string name, string value) => Message('S', CStrings(name, value));

    public static byte[] BackendKeyData(int processId, int secret)
    {
        var payload = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(payload, processId);
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(4), secret);
        return Message('K', payload);
    }

    public static byte[] ReadyForQuery(char status = 'I') => Message('Z', [(byte)status]);

    public static byte[] CommandComplete(string tag) => Message('C', CStrings(tag));

    public static byte[] EmptyQueryResponse() => Message('I', []);

    /// <summary>RowDescription with every column typed text (OID 25), as psql prints any type the same way.</summary>
    public static byte[] RowDescription(IReadOnlyList<string> columns)
    {
        using var payload = new MemoryStream();
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt16BigEndian(number, (short)columns.Count);
        payload.Write(number[..2]);
        foreach (var column in columns)
        {
            payload.Write(CStrings(column));
            WriteInt32(payload, 0);
            WriteInt16(payload, 0);
            WriteInt32(payload, 25);
            WriteInt16(payload, -1);
            WriteInt32(payload, -1);
            WriteInt16(payload, 0);
        }
        return Message('T', payload.ToArray());
    }

    public static byte[] DataRow(IReadOnlyList<string?> values)
    {
        using var payload = new MemoryStream();
        WriteInt16(payload, (short)values.Count);
        foreach (var value in values)
        {
            if (value is null)
            {
                WriteInt32(payload, -1);
                continue;
            }
            var bytes = Encoding.UTF8.GetBytes(value);
            WriteInt32(payload, bytes.Length);
            payload.Write(bytes);
        }
        return Message('D', payload.ToArray());
    }

    public static byte[] Error(IEnumerable<PostgresErrorField> fields) => Fields('E', fields);

    /// <summary>An ErrorResponse laid out as PostgreSQL 10+ writes it: S, V, C, M, then the source location.</summary>
    public static byte[] Error(string severity, string sqlState, string message, string? file = null, int? line = null, string? routine = null)
    {
        var fields = new List<PostgresErrorField> { new('S', severity), new('V', severity), new('C', sqlState), new('M', message) };
        if (file is not null)
        {
            fields.Add(new('F', file));
        }
        if (line is not null)
        {
            fields.Add(new('L', line.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        if (routine is not null)
        {
            fields.Add(new('R', routine));
        }
        return Error(fields);
    }

    private static byte[] Fields(char type, IEnumerable<PostgresErrorField> fields)
    {
        using var payload = new MemoryStream();
        foreach (var field in fields)
        {
            payload.WriteByte((byte)field.Code);
            payload.Write(CStrings(field.Value));
        }
        payload.WriteByte(0);
        return Message(type, payload.ToArray());
    }

    /// <summary>
    /// The parameters of a v3 StartupMessage after its protocol code: NUL-terminated name/value pairs
    /// ending with an empty name. Null when malformed or with more than 64 pairs.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>>? ParseStartupParameters(ReadOnlySpan<byte> body)
    {
        var result = new List<KeyValuePair<string, string>>();
        var position = 0;
        while (true)
        {
            var name = ReadCString(body, ref position);
            if (name is null)
            {
                return null;
            }
            if (name.Length == 0)
            {
                return result;
            }
            var value = ReadCString(body, ref position);
            if (value is null || result.Count >= MaxStartupParameters)
            {
                return null;
            }
            result.Add(new(name, value));
        }
    }

    /// <summary>SASLInitialResponse: mechanism name, Int32 length (-1 for none), data.</summary>
    public static (string Mechanism, byte[] Data)? ParseSaslInitialResponse(ReadOnlySpan<byte> body)
    {
        var position = 0;
        var mechanism = ReadCString(body, ref position);
        if (mechanism is null || body.Length - position < 4)
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32BigEndian(body[position..]);
        position += 4;
        if (length == -1)
        {
            return (mechanism, []);
        }
        if (length < 0 || length > body.Length - position)
        {
            return null;
        }
        return (mechanism, body.Slice(position, length).ToArray());
    }

    /// <summary>The text up to the first NUL, or the whole payload when the client left the terminator out.</summary>
    public static string CStringOrAll(ReadOnlySpan<byte> body)
    {
        var end = body.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? body : body[..end]);
    }

    /// <summary>Parse (extended protocol): statement name, then the query text.</summary>
    public static string? ParseParseQuery(ReadOnlySpan<byte> body)
    {
        var position = 0;
        return ReadCString(body, ref position) is null ? null : ReadCString(body, ref position);
    }

    private static string? ReadCString(ReadOnlySpan<byte> body, ref int position)
    {
        if (position >= body.Length)
        {
            return null;
        }
        var end = body[position..].IndexOf((byte)0);
        if (end < 0)
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(body.Slice(position, end));
        position += end + 1;
        return text;
    }

    private static byte[] CStrings(params string[] values)
    {
        var bytes = new List<byte>();
        foreach (var value in values)
        {
            bytes.AddRange(Encoding.UTF8.GetBytes(value));
            bytes.Add(0);
        }
        return [.. bytes];
    }

    private static void WriteInt32(Stream stream, int value)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(buffer, value);
        stream.Write(buffer);
    }

    private static void WriteInt16(Stream stream, short value)
    {
        Span<byte> buffer = stackalloc byte[2];
        BinaryPrimitives.WriteInt16BigEndian(buffer, value);
        stream.Write(buffer);
    }
}
