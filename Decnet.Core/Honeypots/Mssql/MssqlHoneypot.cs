using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Ntlm;

namespace Decnet.Core.Honeypots.Mssql;

public sealed class MssqlHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "mssql";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(1433)];

    public IHoneypotService Create(ServiceContext context) => new MssqlHoneypot(context);
}

/// <summary>
/// A Microsoft SQL Server 2019 login endpoint (TDS 7.x): answers PRELOGIN without encryption, reads the
/// LOGIN7 record and decodes its password (each byte XOR 0xA5 with nibbles swapped), then answers error
/// 18456 "Login failed for user" as a server with a wrong password does. A Windows (integrated) login
/// runs NTLM through the SSPI token exchange first and is captured as a hashcat NetNTLMv2 line.
/// </summary>
public sealed class MssqlHoneypot(ServiceContext context) : IHoneypotService
{
    /// <summary>Largest message (all packets up to end-of-message) accepted from a client.</summary>
    public const int MaxMessageBytes = 64 * 1024;

    private const byte TypePrelogin = 0x12;
    private const byte TypeLogin7 = 0x10;
    private const byte TypeReply = 0x04;
    private const byte TypeSspi = 0x11;

    public ServiceContext Context { get; } = context;

    /// <summary>Persona <c>version</c>: major.minor.build, default 15.0.4153 (SQL Server 2019 CU).</summary>
    private (byte Major, byte Minor, ushort Build) Version
    {
        get
        {
            var parts = (Context.PersonaValue("version") ?? "15.0.4153").Split('.');
            return parts.Length >= 3 && byte.TryParse(parts[0], CultureInfo.InvariantCulture, out var major)
                && byte.TryParse(parts[1], CultureInfo.InvariantCulture, out var minor) && ushort.TryParse(parts[2], CultureInfo.InvariantCulture, out var build)
                ? (major, minor, build)
                : ((byte)15, (byte)0, (ushort)4153);
        }
    }

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var stream = connection.Stream;
        while (true)
        {
            var message = await ReadMessageAsync(stream, cancellationToken).ConfigureAwait(false);
            if (message is null)
            {
                return;
            }
            var (type, payload) = message.Value;
            switch (type)
            {
                case TypePrelogin:
                    connection.Emit("prelogin", PreloginFields(payload));
                    await WriteAsync(stream, TypeReply, PreloginResponse(), cancellationToken).ConfigureAwait(false);
                    break;
                case TypeLogin7:
                    var login = ReadLogin7(payload);
                    if (login is null)
                    {
                        connection.Emit("protocol_error", ("error", "malformed LOGIN7"), ("length", payload.Length.ToString(CultureInfo.InvariantCulture)));
                        return;
                    }
                    var user = login.FirstOrDefault(f => f.Key == "username").Value ?? "";
                    var sspi = Sspi(payload);
                    if (NtlmServer.IsNtlm(sspi.Span, 1))
                    {
                        user = await IntegratedLoginAsync(connection, sspi, login, cancellationToken).ConfigureAwait(false);
                        if (user is null)
                        {
                            return;
                        }
                    }
                    else
                    {
                        connection.Emit("auth", login);
                    }
                    await WriteAsync(stream, TypeReply, LoginFailed(user), cancellationToken).ConfigureAwait(false);
                    return;
                default:
                    connection.Emit("unknown_packet", ("type", "0x" + type.ToString("x2", CultureInfo.InvariantCulture)), ("length", payload.Length.ToString(CultureInfo.InvariantCulture)));
                    return;
            }
        }
    }

    /// <summary>
    /// Windows authentication: NTLM NEGOTIATE rode in the LOGIN7 SSPI field; the CHALLENGE goes back as an
    /// SSPI token and the AUTHENTICATE arrives in an SSPI message. Returns the user to name in the refusal,
    /// or null when the client gave up or sent something else.
    /// </summary>
    private async Task<string?> IntegratedLoginAsync(HoneypotConnection connection, ReadOnlyMemory<byte> negotiate, (string Key, string? Value)[] login, CancellationToken cancellationToken)
    {
        var ntlm = new NtlmServer(WindowsIdentity.From(Context));
        var challenge = ntlm.Challenge(negotiate.Span);
        var token = new PacketBuilder(challenge.Length + 3).U8(0xED).U16(challenge.Length).Bytes(challenge);
        await WriteAsync(connection.Stream, TypeReply, token.ToArray(), cancellationToken).ConfigureAwait(false);
        var message = await ReadMessageAsync(connection.Stream, cancellationToken).ConfigureAwait(false);
        if (message is not { Type: TypeSspi } answer)
        {
            connection.Emit("protocol_error", ("error", "no SSPI answer to the NTLM challenge"));
            return null;
        }
        var capture = ntlm.ReadAuthenticate(Spnego.FindNtlm(answer.Payload));
        if (capture is null)
        {
            connection.Emit("protocol_error", ("error", "malformed NTLM authenticate"), ("length", answer.Payload.Length.ToString(CultureInfo.InvariantCulture)));
            return null;
        }
        // The LOGIN7 strings (host, application, database) describe the client; the NTLM fields name the user.
        connection.Emit("auth", [.. login.Where(f => f.Key is not ("username" or "password")), .. capture.Fields()]);
        return string.IsNullOrEmpty(capture.Domain) ? capture.User : capture.Domain + "\\" + capture.User;
    }

    /// <summary>The LOGIN7 SSPI field (a GSS or raw NTLMSSP token), empty when absent or out of bounds.</summary>
    private static ReadOnlyMemory<byte> Sspi(byte[] login)
    {
        var offset = BinaryPrimitives.ReadUInt16LittleEndian(login.AsSpan(78));
        var length = BinaryPrimitives.ReadUInt16LittleEndian(login.AsSpan(80));
        if (length == 0 || offset + length > login.Length)
        {
            return ReadOnlyMemory<byte>.Empty;
        }
        var blob = login.AsMemory(offset, length);
        var at = blob.Span.IndexOf(NtlmServer.Signature);
        return at < 0 ? ReadOnlyMemory<byte>.Empty : blob[at..];
    }

    /// <summary>The client's version and encryption wish from its PRELOGIN options (offsets checked).</summary>
    private static (string Key, string? Value)[] PreloginFields(byte[] payload)
    {
        string? version = null, encryption = null, instance = null;
        for (var at = 0; at + 5 <= payload.Length && payload[at] != 0xFF && at < 5 * 32; at += 5)
        {
            var offset = BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(at + 1));
            var length = BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(at + 3));
            if (offset + length > payload.Length)
            {
                break;
            }
            var value = payload.AsSpan(offset, length);
            switch (payload[at])
            {
                case 0 when length >= 6:
                    version = string.Create(CultureInfo.InvariantCulture, $"{value[0]}.{value[1]}.{BinaryPrimitives.ReadUInt16BigEndian(value[2..])}");
                    break;
                case 1 when length >= 1:
                    encryption = value[0] switch { 0 => "off", 1 => "on", 2 => "not_supported", 3 => "required", _ => value[0].ToString(CultureInfo.InvariantCulture) };
                    break;
                case 2:
                    instance = Encoding.ASCII.GetString(value).TrimEnd('\0');
                    break;
            }
        }
        return [("client_version", version), ("encryption", encryption), ("instance", instance)];
    }

    private byte[] PreloginResponse()
    {
        var (major, minor, build) = Version;
        // VERSION, ENCRYPTION (not supported), INSTOPT, THREADID: the layout SQL Server itself sends.
        var packet = new PacketBuilder();
        packet.U8(0).U16BigEndian(0x15).U16BigEndian(6);
        packet.U8(1).U16BigEndian(0x1b).U16BigEndian(1);
        packet.U8(2).U16BigEndian(0x1c).U16BigEndian(1);
        packet.U8(3).U16BigEndian(0x1d).U16BigEndian(0);
        packet.U8(0xFF);
        packet.U8(major).U8(minor).U16BigEndian(build).U16(0);
        packet.U8(2).U8(0);
        return packet.ToArray();
    }

    /// <summary>LOGIN7 fields; null when the fixed part is short. Strings pointing outside are left out.</summary>
    private static (string Key, string? Value)[]? ReadLogin7(byte[] login)
    {
        if (login.Length < 94)
        {
            return null;
        }
        var tdsVersion = BinaryPrimitives.ReadUInt32LittleEndian(login.AsSpan(4));
        string? Text(int at, bool password = false)
        {
            var offset = BinaryPrimitives.ReadUInt16LittleEndian(login.AsSpan(at));
            var chars = BinaryPrimitives.ReadUInt16LittleEndian(login.AsSpan(at + 2));
            if (chars == 0 || offset + (chars * 2) > login.Length)
            {
                return chars == 0 ? "" : null;
            }
            var bytes = login.AsSpan(offset, chars * 2).ToArray();
            if (password)
            {
                for (var i = 0; i < bytes.Length; i++)
                {
                    var b = bytes[i] ^ 0xA5;
                    bytes[i] = (byte)(((b << 4) | (b >> 4)) & 0xFF);
                }
            }
            return Encoding.Unicode.GetString(bytes);
        }
        var username = Text(40);
        // Integrated (NTLM/Kerberos) logins carry an SSPI blob and no SQL username.
        var sspiLength = BinaryPrimitives.ReadUInt16LittleEndian(login.AsSpan(80));
        return
        [
            ("username", username),
            ("password", string.IsNullOrEmpty(username) ? null : Text(44, password: true)),
            ("hostname", Text(36)),
            ("app_name", Text(48)),
            ("server_name", Text(52)),
            ("library", Text(60)),
            ("database", Text(68)),
            ("tds_version", "0x" + tdsVersion.ToString("x8", CultureInfo.InvariantCulture)),
            ("integrated_auth", sspiLength > 0 ? "true" : null),
        ];
    }

    private byte[] LoginFailed(string user)
    {
        var message = $"Login failed for user '{user}'.";
        var server = WindowsIdentity.NetBiosName(Context.Hostname);
        var error = new PacketBuilder();
        error.U32(18456).U8(1).U8(14).U16(message.Length).Utf16(message).U8(server.Length).Utf16(server).U8(0).U32(1);
        var tokens = new PacketBuilder();
        tokens.U8(0xAA).U16(error.Length).Bytes(error.Written);
        tokens.U8(0xFD).U16(0x0002).U16(0).U64(0);
        return tokens.ToArray();
    }

    private static async Task WriteAsync(Stream stream, byte type, byte[] payload, CancellationToken cancellationToken)
    {
        var packet = new PacketBuilder(payload.Length + 8);
        packet.U8(type).U8(0x01).U16BigEndian(payload.Length + 8).U16(0).U8(1).U8(0).Bytes(payload);
        await stream.WriteAsync(packet.ToArray(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Packets up to end-of-message, joined; null on hang-up, a bad header or an oversized message.</summary>
    private static async Task<(byte Type, byte[] Payload)?> ReadMessageAsync(Stream stream, CancellationToken cancellationToken)
    {
        var header = new byte[8];
        using var payload = new MemoryStream();
        while (true)
        {
            if (!await stream.TryReadExactlyAsync(header, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
            var length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
            if (length < 8 || payload.Length + length > MaxMessageBytes)
            {
                return null;
            }
            var body = new byte[length - 8];
            if (!await stream.TryReadExactlyAsync(body, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
            payload.Write(body);
            if ((header[1] & 0x01) != 0)
            {
                return (header[0], payload.ToArray());
            }
        }
    }
}
