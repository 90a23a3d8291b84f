using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Decnet.Core.Honeypots.Mongo;

/// <summary>A BSON document: ordered elements, names as the client sent them.</summary>
public sealed class BsonDocument : List<KeyValuePair<string, object?>>
{
    public BsonDocument()
    {
    }

    public BsonDocument(IEnumerable<KeyValuePair<string, object?>> elements) : base(elements)
    {
    }

    public object? this[string name]
    {
        get => Find(name);
        set
        {
            var index = FindIndex(e => e.Key == name);
            if (index >= 0)
            {
                this[index] = new(name, value);
            }
            else
            {
                Add(new(name, value));
            }
        }
    }

    public void Add(string name, object? value) => Add(new KeyValuePair<string, object?>(name, value));

    public object? Find(string name)
    {
        foreach (var element in this)
        {
            if (element.Key == name)
            {
                return element.Value;
            }
        }
        return null;
    }

    public bool Has(string name) => Exists(e => e.Key == name);

    public string? String(string name) => Find(name) as string;

    public BsonDocument? Document(string name) => Find(name) as BsonDocument;

    /// <summary>A numeric element as a long whatever its BSON type (int32, int64, double); null otherwise.</summary>
    public long? Number(string name) => Find(name) switch
    {
        int i => i,
        long l => l,
        double d when !double.IsNaN(d) && d is >= long.MinValue and <= long.MaxValue => (long)d,
        _ => null,
    };
}

/// <summary>Binary data with its subtype (0 generic, 4 UUID ...).</summary>
public sealed record BsonBinary(byte SubType, byte[] Data);

/// <summary>A 12-byte ObjectId.</summary>
public sealed record BsonObjectId(byte[] Bytes)
{
    public override string ToString() => Convert.ToHexStringLower(Bytes);
}

/// <summary>A BSON timestamp (replication clock): seconds and an ordinal.</summary>
public readonly record struct BsonTimestamp(uint Seconds, uint Increment);

/// <summary>A value of a type the honeypot carries but never interprets (decimal128, regex, code ...).</summary>
public sealed record BsonRaw(byte Type, byte[] Bytes);

/// <summary>
/// Reads and writes BSON (bsonspec.org 1.1). The reader takes attacker bytes: every length is checked
/// against what is left, nesting and element counts are capped, and malformed input yields null.
/// </summary>
public static class Bson
{
    public const int MaxDepth = 32;
    public const int MaxElements = 10_000;

    public static BsonDocument? TryRead(ReadOnlySpan<byte> data) => TryRead(data, out _);

    /// <summary>Reads one document at the start of <paramref name="data"/>; <paramref name="length"/> is the bytes it took.</summary>
    public static BsonDocument? TryRead(ReadOnlySpan<byte> data, out int length)
    {
        length = 0;
        var budget = MaxElements;
        var document = ReadDocument(data, 0, ref budget, out length);
        return document;
    }

    private static BsonDocument? ReadDocument(ReadOnlySpan<byte> data, int depth, ref int budget, out int length)
    {
        length = 0;
        if (depth > MaxDepth || data.Length < 5)
        {
            return null;
        }
        var size = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (size < 5 || size > data.Length || data[size - 1] != 0)
        {
            return null;
        }
        var body = data[4..(size - 1)];
        var document = new BsonDocument();
        var position = 0;
        while (position < body.Length)
        {
            if (--budget < 0)
            {
                return null;
            }
            var type = body[position++];
            var nameEnd = body[position..].IndexOf((byte)0);
            if (nameEnd < 0)
            {
                return null;
            }
            var name = Encoding.UTF8.GetString(body.Slice(position, nameEnd));
            position += nameEnd + 1;
            if (!ReadValue(body[position..], type, depth, ref budget, out var value, out var used))
            {
                return null;
            }
            position += used;
            document.Add(name, value);
        }
        length = size;
        return document;
    }

    private static bool ReadValue(ReadOnlySpan<byte> data, byte type, int depth, ref int budget, out object? value, out int used)
    {
        value = null;
        used = 0;
        switch (type)
        {
            case 0x01:
                if (data.Length < 8)
                {
                    return false;
                }
                value = BinaryPrimitives.ReadDoubleLittleEndian(data);
                used = 8;
                return true;
            case 0x02 or 0x0D or 0x0E:
                {
                    if (data.Length < 4)
                    {
                        return false;
                    }
                    var size = BinaryPrimitives.ReadInt32LittleEndian(data);
                    if (size < 1 || size > data.Length - 4 || data[3 + size] != 0)
                    {
                        return false;
                    }
                    var text = Encoding.UTF8.GetString(data.Slice(4, size - 1));
                    value = type == 0x02 ? text : new BsonRaw(type, data[..(4 + size)].ToArray());
                    used = 4 + size;
                    return true;
                }
            case 0x03 or 0x04:
                {
                    var document = ReadDocument(data, depth + 1, ref budget, out used);
                    if (document is null)
                    {
                        return false;
                    }
                    value = type == 0x03 ? document : document.Select(e => e.Value).ToList();
                    return true;
                }
            case 0x05:
                {
                    if (data.Length < 5)
                    {
                        return false;
                    }
                    var size = BinaryPrimitives.ReadInt32LittleEndian(data);
                    if (size < 0 || size > data.Length - 5)
                    {
                        return false;
                    }
                    value = new BsonBinary(data[4], data.Slice(5, size).ToArray());
                    used = 5 + size;
                    return true;
                }
            case 0x06 or 0x0A or 0x7F or 0xFF:
                value = type == 0x0A ? null : new BsonRaw(type, []);
                return true;
            case 0x07:
                if (data.Length < 12)
                {
                    return false;
                }
                value = new BsonObjectId(data[..12].ToArray());
                used = 12;
                return true;
            case 0x08:
                if (data.Length < 1 || data[0] > 1)
                {
                    return false;
                }
                value = data[0] == 1;
                used = 1;
                return true;
            case 0x09:
                if (data.Length < 8)
                {
                    return false;
                }
                var millis = BinaryPrimitives.ReadInt64LittleEndian(data);
                value = millis is >= -62_135_596_800_000 and <= 253_402_300_799_999 ? DateTimeOffset.FromUnixTimeMilliseconds(millis) : new BsonRaw(type, data[..8].ToArray());
                used = 8;
                return true;
            case 0x0B:
                {
                    var first = data.IndexOf((byte)0);
                    if (first < 0)
                    {
                        return false;
                    }
                    var second = data[(first + 1)..].IndexOf((byte)0);
                    if (second < 0)
                    {
                        return false;
                    }
                    used = first + second + 2;
                    value = new BsonRaw(type, data[..used].ToArray());
                    return true;
                }
            case 0x0F:
                {
                    if (data.Length < 4)
                    {
                        return false;
                    }
                    var size = BinaryPrimitives.ReadInt32LittleEndian(data);
                    if (size < 14 || size > data.Length)
                    {
                        return false;
                    }
                    value = new BsonRaw(type, data[..size].ToArray());
                    used = size;
                    return true;
                }
            case 0x0C:
                {
                    if (data.Length < 4)
                    {
                        return false;
                    }
                    var size = BinaryPrimitives.ReadInt32LittleEndian(data);
                    if (size < 1 || size > data.Length - 16)
                    {
                        return false;
                    }
                    used = 4 + size + 12;
                    value = new BsonRaw(type, data[..used].ToArray());
                    return true;
                }
            case 0x10:
                if (data.Length < 4)
                {
                    return false;
                }
                value = BinaryPrimitives.ReadInt32LittleEndian(data);
                used = 4;
                return true;
            case 0x11:
                if (data.Length < 8)
                {
                    return false;
                }
                value = new BsonTimestamp(BinaryPrimitives.ReadUInt32LittleEndian(data[4..]), BinaryPrimitives.ReadUInt32LittleEndian(data));
                used = 8;
                return true;
            case 0x12:
                if (data.Length < 8)
                {
                    return false;
                }
                value = BinaryPrimitives.ReadInt64LittleEndian(data);
                used = 8;
                return true;
            case 0x13:
                if (data.Length < 16)
                {
                    return false;
                }
                value = new BsonRaw(type, data[..16].ToArray());
                used = 16;
                return true;
            default:
                return false;
        }
    }

    public static byte[] Write(BsonDocument document)
    {
        using var stream = new MemoryStream();
        WriteDocument(stream, document);
        return stream.ToArray();
    }

    private static void WriteDocument(Stream stream, IEnumerable<KeyValuePair<string, object?>> elements)
    {
        var start = stream.Position;
        WriteInt32(stream, 0);
        foreach (var (name, value) in elements)
        {
            WriteElement(stream, name, value);
        }
        stream.WriteByte(0);
        var end = stream.Position;
        stream.Position = start;
        WriteInt32(stream, (int)(end - start));
        stream.Position = end;
    }

    private static void WriteElement(Stream stream, string name, object? value)
    {
        var type = value switch
        {
            double => 0x01,
            string => 0x02,
            BsonDocument => 0x03,
            System.Collections.IList => 0x04,
            BsonBinary => 0x05,
            BsonObjectId => 0x07,
            bool => 0x08,
            DateTimeOffset => 0x09,
            null => 0x0A,
            int => 0x10,
            BsonTimestamp => 0x11,
            long => 0x12,
            BsonRaw raw => raw.Type,
            _ => throw new ArgumentException($"No BSON type for {value.GetType().Name}.", nameof(value)),
        };
        stream.WriteByte((byte)type);
        stream.Write(Encoding.UTF8.GetBytes(name));
        stream.WriteByte(0);
        switch (value)
        {
            case double d:
                Span<byte> buffer = stackalloc byte[8];
                BinaryPrimitives.WriteDoubleLittleEndian(buffer, d);
                stream.Write(buffer);
                break;
            case string s:
                var bytes = Encoding.UTF8.GetBytes(s);
                WriteInt32(stream, bytes.Length + 1);
                stream.Write(bytes);
                stream.WriteByte(0);
                break;
            case BsonDocument document:
                WriteDocument(stream, document);
                break;
            case System.Collections.IList list:
                var index = 0;
                WriteDocument(stream, list.Cast<object?>().Select(item => new KeyValuePair<string, object?>((index++).ToString(CultureInfo.InvariantCulture), item)).ToList());
                break;
            case BsonBinary binary:
                WriteInt32(stream, binary.Data.Length);
                stream.WriteByte(binary.SubType);
                stream.Write(binary.Data);
                break;
            case BsonObjectId id:
                stream.Write(id.Bytes);
                break;
            case bool b:
                stream.WriteByte(b ? (byte)1 : (byte)0);
                break;
            case DateTimeOffset time:
                WriteInt64(stream, time.ToUnixTimeMilliseconds());
                break;
            case int i:
                WriteInt32(stream, i);
                break;
            case BsonTimestamp timestamp:
                WriteInt32(stream, (int)timestamp.Increment);
                WriteInt32(stream, (int)timestamp.Seconds);
                break;
            case long l:
                WriteInt64(stream, l);
                break;
            case BsonRaw raw:
                stream.Write(raw.Bytes);
                break;
        }
    }

    /// <summary>Relaxed extended JSON for event fields, cut at <paramref name="maxLength"/> characters.</summary>
    public static string ToJson(object? value, int maxLength = 1024)
    {
        var builder = new StringBuilder();
        AppendJson(builder, value, maxLength, 0);
        return builder.Length <= maxLength ? builder.ToString() : builder.ToString(0, maxLength) + "…";
    }

    private static void AppendJson(StringBuilder builder, object? value, int maxLength, int depth)
    {
        if (builder.Length > maxLength || depth > MaxDepth)
        {
            return;
        }
        switch (value)
        {
            case null:
                builder.Append("null");
                break;
            case string s:
                builder.Append(System.Text.Json.JsonSerializer.Serialize(s));
                break;
            case bool b:
                builder.Append(b ? "true" : "false");
                break;
            case int or long:
                builder.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
            case double d:
                builder.Append(double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "\"" + d.ToString(CultureInfo.InvariantCulture) + "\"");
                break;
            case BsonDocument document:
                builder.Append('{');
                var first = true;
                foreach (var (name, item) in document)
                {
                    if (builder.Length > maxLength)
                    {
                        break;
                    }
                    builder.Append(first ? "" : ", ").Append(System.Text.Json.JsonSerializer.Serialize(name)).Append(": ");
                    AppendJson(builder, item, maxLength, depth + 1);
                    first = false;
                }
                builder.Append('}');
                break;
            case System.Collections.IList list:
                builder.Append('[');
                for (var i = 0; i < list.Count && builder.Length <= maxLength; i++)
                {
                    builder.Append(i == 0 ? "" : ", ");
                    AppendJson(builder, list[i], maxLength, depth + 1);
                }
                builder.Append(']');
                break;
            case BsonBinary binary:
                builder.Append("{\"$binary\": \"").Append(Convert.ToBase64String(binary.Data.AsSpan(0, Math.Min(binary.Data.Length, maxLength)))).Append("\"}");
                break;
            case BsonObjectId id:
                builder.Append("{\"$oid\": \"").Append(id).Append("\"}");
                break;
            case DateTimeOffset time:
                builder.Append("{\"$date\": \"").Append(time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)).Append("\"}");
                break;
            case BsonTimestamp timestamp:
                builder.Append(CultureInfo.InvariantCulture, $"{{\"$timestamp\": {{\"t\": {timestamp.Seconds}, \"i\": {timestamp.Increment}}}}}");
                break;
            case BsonRaw raw:
                builder.Append(CultureInfo.InvariantCulture, $"{{\"$type\": {raw.Type}}}");
                break;
        }
    }

    private static void WriteInt32(Stream stream, int value)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, value);
        stream.Write(buffer);
    }

    private static void WriteInt64(Stream stream, long value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
        stream.Write(buffer);
    }
}
