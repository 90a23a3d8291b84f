using System.Buffers.Binary;
using System.Text;

namespace Decnet.Core.Honeypots.Mysql;

/// <summary>MySQL client/server capability flags used by the handshake.</summary>
[Flags]
public enum MysqlCapabilities : uint
{
    LongPassword = 0x1,
    FoundRows = 0x2,
    LongFlag = 0x4,
    ConnectWithDb = 0x8,
    NoSchema = 0x10,
    Compress = 0x20,
    Odbc = 0x40,
    LocalFiles = 0x80,
    IgnoreSpace = 0x100,
    Protocol41 = 0x200,
    Interactive = 0x400,
    Ssl = 0x800,
    IgnoreSigpipe = 0x1000,
    Transactions = 0x2000,
    Reserved = 0x4000,
    SecureConnection = 0x8000,
    MultiStatements = 0x10000,
    MultiResults = 0x20000,
    PsMultiResults = 0x40000,
    PluginAuth = 0x80000,
    ConnectAttrs = 0x100000,
    PluginAuthLenencClientData = 0x200000,
    CanHandleExpiredPasswords = 0x400000,
    SessionTrack = 0x800000,
    DeprecateEof = 0x1000000,
}

/// <summary>A parsed HandshakeResponse41.</summary>
public sealed record MysqlHandshakeResponse(
    MysqlCapabilities Capabilities,
    string Username,
    byte[] AuthResponse,
    string? Database,
    string? AuthPlugin,
    IReadOnlyList<KeyValuePair<string, string>> Attributes);

/// <summary>Bounds-checked readers and writers for the few packets the honeypot speaks.</summary>
public static class MysqlPackets
{
    public const int MaxAttributes = 64;

    /// <summary>Protocol::HandshakeV10 advertising mysql_native_password and no TLS.</summary>
    public static byte[] Handshake(string serverVersion, uint connectionId, ReadOnlySpan<byte> scramble, MysqlCapabilities capabilities)
    {
        var buffer = new List<byte>(128) { 0x0a };
        buffer.AddRange(Encoding.ASCII.GetBytes(serverVersion));
        buffer.Add(0);
        buffer.AddRange(BitConverter.GetBytes(connectionId));
        buffer.AddRange(scramble[..8].ToArray());
        buffer.Add(0);
        var caps = (uint)capabilities;
        buffer.Add((byte)caps);
        buffer.Add((byte)(caps >> 8));
        buffer.Add(0x21); // utf8_general_ci, the 5.7 default
        buffer.Add(0x02); // SERVER_STATUS_AUTOCOMMIT
        buffer.Add(0x00);
        buffer.Add((byte)(caps >> 16));
        buffer.Add((byte)(caps >> 24));
        buffer.Add((byte)(scramble.Length + 1));
        buffer.AddRange(new byte[10]);
        buffer.AddRange(scramble[8..].ToArray());
        buffer.Add(0);
        buffer.AddRange("mysql_native_password"u8.ToArray());
        buffer.Add(0);
        return [.. buffer];
    }

    public static byte[] Error(ushort code, string sqlState, string message)
    {
        var buffer = new List<byte>(64) { 0xff, (byte)code, (byte)(code >> 8), (byte)'#' };
        buffer.AddRange(Encoding.ASCII.GetBytes(sqlState));
        buffer.AddRange(Encoding.UTF8.GetBytes(message));
        return [.. buffer];
    }

    /// <summary>Protocol::AuthSwitchRequest: 0xFE, plugin name, plugin data.</summary>
    public static byte[] AuthSwitch(string plugin, ReadOnlySpan<byte> data)
    {
        var buffer = new List<byte>(32) { 0xfe };
        buffer.AddRange(Encoding.ASCII.GetBytes(plugin));
        buffer.Add(0);
        buffer.AddRange(data.ToArray());
        return [.. buffer];
    }

    /// <summary>An SSLRequest is a 32-byte HandshakeResponse prefix with CLIENT_SSL set.</summary>
    public static bool IsSslRequest(ReadOnlySpan<byte> payload) =>
        payload.Length == 32 && ((MysqlCapabilities)BinaryPrimitives.ReadUInt32LittleEndian(payload) & MysqlCapabilities.Ssl) != 0;

    public static MysqlHandshakeResponse? ParseHandshakeResponse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 32)
        {
            return null;
        }
        var caps = (MysqlCapabilities)BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if ((caps & MysqlCapabilities.Protocol41) == 0)
        {
            return null;
        }
        var reader = new Reader(payload[32..]);
        if (!reader.TryNullTerminated(out var username))
        {
            return null;
        }
        byte[] auth;
        if ((caps & MysqlCapabilities.PluginAuthLenencClientData) != 0)
        {
            if (!reader.TryLengthEncodedBytes(out auth))
            {
                return null;
            }
        }
        else if ((caps & MysqlCapabilities.SecureConnection) != 0)
        {
            if (!reader.TryByte(out var length) || !reader.TryBytes(length, out auth))
            {
                return null;
            }
        }
        else if (reader.TryNullTerminated(out var legacy))
        {
            auth = Encoding.UTF8.GetBytes(legacy);
        }
        else
        {
            return null;
        }
        string? database = null;
        if ((caps & MysqlCapabilities.ConnectWithDb) != 0 && reader.TryNullTerminated(out var db))
        {
            database = db;
        }
        string? plugin = null;
        if ((caps & MysqlCapabilities.PluginAuth) != 0 && reader.TryNullTerminated(out var name))
        {
            plugin = name;
        }
        var attributes = new List<KeyValuePair<string, string>>();
        if ((caps & MysqlCapabilities.ConnectAttrs) != 0 && reader.TryLengthEncodedBytes(out var attrBytes))
        {
            var attrs = new Reader(attrBytes);
            while (attributes.Count < MaxAttributes && attrs.TryLengthEncodedString(out var key) && attrs.TryLengthEncodedString(out var value))
            {
                attributes.Add(new(key, value));
            }
        }
        return new MysqlHandshakeResponse(caps, username, auth, database, plugin, attributes);
    }

    /// <summary>A cursor that refuses to read past the end: malformed packets yield false, never an exception.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public bool TryByte(out byte value)
        {
            value = 0;
            if (_position >= _data.Length)
            {
                return false;
            }
            value = _data[_position++];
            return true;
        }

        public bool TryBytes(long count, out byte[] value)
        {
            value = [];
            if (count < 0 || count > _data.Length - _position)
            {
                return false;
            }
            value = _data.Slice(_position, (int)count).ToArray();
            _position += (int)count;
            return true;
        }

        public bool TryNullTerminated(out string value)
        {
            value = string.Empty;
            if (_position >= _data.Length)
            {
                return false;
            }
            var end = _data[_position..].IndexOf((byte)0);
            if (end < 0)
            {
                end = _data.Length - _position;
            }
            value = Encoding.UTF8.GetString(_data.Slice(_position, end));
            _position = Math.Min(_data.Length, _position + end + 1);
            return true;
        }

        public bool TryLengthEncodedInteger(out long value)
        {
            value = 0;
            if (!TryByte(out var first))
            {
                return false;
            }
            var size = first switch
            {
                < 0xfb => 0,
                0xfc => 2,
                0xfd => 3,
                0xfe => 8,
                _ => -1,
            };
            if (size < 0)
            {
                return false;
            }
            if (size == 0)
            {
                value = first;
                return true;
            }
            if (!TryBytes(size, out var bytes))
            {
                return false;
            }
            var padded = new byte[8];
            bytes.CopyTo(padded, 0);
            value = BinaryPrimitives.ReadInt64LittleEndian(padded);
            return value >= 0;
        }

        public bool TryLengthEncodedBytes(out byte[] value)
        {
            value = [];
            return TryLengthEncodedInteger(out var length) && TryBytes(length, out value);
        }

        public bool TryLengthEncodedString(out string value)
        {
            value = string.Empty;
            if (!TryLengthEncodedBytes(out var bytes))
            {
                return false;
            }
            value = Encoding.UTF8.GetString(bytes);
            return true;
        }
    }
}
