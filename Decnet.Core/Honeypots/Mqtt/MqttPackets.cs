using System.Buffers.Binary;
using System.Text;

namespace Decnet.Core.Honeypots.Mqtt;

/// <summary>MQTT control packet types (the high nibble of the fixed header).</summary>
public enum MqttPacketType : byte
{
    Connect = 1,
    ConnAck = 2,
    Publish = 3,
    PubAck = 4,
    PubRec = 5,
    PubRel = 6,
    PubComp = 7,
    Subscribe = 8,
    SubAck = 9,
    Unsubscribe = 10,
    UnsubAck = 11,
    PingReq = 12,
    PingResp = 13,
    Disconnect = 14,
    Auth = 15,
}

/// <summary>Attacker bytes that are not MQTT; caught by the session, which logs it and hangs up like a broker.</summary>
public sealed class MqttProtocolException(string message) : Exception(message);

/// <summary>One control packet as read off the wire: the fixed header's type and flags, and the rest.</summary>
public readonly record struct MqttPacket(MqttPacketType Type, byte Flags, byte[] Body);

public sealed record MqttConnect(
    string ProtocolName,
    byte Level,
    bool CleanSession,
    ushort KeepAlive,
    string ClientId,
    string? WillTopic,
    string? Username,
    byte[]? Password)
{
    public string ProtocolVersion => Level switch
    {
        3 => "3.1",
        4 => "3.1.1",
        5 => "5.0",
        _ => Level.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

public sealed record MqttPublish(string Topic, byte QoS, bool Retain, bool Duplicate, ushort PacketId, byte[] Payload);

public sealed record MqttSubscription(string Filter, byte QoS);

/// <summary>
/// Reads and writes MQTT 3.1, 3.1.1 and 5.0 packets. Every length and count comes from the attacker, so
/// each is checked against what is left of the packet before it is used; anything inconsistent is an
/// <see cref="MqttProtocolException"/>.
/// </summary>
public static class MqttCodec
{
    /// <summary>Largest packet a session accepts: bait brokers get commands, not firmware images.</summary>
    public const int MaxPacketBytes = 256 * 1024;

    /// <summary>Reads one packet; null at a clean end of stream before the first byte.</summary>
    public static async ValueTask<MqttPacket?> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var one = new byte[1];
        if (await stream.ReadAtLeastAsync(one, 1, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) == 0)
        {
            return null;
        }
        var first = one[0];
        var length = 0;
        var multiplier = 1;
        for (var i = 0; ; i++)
        {
            if (i == 4)
            {
                throw new MqttProtocolException("malformed remaining length");
            }
            if (await stream.ReadAtLeastAsync(one, 1, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new MqttProtocolException("truncated fixed header");
            }
            length += (one[0] & 0x7f) * multiplier;
            if ((one[0] & 0x80) == 0)
            {
                break;
            }
            multiplier *= 128;
        }
        if (length > MaxPacketBytes)
        {
            throw new MqttProtocolException($"packet of {length} bytes exceeds {MaxPacketBytes}");
        }
        var body = length == 0 ? Array.Empty<byte>() : new byte[length];
        if (length > 0 && await stream.ReadAtLeastAsync(body, length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < length)
        {
            throw new MqttProtocolException("truncated packet");
        }
        return new MqttPacket((MqttPacketType)(first >> 4), (byte)(first & 0x0f), body);
    }

    public static MqttConnect ParseConnect(byte[] body)
    {
        var reader = new Reader(body);
        var protocol = reader.String();
        if (protocol is not ("MQTT" or "MQIsdp"))
        {
            throw new MqttProtocolException($"unknown protocol name '{Printable(protocol)}'");
        }
        var level = reader.Byte();
        if (level is not (3 or 4 or 5))
        {
            throw new MqttProtocolException($"unsupported protocol level {level}");
        }
        var flags = reader.Byte();
        if ((flags & 0x01) != 0)
        {
            throw new MqttProtocolException("reserved connect flag set");
        }
        var keepAlive = reader.UInt16();
        if (level == 5)
        {
            reader.SkipProperties();
        }
        var clientId = reader.String();
        string? willTopic = null;
        if ((flags & 0x04) != 0)
        {
            if (level == 5)
            {
                reader.SkipProperties();
            }
            willTopic = reader.String();
            reader.Binary();
        }
        var username = (flags & 0x80) != 0 ? reader.String() : null;
        var password = (flags & 0x40) != 0 ? reader.Binary() : null;
        return new MqttConnect(protocol, level, (flags & 0x02) != 0, keepAlive, clientId, willTopic, username, password);
    }

    public static MqttPublish ParsePublish(byte flags, byte[] body, byte level)
    {
        var qos = (byte)((flags >> 1) & 0x03);
        if (qos == 3)
        {
            throw new MqttProtocolException("publish with QoS 3");
        }
        var reader = new Reader(body);
        var topic = reader.String();
        if (topic.Length == 0 && level < 5)
        {
            throw new MqttProtocolException("publish without topic");
        }
        if (topic.Contains('+', StringComparison.Ordinal) || topic.Contains('#', StringComparison.Ordinal))
        {
            throw new MqttProtocolException("wildcard in publish topic");
        }
        var packetId = qos > 0 ? reader.UInt16() : (ushort)0;
        if (level == 5)
        {
            reader.SkipProperties();
        }
        return new MqttPublish(topic, qos, (flags & 0x01) != 0, (flags & 0x08) != 0, packetId, reader.Rest());
    }

    public static (ushort PacketId, IReadOnlyList<MqttSubscription> Filters) ParseSubscribe(byte flags, byte[] body, byte level, int maxFilters)
    {
        if (flags != 0x02)
        {
            throw new MqttProtocolException("subscribe with wrong fixed header flags");
        }
        var reader = new Reader(body);
        var packetId = reader.UInt16();
        if (level == 5)
        {
            reader.SkipProperties();
        }
        var filters = new List<MqttSubscription>();
        while (!reader.AtEnd)
        {
            if (filters.Count == maxFilters)
            {
                throw new MqttProtocolException($"more than {maxFilters} topic filters in one subscribe");
            }
            var filter = reader.String();
            var options = reader.Byte();
            filters.Add(new MqttSubscription(filter, (byte)(options & 0x03)));
        }
        if (filters.Count == 0)
        {
            throw new MqttProtocolException("subscribe without topic filters");
        }
        return (packetId, filters);
    }

    public static (ushort PacketId, IReadOnlyList<string> Filters) ParseUnsubscribe(byte flags, byte[] body, byte level, int maxFilters)
    {
        if (flags != 0x02)
        {
            throw new MqttProtocolException("unsubscribe with wrong fixed header flags");
        }
        var reader = new Reader(body);
        var packetId = reader.UInt16();
        if (level == 5)
        {
            reader.SkipProperties();
        }
        var filters = new List<string>();
        while (!reader.AtEnd && filters.Count < maxFilters)
        {
            filters.Add(reader.String());
        }
        return (packetId, filters);
    }

    /// <summary>The packet id that acknowledgement packets (PUBREL ...) carry first.</summary>
    public static ushort PacketId(byte[] body) =>
        body.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(body) : throw new MqttProtocolException("acknowledgement without packet id");

    /// <summary>A valid filter: '#' only as the whole last level, '+' only as a whole level.</summary>
    public static bool IsValidFilter(string filter)
    {
        if (filter.Length == 0)
        {
            return false;
        }
        var levels = filter.Split('/');
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if (level.Contains('#', StringComparison.Ordinal) && (level != "#" || i != levels.Length - 1))
            {
                return false;
            }
            if (level.Contains('+', StringComparison.Ordinal) && level != "+")
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Topic matching with '+' and '#'; a filter starting with a wildcard never matches a '$' topic.</summary>
    public static bool Matches(string filter, string topic)
    {
        if (topic.StartsWith('$') && (filter.StartsWith('+') || filter.StartsWith('#')))
        {
            return false;
        }
        var f = filter.Split('/');
        var t = topic.Split('/');
        for (var i = 0; i < f.Length; i++)
        {
            if (f[i] == "#")
            {
                return true;
            }
            if (i >= t.Length)
            {
                return false;
            }
            if (f[i] != "+" && f[i] != t[i])
            {
                return false;
            }
        }
        return f.Length == t.Length;
    }

    public static byte[] ConnAck(byte level, byte returnCode)
    {
        if (level == 5)
        {
            // Session present 0, reason code, no properties.
            return [0x20, 0x03, 0x00, returnCode, 0x00];
        }
        return [0x20, 0x02, 0x00, returnCode];
    }

    public static byte[] SubAck(ushort packetId, IReadOnlyList<byte> codes, byte level)
    {
        var body = new List<byte> { (byte)(packetId >> 8), (byte)packetId };
        if (level == 5)
        {
            body.Add(0x00);
        }
        body.AddRange(codes);
        return Frame(0x90, body.ToArray());
    }

    public static byte[] UnsubAck(ushort packetId, int count, byte level)
    {
        if (level < 5)
        {
            return [0xb0, 0x02, (byte)(packetId >> 8), (byte)packetId];
        }
        var body = new byte[3 + count];
        body[0] = (byte)(packetId >> 8);
        body[1] = (byte)packetId;
        return Frame(0xb0, body);
    }

    public static byte[] Ack(MqttPacketType type, ushort packetId)
    {
        var first = type == MqttPacketType.PubRel ? (byte)0x62 : (byte)((byte)type << 4);
        return [first, 0x02, (byte)(packetId >> 8), (byte)packetId];
    }

    public static byte[] PingResp() => [0xd0, 0x00];

    public static byte[] Publish(string topic, ReadOnlySpan<byte> payload, byte qos, bool retain, ushort packetId, byte level)
    {
        var topicBytes = Encoding.UTF8.GetBytes(topic);
        var body = new List<byte>(2 + topicBytes.Length + 3 + payload.Length)
        {
            (byte)(topicBytes.Length >> 8),
            (byte)topicBytes.Length,
        };
        body.AddRange(topicBytes);
        if (qos > 0)
        {
            body.Add((byte)(packetId >> 8));
            body.Add((byte)packetId);
        }
        if (level == 5)
        {
            body.Add(0x00);
        }
        body.AddRange(payload.ToArray());
        return Frame((byte)(0x30 | (qos << 1) | (retain ? 1 : 0)), body.ToArray());
    }

    public static byte[] Frame(byte first, ReadOnlySpan<byte> body)
    {
        var length = body.Length;
        var header = new List<byte>(5) { first };
        do
        {
            var digit = (byte)(length % 128);
            length /= 128;
            header.Add(length > 0 ? (byte)(digit | 0x80) : digit);
        }
        while (length > 0);
        var frame = new byte[header.Count + body.Length];
        header.CopyTo(frame);
        body.CopyTo(frame.AsSpan(header.Count));
        return frame;
    }

    public static string Printable(string text)
    {
        var cut = text.Length > 64 ? text[..64] : text;
        return new string(cut.Select(c => char.IsControl(c) ? '?' : c).ToArray());
    }

    /// <summary>A cursor over one packet body; every read checks what is left.</summary>
    private sealed class Reader(byte[] body)
    {
        private int _position;

        public bool AtEnd => _position >= body.Length;

        public byte Byte()
        {
            Need(1);
            return body[_position++];
        }

        public ushort UInt16()
        {
            Need(2);
            var value = BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(_position));
            _position += 2;
            return value;
        }

        public string String()
        {
            var bytes = Binary();
            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw new MqttProtocolException("string is not valid UTF-8");
            }
        }

        public byte[] Binary()
        {
            var length = UInt16();
            Need(length);
            var value = body.AsSpan(_position, length).ToArray();
            _position += length;
            return value;
        }

        public byte[] Rest()
        {
            var value = body.AsSpan(_position).ToArray();
            _position = body.Length;
            return value;
        }

        /// <summary>MQTT 5 properties: a variable byte integer length, then that many bytes (not interpreted).</summary>
        public void SkipProperties()
        {
            var length = 0;
            var multiplier = 1;
            for (var i = 0; ; i++)
            {
                if (i == 4)
                {
                    throw new MqttProtocolException("malformed property length");
                }
                var digit = Byte();
                length += (digit & 0x7f) * multiplier;
                if ((digit & 0x80) == 0)
                {
                    break;
                }
                multiplier *= 128;
            }
            Need(length);
            _position += length;
        }

        private void Need(int count)
        {
            if (count < 0 || body.Length - _position < count)
            {
                throw new MqttProtocolException("field runs past the end of the packet");
            }
        }
    }
}
