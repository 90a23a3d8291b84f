using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Mysql;

public sealed class MysqlHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "mysql";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(3306)];

    public IHoneypotService Create(ServiceContext context) => new MysqlHoneypot(context);
}

/// <summary>
/// A MySQL server that never lets anyone in. It speaks the real v10 handshake, logs the login
/// (username, database, client attributes, and the scramble plus auth response so weak passwords can
/// be cracked offline), then asks clients that allow it to resend the password in clear text
/// (mysql_clear_password) before answering error 1045.
/// </summary>
public sealed class MysqlHoneypot(ServiceContext context) : IHoneypotService
{
    public const int MaxPacketBytes = 16 * 1024;
    private const int ScrambleLength = 20;
    private static int _connectionIds = RandomNumberGenerator.GetInt32(1000, 50_000);

    private const MysqlCapabilities ServerCapabilities =
        MysqlCapabilities.LongPassword | MysqlCapabilities.FoundRows | MysqlCapabilities.LongFlag | MysqlCapabilities.ConnectWithDb
        | MysqlCapabilities.NoSchema | MysqlCapabilities.Odbc | MysqlCapabilities.LocalFiles | MysqlCapabilities.IgnoreSpace
        | MysqlCapabilities.Protocol41 | MysqlCapabilities.Interactive | MysqlCapabilities.IgnoreSigpipe | MysqlCapabilities.Transactions
        | MysqlCapabilities.Reserved | MysqlCapabilities.SecureConnection | MysqlCapabilities.MultiStatements | MysqlCapabilities.MultiResults
        | MysqlCapabilities.PsMultiResults | MysqlCapabilities.PluginAuth | MysqlCapabilities.ConnectAttrs
        | MysqlCapabilities.PluginAuthLenencClientData | MysqlCapabilities.CanHandleExpiredPasswords | MysqlCapabilities.SessionTrack
        | MysqlCapabilities.DeprecateEof;

    public ServiceContext Context { get; } = context;

    private string Version => Context.PersonaValue("version") ?? "5.7.38-log";

    /// <summary>Persona <c>cleartext_switch=false</c> turns off the clear-text password request.</summary>
    private bool AskForCleartext => !string.Equals(Context.PersonaValue("cleartext_switch"), "false", StringComparison.OrdinalIgnoreCase);

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var stream = connection.Stream;
        var scramble = NewScramble();
        var connectionId = (uint)Interlocked.Increment(ref _connectionIds);
        await WritePacketAsync(stream, 0, MysqlPackets.Handshake(Version, connectionId, scramble, ServerCapabilities), cancellationToken).ConfigureAwait(false);

        var packet = await ReadPacketAsync(stream, cancellationToken).ConfigureAwait(false);
        if (packet is null)
        {
            return;
        }
        var (sequence, payload) = packet.Value;
        if (MysqlPackets.IsSslRequest(payload))
        {
            // TLS was never advertised; a client asking anyway gets a handshake error, as from a server built without SSL.
            connection.Emit("ssl_request");
            await WritePacketAsync(stream, (byte)(sequence + 1), MysqlPackets.Error(1043, "08S01", "Bad handshake"), cancellationToken).ConfigureAwait(false);
            return;
        }
        var response = MysqlPackets.ParseHandshakeResponse(payload);
        if (response is null)
        {
            connection.Emit("protocol_error", ("error", "malformed handshake response"), ("length", payload.Length.ToString(CultureInfo.InvariantCulture)));
            await WritePacketAsync(stream, (byte)(sequence + 1), MysqlPackets.Error(1043, "08S01", "Bad handshake"), cancellationToken).ConfigureAwait(false);
            return;
        }

        var usingPassword = response.AuthResponse.Length > 0;
        connection.Emit(
            "auth",
            ("username", response.Username),
            ("database", response.Database),
            ("auth_plugin", response.AuthPlugin),
            ("auth_response", usingPassword ? Convert.ToHexStringLower(response.AuthResponse) : null),
            ("scramble", Convert.ToHexStringLower(scramble)),
            ("using_password", usingPassword ? "YES" : "NO"),
            ("client_attrs", response.Attributes.Count > 0 ? JsonSerializer.Serialize(response.Attributes.ToDictionary(a => a.Key, a => a.Value)) : null),
            ("client_flags", ((uint)response.Capabilities).ToString("x8", CultureInfo.InvariantCulture)));

        var next = (byte)(sequence + 1);
        if (AskForCleartext && usingPassword && (response.Capabilities & MysqlCapabilities.PluginAuth) != 0)
        {
            await WritePacketAsync(stream, next, MysqlPackets.AuthSwitch("mysql_clear_password", []), cancellationToken).ConfigureAwait(false);
            var reply = await ReadPacketAsync(stream, cancellationToken).ConfigureAwait(false);
            if (reply is null)
            {
                // Clients without the clear-text plugin enabled hang up here; the hashed attempt is already logged.
                connection.Emit("auth_switch_refused", ("username", response.Username), ("plugin", "mysql_clear_password"));
                return;
            }
            var cleartext = reply.Value.Payload;
            var end = Array.IndexOf(cleartext, (byte)0);
            var password = Encoding.UTF8.GetString(cleartext, 0, end < 0 ? cleartext.Length : end);
            connection.Emit("auth_attempt", ("username", response.Username), ("password", password), ("database", response.Database));
            usingPassword = password.Length > 0;
            next = (byte)(reply.Value.Sequence + 1);
        }

        var message = $"Access denied for user '{response.Username}'@'{connection.RemoteIp}' (using password: {(usingPassword ? "YES" : "NO")})";
        await WritePacketAsync(stream, next, MysqlPackets.Error(1045, "28000", message), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>20 random printable-range bytes without NUL or '$', as the server generates them.</summary>
    private static byte[] NewScramble()
    {
        var scramble = RandomNumberGenerator.GetBytes(ScrambleLength);
        for (var i = 0; i < scramble.Length; i++)
        {
            scramble[i] = (byte)(0x21 + (scramble[i] % 0x5d));
            if (scramble[i] == (byte)'$')
            {
                scramble[i]++;
            }
        }
        return scramble;
    }

    private static async Task WritePacketAsync(Stream stream, byte sequence, byte[] payload, CancellationToken ct)
    {
        var packet = new byte[payload.Length + 4];
        packet[0] = (byte)payload.Length;
        packet[1] = (byte)(payload.Length >> 8);
        packet[2] = (byte)(payload.Length >> 16);
        packet[3] = sequence;
        payload.CopyTo(packet, 4);
        await stream.WriteAsync(packet, ct).ConfigureAwait(false);
    }

    /// <summary>One packet, or null when the client hung up or announced more than <see cref="MaxPacketBytes"/>.</summary>
    private static async Task<(byte Sequence, byte[] Payload)?> ReadPacketAsync(Stream stream, CancellationToken ct)
    {
        var header = new byte[4];
        if (!await ReadExactlyAsync(stream, header, ct).ConfigureAwait(false))
        {
            return null;
        }
        var length = header[0] | (header[1] << 8) | (header[2] << 16);
        if (length > MaxPacketBytes)
        {
            return null;
        }
        var payload = new byte[length];
        if (!await ReadExactlyAsync(stream, payload, ct).ConfigureAwait(false))
        {
            return null;
        }
        return (header[3], payload);
    }

    private static async Task<bool> ReadExactlyAsync(Stream stream, Memory<byte> buffer, CancellationToken ct)
    {
        while (!buffer.IsEmpty)
        {
            var read = await stream.ReadAsync(buffer, ct).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }
            buffer = buffer[read..];
        }
        return true;
    }
}
