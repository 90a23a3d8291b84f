using System.Globalization;
using System.Net.Security;
using System.Text;
using Decnet.Core.Honeypots.Auth;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Mail;

public sealed class Pop3HoneypotFactory : IHoneypotServiceFactory
{
    public const int ImplicitTlsPort = 995;

    public string Name => "pop3";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(110), new(ImplicitTlsPort)];

    public IHoneypotService Create(ServiceContext context) => new Pop3Honeypot(context);
}

/// <summary>
/// A Dovecot POP3 server: 110 with STLS and 995 with implicit TLS. USER/PASS and AUTH PLAIN/LOGIN are
/// captured; persona users get in to the same bait mailbox as IMAP. DELE is recorded and forgotten: the
/// next session finds every message again, as after a RSET.
/// </summary>
public sealed class Pop3Honeypot : IHoneypotService
{
    private const int MaxCommands = 1000;
    private const int MaxBadCommands = 10;
    private const int MaxAuthAttempts = 10;

    private readonly MailServer _mail;
    private readonly long _uidValidity;

    public Pop3Honeypot(ServiceContext context)
    {
        Context = context;
        _mail = new MailServer(context, "pop3");
        _uidValidity = _mail.Messages[0].Received.ToUnixTimeSeconds() - 86_400 * 200;
    }

    public ServiceContext Context { get; }

    private sealed class Session(Stream stream, LineReader reader, bool tls)
    {
        public Stream Stream { get; set; } = stream;
        public LineReader Reader { get; set; } = reader;
        public bool Tls { get; set; } = tls;
        public string? PendingUser { get; set; }
        public string? User { get; set; }
        public HashSet<int> Deleted { get; } = [];
        public int BadCommands { get; set; }
        public int AuthAttempts { get; set; }

        public Task SendAsync(string text, CancellationToken ct) => Stream.WriteAsync(Encoding.UTF8.GetBytes(text), ct).AsTask();
    }

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        Stream stream = connection.Stream;
        var implicitTls = connection.DeclaredPort == Pop3HoneypotFactory.ImplicitTlsPort;
        var tls = implicitTls ? await _mail.AcceptTlsAsync(connection, stream, cancellationToken).ConfigureAwait(false) : null;
        if (implicitTls && tls is null)
        {
            return;
        }
        var session = new Session(tls ?? stream, new LineReader(tls ?? stream, Context.Limits.MaxLineLength), tls is not null);
        try
        {
            await ServeAsync(connection, session, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The client reset the connection or left mid-answer (scanners do): an ordinary end, not a fault.
            connection.SetDisconnectDetails(("peer_reset", "true"));
        }
        finally
        {
            if (session.Stream is SslStream current)
            {
                await current.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task ServeAsync(HoneypotConnection connection, Session session, CancellationToken ct)
    {
        await session.SendAsync($"+OK {_mail.Greeting}\r\n", ct).ConfigureAwait(false);
        for (var i = 0; i < MaxCommands; i++)
        {
            var line = await session.Reader.ReadLineAsync(ct).ConfigureAwait(false);
            if (line.Status == LineStatus.EndOfStream)
            {
                return;
            }
            if (line.Status == LineStatus.TooLong)
            {
                connection.Emit("protocol_error", ("error", "line too long"));
                if (!await ErrorAsync(session, "Input line too long.", ct).ConfigureAwait(false))
                {
                    return;
                }
                continue;
            }
            var text = line.Text.Trim();
            var space = text.IndexOf(' ', StringComparison.Ordinal);
            var name = (space < 0 ? text : text[..space]).ToUpperInvariant();
            var argument = space < 0 ? string.Empty : text[(space + 1)..];
            if (name is not ("PASS" or "AUTH" or "USER"))
            {
                connection.Emit("command", ("command", MailServer.Truncate(name, 32)), ("args", argument.Length > 0 ? MailServer.Truncate(argument, 256) : null), ("username", session.User));
            }
            if (!await ExecuteAsync(connection, session, name, argument, ct).ConfigureAwait(false))
            {
                return;
            }
        }
        await session.SendAsync("-ERR Too many commands.\r\n", ct).ConfigureAwait(false);
    }

    private async Task<bool> ExecuteAsync(HoneypotConnection connection, Session session, string name, string argument, CancellationToken ct)
    {
        switch (name)
        {
            case "CAPA":
                var builder = new StringBuilder("+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n");
                if (session.User is null)
                {
                    builder.Append(session.Tls ? "" : "STLS\r\n").Append("USER\r\nSASL PLAIN LOGIN\r\n");
                }
                await session.SendAsync(builder.Append(".\r\n").ToString(), ct).ConfigureAwait(false);
                return true;
            case "QUIT":
                await session.SendAsync(session.User is not null && session.Deleted.Count > 0 ? "+OK Logging out, messages deleted.\r\n" : "+OK Logging out.\r\n", ct).ConfigureAwait(false);
                return false;
            case "NOOP" when session.User is not null:
                await session.SendAsync("+OK\r\n", ct).ConfigureAwait(false);
                return true;
        }
        if (session.User is null)
        {
            return name switch
            {
                "STLS" when !session.Tls => await StartTlsAsync(connection, session, ct).ConfigureAwait(false),
                "USER" => await UserAsync(connection, session, argument, ct).ConfigureAwait(false),
                "PASS" => await PassAsync(connection, session, argument, ct).ConfigureAwait(false),
                "AUTH" => await AuthAsync(connection, session, argument, ct).ConfigureAwait(false),
                "APOP" => await LoginAsync(connection, session, argument.Split(' ')[0], null, "APOP", ct).ConfigureAwait(false),
                _ => await ErrorAsync(session, "Unknown command.", ct).ConfigureAwait(false),
            };
        }
        var messages = _mail.Messages;
        switch (name)
        {
            case "STAT":
                var live = messages.Where(m => !session.Deleted.Contains(m.Uid)).ToList();
                await session.SendAsync($"+OK {live.Count} {live.Sum(m => m.Size)}\r\n", ct).ConfigureAwait(false);
                return true;
            case "LIST" or "UIDL":
                string Entry(MailMessage m) => name == "LIST" ? $"{m.Uid} {m.Size}" : $"{m.Uid} {m.Uid:X8}{_uidValidity:X8}";
                if (argument.Length > 0)
                {
                    return Find(session, argument) is { } one
                        ? await OkAsync(session, Entry(one), ct).ConfigureAwait(false)
                        : await ErrorAsync(session, "There's no message " + MailServer.Truncate(argument, 16) + ".", ct).ConfigureAwait(false);
                }
                var listing = new StringBuilder(name == "LIST" ? $"+OK {messages.Count(m => !session.Deleted.Contains(m.Uid))} messages:\r\n" : "+OK\r\n");
                foreach (var message in messages.Where(m => !session.Deleted.Contains(m.Uid)))
                {
                    listing.Append(Entry(message)).Append("\r\n");
                }
                await session.SendAsync(listing.Append(".\r\n").ToString(), ct).ConfigureAwait(false);
                return true;
            case "RETR" or "TOP":
                var parts = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 0 || Find(session, parts[0]) is not { } found)
                {
                    return await ErrorAsync(session, parts.Length == 0 ? "Invalid message number." : "There's no message " + MailServer.Truncate(parts[0], 16) + ".", ct).ConfigureAwait(false);
                }
                var lines = -1;
                if (name == "TOP" && (parts.Length < 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out lines)))
                {
                    return await ErrorAsync(session, "Invalid number of lines.", ct).ConfigureAwait(false);
                }
                var content = lines < 0 ? found.Text : found.Header + string.Join("\r\n", found.Body.Split("\r\n").Take(lines)) + (lines > 0 ? "\r\n" : "");
                connection.Emit(name == "RETR" ? "retr" : "top",
                    ("message", found.Uid.ToString(CultureInfo.InvariantCulture)),
                    ("subject", found.Subject),
                    ("size", found.Size.ToString(CultureInfo.InvariantCulture)),
                    ("username", session.User));
                await session.SendAsync((lines < 0 ? $"+OK {found.Size} octets\r\n" : "+OK\r\n") + DotStuff(content) + ".\r\n", ct).ConfigureAwait(false);
                return true;
            case "DELE":
                if (Find(session, argument) is not { } victim)
                {
                    return await ErrorAsync(session, "There's no message " + MailServer.Truncate(argument, 16) + ".", ct).ConfigureAwait(false);
                }
                session.Deleted.Add(victim.Uid);
                connection.Emit("delete", ("message", victim.Uid.ToString(CultureInfo.InvariantCulture)), ("subject", victim.Subject), ("username", session.User));
                return await OkAsync(session, "Marked to be deleted.", ct).ConfigureAwait(false);
            case "RSET":
                session.Deleted.Clear();
                return await OkAsync(session, string.Empty, ct).ConfigureAwait(false);
            default:
                return await ErrorAsync(session, "Unknown command: " + MailServer.Truncate(name, 32), ct).ConfigureAwait(false);
        }
    }

    private MailMessage? Find(Session session, string number) =>
        int.TryParse(number.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? _mail.Messages.FirstOrDefault(m => m.Uid == n && !session.Deleted.Contains(m.Uid))
            : null;

    /// <summary>RFC 1939 byte-stuffing: a line starting with "." gets another, so the terminator stays unique.</summary>
    private static string DotStuff(string text)
    {
        var stuffed = text.Replace("\r\n.", "\r\n..", StringComparison.Ordinal);
        if (stuffed.StartsWith('.'))
        {
            stuffed = "." + stuffed;
        }
        return stuffed.EndsWith("\r\n", StringComparison.Ordinal) ? stuffed : stuffed + "\r\n";
    }

    private static async Task<bool> OkAsync(Session session, string text, CancellationToken ct)
    {
        await session.SendAsync(text.Length == 0 ? "+OK\r\n" : $"+OK {text}\r\n", ct).ConfigureAwait(false);
        return true;
    }

    private static async Task<bool> ErrorAsync(Session session, string text, CancellationToken ct)
    {
        if (++session.BadCommands >= MaxBadCommands)
        {
            await session.SendAsync("-ERR Too many bad commands.\r\n", ct).ConfigureAwait(false);
            return false;
        }
        await session.SendAsync($"-ERR {text}\r\n", ct).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> StartTlsAsync(HoneypotConnection connection, Session session, CancellationToken ct)
    {
        if (session.Reader.Buffered > 0)
        {
            connection.Emit("protocol_error", ("error", "data pipelined after STLS"), ("bytes", session.Reader.Buffered.ToString(CultureInfo.InvariantCulture)));
        }
        await session.SendAsync("+OK Begin TLS negotiation now.\r\n", ct).ConfigureAwait(false);
        connection.Emit("starttls");
        var tls = await _mail.AcceptTlsAsync(connection, session.Stream, ct).ConfigureAwait(false);
        if (tls is null)
        {
            return false;
        }
        session.Stream = tls;
        session.Reader = new LineReader(tls, Context.Limits.MaxLineLength);
        session.Tls = true;
        return true;
    }

    private static async Task<bool> UserAsync(HoneypotConnection connection, Session session, string argument, CancellationToken ct)
    {
        session.PendingUser = argument;
        connection.Emit("command", ("command", "USER"), ("args", MailServer.Truncate(argument, 256)));
        return await OkAsync(session, string.Empty, ct).ConfigureAwait(false);
    }

    private async Task<bool> PassAsync(HoneypotConnection connection, Session session, string argument, CancellationToken ct)
    {
        if (session.PendingUser is null)
        {
            return await ErrorAsync(session, "No username given.", ct).ConfigureAwait(false);
        }
        var user = session.PendingUser;
        session.PendingUser = null;
        return await LoginAsync(connection, session, user, argument, "USER", ct).ConfigureAwait(false);
    }

    private async Task<bool> AuthAsync(HoneypotConnection connection, Session session, string argument, CancellationToken ct)
    {
        var parts = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            await session.SendAsync("+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n", ct).ConfigureAwait(false);
            return true;
        }
        switch (parts[0].ToUpperInvariant())
        {
            case "PLAIN":
                var response = parts.Length > 1 ? parts[1] : await ChallengeAsync(session, string.Empty, ct).ConfigureAwait(false);
                if (response is null or "*")
                {
                    return response is not null && await ErrorAsync(session, "Authentication aborted by client.", ct).ConfigureAwait(false);
                }
                if (MailServer.DecodePlain(response) is not { } plain)
                {
                    connection.Emit("protocol_error", ("error", "malformed SASL PLAIN response"));
                    return await ErrorAsync(session, "Invalid base64 data in continued response", ct).ConfigureAwait(false);
                }
                return await LoginAsync(connection, session, plain.Username, plain.Password, "PLAIN", ct).ConfigureAwait(false);
            case "LOGIN":
                var user = parts.Length > 1 ? parts[1] : await ChallengeAsync(session, "VXNlcm5hbWU6", ct).ConfigureAwait(false);
                if (user is null or "*")
                {
                    return user is not null && await ErrorAsync(session, "Authentication aborted by client.", ct).ConfigureAwait(false);
                }
                var password = await ChallengeAsync(session, "UGFzc3dvcmQ6", ct).ConfigureAwait(false);
                if (password is null or "*")
                {
                    return password is not null && await ErrorAsync(session, "Authentication aborted by client.", ct).ConfigureAwait(false);
                }
                if (MailServer.DecodeBase64(user) is not { } decodedUser || MailServer.DecodeBase64(password) is not { } decodedPassword)
                {
                    connection.Emit("protocol_error", ("error", "malformed SASL LOGIN response"));
                    return await ErrorAsync(session, "Invalid base64 data in continued response", ct).ConfigureAwait(false);
                }
                return await LoginAsync(connection, session, decodedUser, decodedPassword, "LOGIN", ct).ConfigureAwait(false);
            default:
                connection.Emit("auth_mechanism_rejected", ("mechanism", MailServer.Truncate(parts[0], 32)));
                return await ErrorAsync(session, "Unsupported authentication mechanism.", ct).ConfigureAwait(false);
        }
    }

    private static async Task<string?> ChallengeAsync(Session session, string challenge, CancellationToken ct)
    {
        await session.SendAsync($"+ {challenge}\r\n", ct).ConfigureAwait(false);
        var line = await session.Reader.ReadLineAsync(ct).ConfigureAwait(false);
        return line.IsLine ? line.Text.Trim() : null;
    }

    /// <summary>A login attempt; <paramref name="password"/> is null for APOP, whose digest is refused (no timestamp was offered).</summary>
    private async Task<bool> LoginAsync(HoneypotConnection connection, Session session, string user, string? password, string mechanism, CancellationToken ct)
    {
        var success = password is not null && _mail.Users.Accepts(user, password);
        connection.Emit("auth", ("username", user), ("password", password), ("mechanism", mechanism), ("tls", session.Tls ? "true" : "false"), ("status", success ? "success" : "failed"));
        if (success)
        {
            session.User = user;
            connection.SetDisconnectDetails(("username", user));
            return await OkAsync(session, "Logged in.", ct).ConfigureAwait(false);
        }
        if (++session.AuthAttempts >= MaxAuthAttempts)
        {
            await session.SendAsync("-ERR [AUTH] Authentication failed.\r\n", ct).ConfigureAwait(false);
            return false;
        }
        await session.SendAsync("-ERR [AUTH] Authentication failed.\r\n", ct).ConfigureAwait(false);
        return true;
    }

    public ValueTask DisposeAsync()
    {
        _mail.Dispose();
        return ValueTask.CompletedTask;
    }
}
