using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Decnet.Core.Honeypots.Auth;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Postgres;

public sealed class PostgresHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "postgres";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(5432)];

    public IHoneypotService Create(ServiceContext context) => new PostgresHoneypot(context);
}

/// <summary>
/// A PostgreSQL 15 server as Debian ships it. TLS and GSS encryption are refused (the client carries on in
/// clear), the startup message is logged, and the password is asked for with the persona's method:
/// <c>md5</c> (the default; the response is logged as a hashcat 11100 line), <c>scram-sha-256</c> (the whole
/// exchange is logged for offline cracking) or <c>password</c> (clear text). Logins listed in <c>users</c>
/// get in and find a few canned answers (version, databases); everything else is refused.
/// </summary>
public sealed class PostgresHoneypot : IHoneypotService
{
    public const string DefaultVersion = "15.10 (Debian 15.10-0+deb12u1)";
    public const int MaxMessageBytes = 64 * 1024;
    private const int MaxQueryLogged = 4096;
    private const int MaxMessages = 1000;
    private const int ScramIterations = 4096;

    // The line of ProcessStartupPacket's "unsupported frontend protocol" error in postmaster.c of each
    // major version, which nmap's probes read to tell versions apart.
    private static readonly Dictionary<int, int> UnsupportedProtocolLine = new()
    {
        [10] = 2065, [11] = 2037, [12] = 2119, [13] = 2133, [14] = 2138, [15] = 2194,
    };

    private static int _processIds = RandomNumberGenerator.GetInt32(2000, 60_000);

    private readonly byte[] _saltSecret = RandomNumberGenerator.GetBytes(32);
    private readonly IReadOnlyDictionary<string, string> _users;
    private readonly IReadOnlyList<string> _databases;

    public PostgresHoneypot(ServiceContext context)
    {
        Context = context;
        _users = PersonaCredentials.Parse(context.PersonaValue("users"));
        _databases = (context.PersonaValue("databases") ?? "app_production,billing")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Prepend("postgres").Concat(["template0", "template1"]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        Method = (context.PersonaValue("auth") ?? "md5").ToLowerInvariant() switch
        {
            "scram-sha-256" or "scram" => "scram-sha-256",
            "password" or "cleartext" or "plain" => "password",
            _ => "md5",
        };
    }

    public ServiceContext Context { get; }

    public string Version => Context.PersonaValue("version") ?? DefaultVersion;

    /// <summary>The pg_hba method asked of every client: md5, scram-sha-256 or password.</summary>
    public string Method { get; }

    private sealed class Session
    {
        public string User { get; set; } = string.Empty;
        public string Database { get; set; } = string.Empty;
    }

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await ServeAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The client reset the connection mid-exchange (scanners do): an ordinary end, not a fault.
            connection.SetDisconnectDetails(("peer_reset", "true"));
        }
    }

    private async Task ServeAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var stream = connection.Stream;
        var session = new Session();
        if (!await StartupAsync(connection, session, cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        connection.SetDisconnectDetails(("username", session.User));
        if (!await AuthenticateAsync(connection, session, cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        await SendGreetingAsync(stream, session, cancellationToken).ConfigureAwait(false);
        await QueryLoopAsync(connection, session, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>SSLRequest and GSSENCRequest are answered 'N' (once each), then the StartupMessage is read.</summary>
    private async Task<bool> StartupAsync(HoneypotConnection connection, Session session, CancellationToken ct)
    {
        var stream = connection.Stream;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var header = new byte[4];
            if (!await ReadExactlyAsync(stream, header, ct).ConfigureAwait(false))
            {
                return false;
            }
            var length = BinaryPrimitives.ReadInt32BigEndian(header);
            if (length is < 8 or > PostgresMessages.MaxStartupPacket)
            {
                connection.Emit("protocol_error", ("error", "invalid startup packet length"), ("length", length.ToString(CultureInfo.InvariantCulture)));
                await WriteAsync(stream, PostgresMessages.Error("FATAL", "08P01", "invalid length of startup packet", "postmaster.c", 2041, "ProcessStartupPacket"), ct).ConfigureAwait(false);
                return false;
            }
            var body = new byte[length - 4];
            if (!await ReadExactlyAsync(stream, body, ct).ConfigureAwait(false))
            {
                return false;
            }
            var code = BinaryPrimitives.ReadInt32BigEndian(body);
            switch (code)
            {
                case PostgresMessages.SslRequestCode:
                    connection.Emit("ssl_request");
                    await WriteAsync(stream, "N"u8.ToArray(), ct).ConfigureAwait(false);
                    continue;
                case PostgresMessages.GssEncRequestCode:
                    connection.Emit("gssenc_request");
                    await WriteAsync(stream, "N"u8.ToArray(), ct).ConfigureAwait(false);
                    continue;
                case PostgresMessages.CancelRequestCode:
                    connection.Emit("cancel_request");
                    return false;
            }
            var major = (int)((uint)code >> 16);
            var minor = code & 0xffff;
            if (major != 3)
            {
                connection.Emit("protocol_error", ("error", "unsupported frontend protocol"), ("protocol", $"{major}.{minor}"));
                await WriteAsync(stream, PostgresMessages.Error("FATAL", "0A000",
                    $"unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.0", "postmaster.c", ProtocolErrorLine(), "ProcessStartupPacket"), ct).ConfigureAwait(false);
                return false;
            }
            var parameters = PostgresMessages.ParseStartupParameters(body.AsSpan(4));
            if (parameters is null)
            {
                connection.Emit("protocol_error", ("error", "malformed startup packet"));
                await WriteAsync(stream, PostgresMessages.Error("FATAL", "08P01", "invalid startup packet layout: expected terminator as last byte", "postmaster.c", 2201, "ProcessStartupPacket"), ct).ConfigureAwait(false);
                return false;
            }
            string? Parameter(string name) => parameters.FirstOrDefault(p => p.Key == name).Value;
            session.User = Parameter("user") ?? string.Empty;
            session.Database = Parameter("database") is { Length: > 0 } db ? db : session.User;
            connection.Emit("startup",
                ("username", session.User),
                ("database", session.Database),
                ("application_name", Parameter("application_name")),
                ("client_encoding", Parameter("client_encoding")),
                ("protocol", $"{major}.{minor}"),
                ("parameters", JsonSerializer.Serialize(parameters.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal))));
            if (session.User.Length == 0)
            {
                await WriteAsync(stream, PostgresMessages.Error("FATAL", "28000", "no PostgreSQL user name specified in startup packet", "postmaster.c", 2261, "ProcessStartupPacket"), ct).ConfigureAwait(false);
                return false;
            }
            return true;
        }
        connection.Emit("protocol_error", ("error", "too many encryption requests"));
        return false;
    }

    private int ProtocolErrorLine()
    {
        var digits = new string(Version.TakeWhile(char.IsAsciiDigit).ToArray());
        // An unknown major gets a line no nmap signature names: "9.6.0 or later" rather than a wrong version.
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var major) && UnsupportedProtocolLine.TryGetValue(major, out var line) ? line : 2211;
    }

    private async Task<bool> AuthenticateAsync(HoneypotConnection connection, Session session, CancellationToken ct)
    {
        return Method switch
        {
            "password" => await CleartextAsync(connection, session, ct).ConfigureAwait(false),
            "scram-sha-256" => await ScramAsync(connection, session, ct).ConfigureAwait(false),
            _ => await Md5Async(connection, session, ct).ConfigureAwait(false),
        };
    }

    private async Task<bool> CleartextAsync(HoneypotConnection connection, Session session, CancellationToken ct)
    {
        await WriteAsync(connection.Stream, PostgresMessages.Authentication(3), ct).ConfigureAwait(false);
        var message = await ReadPasswordMessageAsync(connection, ct).ConfigureAwait(false);
        if (message is null)
        {
            return false;
        }
        var password = PostgresMessages.CStringOrAll(message);
        var success = _users.Accepts(session.User, password);
        connection.Emit("auth", ("username", session.User), ("database", session.Database), ("method", "password"), ("password", password), ("status", Status(success)));
        return await FinishAuthAsync(connection, session, success, ct).ConfigureAwait(false);
    }

    private async Task<bool> Md5Async(HoneypotConnection connection, Session session, CancellationToken ct)
    {
        var salt = RandomNumberGenerator.GetBytes(4);
        await WriteAsync(connection.Stream, PostgresMessages.Authentication(5, salt), ct).ConfigureAwait(false);
        var message = await ReadPasswordMessageAsync(connection, ct).ConfigureAwait(false);
        if (message is null)
        {
            return false;
        }
        var response = PostgresMessages.CStringOrAll(message);
        var digest = response.StartsWith("md5", StringComparison.Ordinal) && response.Length == 35 ? response[3..].ToLowerInvariant() : null;
        var success = digest is not null && _users.TryGetValue(session.User, out var expected) && digest == Md5Response(session.User, expected, salt);
        connection.Emit("auth",
            ("username", session.User),
            ("database", session.Database),
            ("method", "md5"),
            ("pw_hash", response.Length <= 64 ? response : response[..64]),
            ("salt", Convert.ToHexStringLower(salt)),
            ("hash", digest is null ? null : $"$postgres${session.User}*{Convert.ToHexStringLower(salt)}*{digest}"),
            ("hash_type", digest is null ? null : "postgres-md5"),
            ("hashcat_mode", digest is null ? null : "11100"),
            ("status", Status(success)));
        return await FinishAuthAsync(connection, session, success, ct).ConfigureAwait(false);
    }

    /// <summary>What libpq sends for MD5: md5(md5(password + user) + salt), in hex.</summary>
    // The protocol fixes MD5; the decky only recomputes what the client sent.
#pragma warning disable CA5351
    public static string Md5Response(string user, string password, byte[] salt)
    {
        var inner = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(password + user)));
        return Convert.ToHexStringLower(MD5.HashData([.. Encoding.ASCII.GetBytes(inner), .. salt]));
    }
#pragma warning restore CA5351

    private async Task<bool> ScramAsync(HoneypotConnection connection, Session session, CancellationToken ct)
    {
        var stream = connection.Stream;
        await WriteAsync(stream, PostgresMessages.AuthenticationSasl("SCRAM-SHA-256"), ct).ConfigureAwait(false);
        var initial = await ReadPasswordMessageAsync(connection, ct).ConfigureAwait(false);
        var parsed = initial is null ? null : PostgresMessages.ParseSaslInitialResponse(initial);
        if (parsed is null || parsed.Value.Mechanism != "SCRAM-SHA-256")
        {
            if (initial is not null)
            {
                connection.Emit("protocol_error", ("error", "bad SASL initial response"), ("mechanism", parsed?.Mechanism));
                await WriteAsync(stream, PostgresMessages.Error("FATAL", "08P01", "client selected an invalid SASL authentication mechanism", "auth-sasl.c", 98, "CheckSASLAuth"), ct).ConfigureAwait(false);
            }
            return false;
        }
        var first = Scram.ParseClientFirst(Encoding.UTF8.GetString(parsed.Value.Data));
        if (first is null)
        {
            connection.Emit("protocol_error", ("error", "malformed SCRAM client-first-message"));
            await WriteAsync(stream, PostgresMessages.Error("FATAL", "08P01", "malformed SCRAM message", "auth-scram.c", 896, "read_client_first_message"), ct).ConfigureAwait(false);
            return false;
        }
        // PostgreSQL ignores the SCRAM user name (libpq sends it empty) and uses the startup user.
        var salt = Scram.SaltFor(_saltSecret, session.User);
        var combined = first.Nonce + Scram.NewNonce();
        var serverFirst = Scram.ServerFirst(combined, salt, ScramIterations);
        await WriteAsync(stream, PostgresMessages.Authentication(11, Encoding.UTF8.GetBytes(serverFirst)), ct).ConfigureAwait(false);

        var response = await ReadPasswordMessageAsync(connection, ct).ConfigureAwait(false);
        if (response is null)
        {
            return false;
        }
        var final = Scram.ParseClientFinal(Encoding.UTF8.GetString(response));
        if (final is null || final.Nonce != combined)
        {
            connection.Emit("protocol_error", ("error", "malformed SCRAM client-final-message"));
            await WriteAsync(stream, PostgresMessages.Error("FATAL", "08P01", "malformed SCRAM message", "auth-scram.c", 1145, "read_client_final_message"), ct).ConfigureAwait(false);
            return false;
        }
        var exchange = new ScramExchange(ScramAlgorithm.Sha256, session.User, salt, ScramIterations, $"{first.Bare},{serverFirst},{final.WithoutProof}", final.Proof);
        var success = _users.TryGetValue(session.User, out var expected) && exchange.Verify(expected);
        connection.Emit("auth",
            ("username", session.User),
            ("database", session.Database),
            ("method", "scram-sha-256"),
            ("hash", exchange.HashLine),
            ("hash_type", "scram-sha-256"),
            ("iterations", ScramIterations.ToString(CultureInfo.InvariantCulture)),
            ("status", Status(success)));
        if (success)
        {
            await WriteAsync(stream, PostgresMessages.Authentication(12, Encoding.UTF8.GetBytes(exchange.ServerFinal(expected!))), ct).ConfigureAwait(false);
        }
        return await FinishAuthAsync(connection, session, success, ct).ConfigureAwait(false);
    }

    private static string Status(bool success) => success ? "success" : "failed";

    private static async Task<bool> FinishAuthAsync(HoneypotConnection connection, Session session, bool success, CancellationToken ct)
    {
        if (success)
        {
            await WriteAsync(connection.Stream, PostgresMessages.Authentication(0), ct).ConfigureAwait(false);
            return true;
        }
        await WriteAsync(connection.Stream, PostgresMessages.Error("FATAL", "28P01", $"password authentication failed for user \"{session.User}\"", "auth.c", 326, "auth_failed"), ct).ConfigureAwait(false);
        return false;
    }

    /// <summary>The next 'p' message; any other type ends the login the way the server does (08P01).</summary>
    private static async Task<byte[]?> ReadPasswordMessageAsync(HoneypotConnection connection, CancellationToken ct)
    {
        var message = await ReadMessageAsync(connection.Stream, ct).ConfigureAwait(false);
        if (message is null)
        {
            return null;
        }
        if (message.Value.Type != 'p')
        {
            connection.Emit("protocol_error", ("error", "expected password response"), ("type", ((int)message.Value.Type).ToString(CultureInfo.InvariantCulture)));
            await WriteAsync(connection.Stream, PostgresMessages.Error("FATAL", "08P01",
                $"expected password response, got message type {(int)message.Value.Type}", "auth.c", 698, "recv_password_packet"), ct).ConfigureAwait(false);
            return null;
        }
        return message.Value.Body;
    }

    private async Task SendGreetingAsync(Stream stream, Session session, CancellationToken ct)
    {
        using var greeting = new MemoryStream();
        foreach (var (name, value) in new (string, string)[]
        {
            ("application_name", "psql"), ("client_encoding", "UTF8"), ("DateStyle", "ISO, MDY"), ("default_transaction_read_only", "off"),
            ("in_hot_standby", "off"), ("integer_datetimes", "on"), ("IntervalStyle", "postgres"), ("is_superuser", "off"),
            ("server_encoding", "UTF8"), ("server_version", Version), ("session_authorization", session.User),
            ("standard_conforming_strings", "on"), ("TimeZone", "Etc/UTC"),
        })
        {
            greeting.Write(PostgresMessages.ParameterStatus(name, value));
        }
        greeting.Write(PostgresMessages.BackendKeyData(Interlocked.Increment(ref _processIds), RandomNumberGenerator.GetInt32(int.MaxValue)));
        greeting.Write(PostgresMessages.ReadyForQuery());
        await WriteAsync(stream, greeting.ToArray(), ct).ConfigureAwait(false);
    }

    private async Task QueryLoopAsync(HoneypotConnection connection, Session session, CancellationToken ct)
    {
        var stream = connection.Stream;
        var failedExtended = false;
        for (var i = 0; i < MaxMessages; i++)
        {
            var message = await ReadMessageAsync(stream, ct).ConfigureAwait(false);
            if (message is null)
            {
                return;
            }
            var (type, body) = message.Value;
            switch (type)
            {
                case 'X':
                    return;
                case 'Q':
                    await AnswerQueryAsync(connection, session, PostgresMessages.CStringOrAll(body), "simple", ct).ConfigureAwait(false);
                    break;
                case 'P':
                    // Extended protocol: log the statement, fail it, and skip to the Sync like the server does.
                    var query = PostgresMessages.ParseParseQuery(body) ?? string.Empty;
                    EmitQuery(connection, session, query, "extended");
                    if (!failedExtended)
                    {
                        var answer = PostgresQueries.Answer(query, Version, session.User, session.Database, _databases);
                        await WriteAsync(stream, PostgresMessages.Error("ERROR", answer.ErrorState ?? "42501", answer.ErrorMessage ?? "permission denied for schema public"), ct).ConfigureAwait(false);
                        failedExtended = true;
                    }
                    break;
                case 'S':
                    failedExtended = false;
                    await WriteAsync(stream, PostgresMessages.ReadyForQuery(), ct).ConfigureAwait(false);
                    break;
                case 'B' or 'D' or 'E' or 'C' or 'H':
                    break;
                default:
                    connection.Emit("protocol_error", ("error", "invalid frontend message type"), ("type", ((int)type).ToString(CultureInfo.InvariantCulture)));
                    await WriteAsync(stream, PostgresMessages.Error("FATAL", "08P01", $"invalid frontend message type {(int)type}", "postgres.c", 4579, "PostgresMain"), ct).ConfigureAwait(false);
                    return;
            }
        }
    }

    private async Task AnswerQueryAsync(HoneypotConnection connection, Session session, string query, string protocol, CancellationToken ct)
    {
        EmitQuery(connection, session, query, protocol);
        var answer = PostgresQueries.Answer(query, Version, session.User, session.Database, _databases);
        using var reply = new MemoryStream();
        if (answer.IsError)
        {
            reply.Write(PostgresMessages.Error("ERROR", answer.ErrorState!, answer.ErrorMessage!));
        }
        else if (answer.Columns is null)
        {
            reply.Write(PostgresMessages.EmptyQueryResponse());
        }
        else
        {
            reply.Write(PostgresMessages.RowDescription(answer.Columns));
            foreach (var row in answer.Rows)
            {
                reply.Write(PostgresMessages.DataRow(row));
            }
            reply.Write(PostgresMessages.CommandComplete(answer.Tag));
        }
        reply.Write(PostgresMessages.ReadyForQuery());
        await WriteAsync(connection.Stream, reply.ToArray(), ct).ConfigureAwait(false);
    }

    private static void EmitQuery(HoneypotConnection connection, Session session, string query, string protocol) =>
        connection.Emit("query",
            ("username", session.User),
            ("database", session.Database),
            ("query", query.Length <= MaxQueryLogged ? query : query[..MaxQueryLogged]),
            ("query_length", query.Length.ToString(CultureInfo.InvariantCulture)),
            ("protocol", protocol));

    /// <summary>A typed message, or null when the client hung up or announced a length outside 4..64 KiB.</summary>
    private static async Task<(char Type, byte[] Body)?> ReadMessageAsync(Stream stream, CancellationToken ct)
    {
        var header = new byte[5];
        if (!await ReadExactlyAsync(stream, header, ct).ConfigureAwait(false))
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
        if (length is < 4 or > MaxMessageBytes)
        {
            return null;
        }
        var body = new byte[length - 4];
        return await ReadExactlyAsync(stream, body, ct).ConfigureAwait(false) ? ((char)header[0], body) : null;
    }

    private static async Task WriteAsync(Stream stream, byte[] bytes, CancellationToken ct) =>
        await stream.WriteAsync(bytes, ct).ConfigureAwait(false);

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
