using System.Buffers.Binary;
using System.Text;

namespace Decnet.Core.Honeypots.Mongo;

/// <summary>Opcodes of the MongoDB wire protocol the honeypot recognises.</summary>
public static class MongoOpCode
{
    public const int Reply = 1;
    public const int Update = 2001;
    public const int Insert = 2002;
    public const int Query = 2004;
    public const int GetMore = 2005;
    public const int Delete = 2006;
    public const int KillCursors = 2007;
    public const int Compressed = 2012;
    public const int Msg = 2013;
}

/// <summary>A command as the client sent it: the body document, its database and how it came (OP_MSG or OP_QUERY).</summary>
/// <param name="MoreToCome">OP_MSG flag: the client wants no reply (unacknowledged write).</param>
public sealed record MongoCommand(int RequestId, int OpCode, string Database, BsonDocument Body, string? Collection = null, bool MoreToCome = false)
{
    /// <summary>The command name: the first element of the body.</summary>
    public string Name => Body.Count > 0 ? Body[0].Key : string.Empty;
}

/// <summary>
/// Framing of the MongoDB wire protocol: the 16-byte header, OP_MSG sections and legacy OP_QUERY, and the
/// replies. Parsers take attacker bytes and return null on anything malformed.
/// </summary>
public static class MongoWire
{
    public const int HeaderLength = 16;

    /// <summary>
    /// Parses the body of an OP_MSG or OP_QUERY message (the bytes after the header). Document sequences
    /// (kind 1) are folded into the body under their identifier, as the server does.
    /// </summary>
    public static MongoCommand? ParseCommand(int requestId, int opCode, ReadOnlySpan<byte> body) => opCode switch
    {
        MongoOpCode.Msg => ParseMsg(requestId, body),
        MongoOpCode.Query => ParseQuery(requestId, body),
        _ => null,
    };

    private static MongoCommand? ParseMsg(int requestId, ReadOnlySpan<byte> body)
    {
        if (body.Length < 5)
        {
            return null;
        }
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(body);
        var end = body.Length;
        if ((flags & 1) != 0)
        {
            // checksumPresent: the CRC-32C trails the sections.
            end -= 4;
        }
        if ((flags & 0xffff & ~0x3u) != 0)
        {
            // Unknown required flag bits: the server must reject the message.
            return null;
        }
        BsonDocument? command = null;
        var position = 4;
        var sequences = 0;
        while (position < end)
        {
            var kind = body[position++];
            if (kind == 0)
            {
                if (command is not null)
                {
                    return null;
                }
                command = Bson.TryRead(body[position..end], out var used);
                if (command is null)
                {
                    return null;
                }
                position += used;
            }
            else if (kind == 1)
            {
                if (end - position < 4 || ++sequences > 8)
                {
                    return null;
                }
                var size = BinaryPrimitives.ReadInt32LittleEndian(body[position..]);
                if (size < 5 || size > end - position)
                {
                    return null;
                }
                var section = body.Slice(position + 4, size - 4);
                var nameEnd = section.IndexOf((byte)0);
                if (nameEnd < 0)
                {
                    return null;
                }
                var identifier = Encoding.UTF8.GetString(section[..nameEnd]);
                var documents = new List<object?>();
                var offset = nameEnd + 1;
                while (offset < section.Length)
                {
                    var document = Bson.TryRead(section[offset..], out var used);
                    if (document is null || documents.Count >= Bson.MaxElements)
                    {
                        return null;
                    }
                    documents.Add(document);
                    offset += used;
                }
                (command ??= []).Add(identifier, documents);
                position += size;
            }
            else
            {
                return null;
            }
        }
        if (command is null || command.Count == 0)
        {
            return null;
        }
        // A kind 1 section may precede the body: keep the command name first.
        var first = command.FindIndex(e => e.Value is not List<object?>);
        if (first > 0)
        {
            var element = command[first];
            command.RemoveAt(first);
            command.Insert(0, element);
        }
        return new MongoCommand(requestId, MongoOpCode.Msg, command.String("$db") ?? "admin", command, MoreToCome: (flags & 2) != 0);
    }

    private static MongoCommand? ParseQuery(int requestId, ReadOnlySpan<byte> body)
    {
        if (body.Length < 4)
        {
            return null;
        }
        var nameEnd = body[4..].IndexOf((byte)0);
        if (nameEnd < 0 || body.Length < 4 + nameEnd + 1 + 8)
        {
            return null;
        }
        var fullName = Encoding.UTF8.GetString(body.Slice(4, nameEnd));
        var query = Bson.TryRead(body[(4 + nameEnd + 1 + 8)..]);
        if (query is null)
        {
            return null;
        }
        var dot = fullName.IndexOf('.', StringComparison.Ordinal);
        var database = dot > 0 ? fullName[..dot] : fullName;
        var collection = dot > 0 ? fullName[(dot + 1)..] : string.Empty;
        // Drivers wrap commands as {$query: {...}, $readPreference: ...} when they talk to a mongos.
        if (query.Document("$query") is { } wrapped)
        {
            query = wrapped;
        }
        return new MongoCommand(requestId, MongoOpCode.Query, database, query, collection);
    }

    public static byte[] MsgReply(int requestId, int responseTo, BsonDocument body)
    {
        var document = Bson.Write(body);
        var message = new byte[HeaderLength + 5 + document.Length];
        WriteHeader(message, requestId, responseTo, MongoOpCode.Msg);
        message[HeaderLength + 4] = 0;
        document.CopyTo(message, HeaderLength + 5);
        return message;
    }

    public static byte[] QueryReply(int requestId, int responseTo, BsonDocument body)
    {
        var document = Bson.Write(body);
        var message = new byte[HeaderLength + 20 + document.Length];
        WriteHeader(message, requestId, responseTo, MongoOpCode.Reply);
        // responseFlags: AwaitCapable, as every server since 1.6 sets it.
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(HeaderLength), 8);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(HeaderLength + 16), 1);
        document.CopyTo(message, HeaderLength + 20);
        return message;
    }

    private static void WriteHeader(byte[] message, int requestId, int responseTo, int opCode)
    {
        BinaryPrimitives.WriteInt32LittleEndian(message, message.Length);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(4), requestId);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(8), responseTo);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(12), opCode);
    }
}
