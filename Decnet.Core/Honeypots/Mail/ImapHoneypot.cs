using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Decnet.Core.Honeypots.Auth;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Mail;

public sealed class ImapHoneypotFactory : IHoneypotServiceFactory
{
    public const int ImplicitTlsPort = 993;

    public string Name => "imap";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(143), new(ImplicitTlsPort)];

    public IHoneypotService Create(ServiceContext context) => new ImapHoneypot(context);
}

/// <summary>
/// A Dovecot IMAP4rev1 server: 143 with STARTTLS and 993 with implicit TLS. LOGIN and AUTHENTICATE
/// PLAIN/LOGIN are captured; persona users (default admin:admin123, root:toor, mail:mail, user:user) get in
/// to an INBOX of bait mail they can list, search and fetch. Writes (flags, expunge, append, folders) are
/// acknowledged and recorded; the mailbox never changes.
/// </summary>
public sealed partial class ImapHoneypot : IHoneypotService
{
    public const int MaxLiteralBytes = 64 * 1024;
    private const int MaxLiteralsPerCommand = 8;
    private const int MaxCommands = 1000;
    private const int MaxBadCommands = 10;
    private const int MaxAuthAttempts = 10;
    private const int MaxItems = 32;

    private const string PreLoginCapabilities = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+";
    private const string PostLoginCapabilities =
        "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE";

    private static readonly (string Name, string Attributes)[] Mailboxes =
        [("INBOX", @"\HasNoChildren"), ("Archive", @"\HasNoChildren \Archive"), ("Drafts", @"\HasNoChildren \Drafts"), ("Sent", @"\HasNoChildren \Sent"), ("Trash", @"\HasNoChildren \Trash")];

    private readonly MailServer _mail;
    private readonly long _uidValidity;

    public ImapHoneypot(ServiceContext context)
    {
        Context = context;
        _mail = new MailServer(context, "imap");
        _uidValidity = _mail.Messages[0].Received.ToUnixTimeSeconds() - 86_400 * 200;
    }

    public ServiceContext Context { get; }

    private enum Stage
    {
        NotAuthenticated,
        Authenticated,
        Selected,
    }

    private sealed class Session(Stream stream, LineReader reader, bool tls)
    {
        public Stream Stream { get; set; } = stream;
        public LineReader Reader { get; set; } = reader;
        public bool Tls { get; set; } = tls;
        public Stage Stage { get; set; }
        public string? User { get; set; }
        public string? Mailbox { get; set; }
        public int BadCommands { get; set; }
        public int AuthAttempts { get; set; }
        public bool LoggedOut { get; set; }

        public Task SendAsync(string text, CancellationToken ct) => Stream.WriteAsync(Encoding.UTF8.GetBytes(text), ct).AsTask();
    }

    /// <summary>A command line with its literals: tag, command name and the argument tokens.</summary>
    private sealed record Command(string Tag, string Name, IReadOnlyList<string> Arguments, string RawArguments);

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        Stream stream = connection.Stream;
        var tls = connection.DeclaredPort == ImapHoneypotFactory.ImplicitTlsPort
            ? await _mail.AcceptTlsAsync(connection, stream, cancellationToken).ConfigureAwait(false)
            : null;
        if (connection.DeclaredPort == ImapHoneypotFactory.ImplicitTlsPort && tls is null)
        {
            return;
        }
        try
        {
            stream = tls ?? stream;
            var session = new Session(stream, new LineReader(stream, Context.Limits.MaxLineLength), tls is not null);
            try
            {
                await ServeAsync(connection, session, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The client reset the connection or left mid-answer (scanners do): an ordinary end, not a fault.
                connection.SetDisconnectDetails(("peer_reset", "true"));
            }
            if (session.Stream is System.Net.Security.SslStream upgraded && upgraded != tls)
            {
                await upgraded.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            if (tls is not null)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private string Capabilities(Session session) =>
        session.Tls || session.Stage != Stage.NotAuthenticated ? $"{PreLoginCapabilities} AUTH=PLAIN AUTH=LOGIN" : $"{PreLoginCapabilities} STARTTLS AUTH=PLAIN AUTH=LOGIN";

    private async Task ServeAsync(HoneypotConnection connection, Session session, CancellationToken ct)
    {
        await session.SendAsync($"* OK [CAPABILITY {Capabilities(session)}] {_mail.Greeting}\r\n", ct).ConfigureAwait(false);
        for (var i = 0; i < MaxCommands && !session.LoggedOut; i++)
        {
            var (command, error) = await ReadCommandAsync(session, ct).ConfigureAwait(false);
            if (command is null && error is null)
            {
                return;
            }
            if (command is null)
            {
                connection.Emit("protocol_error", ("error", error));
                if (!await BadAsync(session, "*", error!, ct).ConfigureAwait(false))
                {
                    return;
                }
                continue;
            }
            var name = command.Name.ToUpperInvariant();
            if (name is not ("LOGIN" or "AUTHENTICATE"))
            {
                connection.Emit("command", ("command", MailServer.Truncate(name, 32)), ("args", command.RawArguments.Length > 0 ? MailServer.Truncate(command.RawArguments, 512) : null), ("username", session.User));
            }
            if (!await ExecuteAsync(connection, session, command, name, ct).ConfigureAwait(false))
            {
                return;
            }
        }
        if (!session.LoggedOut)
        {
            await session.SendAsync("* BYE Too many commands.\r\n", ct).ConfigureAwait(false);
        }
    }

    /// <summary>False when the session must end (logout, too many errors, TLS failure).</summary>
    private async Task<bool> ExecuteAsync(HoneypotConnection connection, Session session, Command command, string name, CancellationToken ct)
    {
        var tag = command.Tag;
        var args = command.Arguments;
        switch (name)
        {
            case "CAPABILITY":
                await session.SendAsync($"* CAPABILITY {(session.Stage == Stage.NotAuthenticated ? Capabilities(session) : PostLoginCapabilities)}\r\n{tag} OK Pre-login capabilities listed, post-login capabilities have more.\r\n", ct).ConfigureAwait(false);
                return true;
            case "NOOP" or "CHECK":
                await session.SendAsync($"{tag} OK {Title(name)} completed (0.001 + 0.000 secs).\r\n", ct).ConfigureAwait(false);
                return true;
            case "LOGOUT":
                session.LoggedOut = true;
                await session.SendAsync($"* BYE Logging out\r\n{tag} OK Logout completed (0.001 + 0.000 secs).\r\n", ct).ConfigureAwait(false);
                return false;
            case "ID":
                await session.SendAsync($"* ID (\"name\" \"Dovecot\")\r\n{tag} OK ID completed (0.001 + 0.000 secs).\r\n", ct).ConfigureAwait(false);
                return true;
            case "STARTTLS" when !session.Tls && session.Stage == Stage.NotAuthenticated:
                return await StartTlsAsync(connection, session, tag, ct).ConfigureAwait(false);
            case "LOGIN" when session.Stage == Stage.NotAuthenticated:
                if (args.Count != 2)
                {
                    return await BadAsync(session, tag, "Error in IMAP command LOGIN: Invalid arguments.", ct).ConfigureAwait(false);
                }
                return await LoginAsync(connection, session, tag, args[0], args[1], "LOGIN", ct).ConfigureAwait(false);
            case "AUTHENTICATE" when session.Stage == Stage.NotAuthenticated:
                return await AuthenticateAsync(connection, session, tag, args, ct).ConfigureAwait(false);
            case "LOGIN" or "AUTHENTICATE":
                return await BadAsync(session, tag, "Error in IMAP command " + name + ": Already authenticated.", ct).ConfigureAwait(false);
        }
        if (session.Stage == Stage.NotAuthenticated)
        {
            return await BadAsync(session, tag, IsKnown(name) ? $"Error in IMAP command {name}: Not authenticated." : $"Error in IMAP command {MailServer.Truncate(name, 32)}: Unknown command.", ct).ConfigureAwait(false);
        }
        switch (name)
        {
            case "SELECT" or "EXAMINE":
                return await SelectAsync(session, tag, args.Count > 0 ? args[0] : string.Empty, name == "EXAMINE", ct).ConfigureAwait(false);
            case "LIST" or "LSUB":
                await ListAsync(session, tag, name, args, ct).ConfigureAwait(false);
                return true;
            case "STATUS":
                await StatusAsync(session, tag, args, ct).ConfigureAwait(false);
                return true;
            case "NAMESPACE":
                await session.SendAsync($"* NAMESPACE ((\"\" \".\")) NIL NIL\r\n{tag} OK Namespace completed (0.001 + 0.000 secs).\r\n", ct).ConfigureAwait(false);
                return true;
            case "ENABLE":
                await session.SendAsync($"* ENABLED\r\n{tag} OK Enabled.\r\n", ct).ConfigureAwait(false);
                return true;
            case "IDLE":
                return await IdleAsync(session, tag, ct).ConfigureAwait(false);
            case "CREATE" or "DELETE" or "RENAME" or "SUBSCRIBE" or "UNSUBSCRIBE":
                await session.SendAsync($"{tag} OK {Title(name)} completed (0.001 + 0.000 secs).\r\n", ct).ConfigureAwait(false);
                return true;
            case "APPEND":
                Append(connection, session, args);
                await session.SendAsync($"{tag} OK [APPENDUID {_uidValidity} {_mail.Messages.Count + 1}] Append completed (0.001 + 0.000 secs).\r\n", ct).ConfigureAwait(false);
                return true;
        }
        if (session.Stage != Stage.Selected)
        {
            return await BadAsync(session, tag, IsKnown(name) ? $"Error in IMAP command {name}: No mailbox selected." : $"Error in IMAP command {MailServer.Truncate(name, 32)}: Unknown command.", ct).ConfigureAwait(false);
        }
        var uid = false;
        if (name == "UID" && args.Count > 0)
        {
            uid = true;
            name = args[0].ToUpperInvariant();
            args = [.. args.Skip(1)];
        }
        switch (name)
        {
            case "FETCH":
                return await FetchAsync(connection, session, tag, args, uid, ct).ConfigureAwait(false);
            case "SEARCH":
                var found = Search(session, args).Select(m => uid ? m.Uid : Sequence(m));
                await session.SendAsync($"* SEARCH{string.Concat(found.Select(n => " " + n.ToString(CultureInfo.InvariantCulture)))}\r\n{tag} OK Search completed (0.001 + 0.000 secs).\r\n", ct).ConfigureAwait(false);
                return true;
            case "STORE" or "COPY" or "MOVE" or "EXPUNGE":
                if (name == "EXPUNGE" || (name == "STORE" && command.RawArguments.Contains("\\Deleted", StringComparison.OrdinalIgnoreCase)) || name == "MOVE")
                {
                    connection.Emit("delete", ("command", (uid ? "UID " : "") + name), ("messages", args.Count > 0 ? MailServer.Truncate(args[0], 128) : null), ("mailbox", session.Mailbox), ("username", session.User));
                }
                await session.SendAsync($"{tag} OK {Title(name)} completed (0.001 + 0.000 secs).\r\n", ct).ConfigureAwait(false);
                return true;
            case "CLOSE" or "UNSELECT":
                session.Stage = Stage.Authenticated;
                session.Mailbox = null;
                await session.SendAsync($"{tag} OK {Title(name)} completed.\r\n", ct).ConfigureAwait(false);
                return true;
            default:
                return await BadAsync(session, tag, $"Error in IMAP command {MailServer.Truncate(name, 32)}: Unknown command.", ct).ConfigureAwait(false);
        }
    }

    private static bool IsKnown(string name) => name is "SELECT" or "EXAMINE" or "LIST" or "LSUB" or "STATUS" or "NAMESPACE" or "ENABLE" or "IDLE" or "CREATE" or "DELETE"
        or "RENAME" or "SUBSCRIBE" or "UNSUBSCRIBE" or "APPEND" or "FETCH" or "SEARCH" or "STORE" or "COPY" or "MOVE" or "EXPUNGE" or "CLOSE" or "UNSELECT" or "UID";

    private static string Title(string name) => name[..1] + name[1..].ToLowerInvariant();

    private async Task<bool> BadAsync(Session session, string tag, string message, CancellationToken ct)
    {
        if (++session.BadCommands >= MaxBadCommands)
        {
            await session.SendAsync("* BYE Too many invalid IMAP commands.\r\n", ct).ConfigureAwait(false);
            return false;
        }
        await session.SendAsync($"{tag} BAD {message}\r\n", ct).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> StartTlsAsync(HoneypotConnection connection, Session session, string tag, CancellationToken ct)
    {
        // Bytes pipelined after STARTTLS arrived in clear text: a server must not run them as if protected (CVE-2011-0411 class).
        if (session.Reader.Buffered > 0)
        {
            connection.Emit("protocol_error", ("error", "data pipelined after STARTTLS"), ("bytes", session.Reader.Buffered.ToString(CultureInfo.InvariantCulture)));
        }
        await session.SendAsync($"{tag} OK Begin TLS negotiation now.\r\n", ct).ConfigureAwait(false);
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

    private async Task<bool> LoginAsync(HoneypotConnection connection, Session session, string tag, string user, string password, string mechanism, CancellationToken ct)
    {
        var success = _mail.Users.Accepts(user, password);
        connection.Emit("auth", ("username", user), ("password", password), ("mechanism", mechanism), ("tls", session.Tls ? "true" : "false"), ("status", success ? "success" : "failed"));
        if (success)
        {
            session.Stage = Stage.Authenticated;
            session.User = user;
            connection.SetDisconnectDetails(("username", user));
            await session.SendAsync($"{tag} OK [CAPABILITY {PostLoginCapabilities}] Logged in\r\n", ct).ConfigureAwait(false);
            return true;
        }
        if (++session.AuthAttempts >= MaxAuthAttempts)
        {
            await session.SendAsync($"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n* BYE Disconnected for inactivity.\r\n", ct).ConfigureAwait(false);
            return false;
        }
        await session.SendAsync($"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", ct).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> AuthenticateAsync(HoneypotConnection connection, Session session, string tag, IReadOnlyList<string> args, CancellationToken ct)
    {
        var mechanism = args.Count > 0 ? args[0].ToUpperInvariant() : string.Empty;
        switch (mechanism)
        {
            case "PLAIN":
                var response = args.Count > 1 ? args[1] : await ChallengeAsync(session, string.Empty, ct).ConfigureAwait(false);
                if (response is null or "*")
                {
                    return response is not null && await BadAsync(session, tag, "Authentication aborted by client.", ct).ConfigureAwait(false);
                }
                if (MailServer.DecodePlain(response) is not { } plain)
                {
                    connection.Emit("protocol_error", ("error", "malformed SASL PLAIN response"));
                    return await BadAsync(session, tag, "Invalid base64 data in continued response", ct).ConfigureAwait(false);
                }
                return await LoginAsync(connection, session, tag, plain.Username, plain.Password, "PLAIN", ct).ConfigureAwait(false);
            case "LOGIN":
                var user = args.Count > 1 ? args[1] : await ChallengeAsync(session, "VXNlcm5hbWU6", ct).ConfigureAwait(false);
                if (user is null or "*")
                {
                    return user is not null && await BadAsync(session, tag, "Authentication aborted by client.", ct).ConfigureAwait(false);
                }
                var password = await ChallengeAsync(session, "UGFzc3dvcmQ6", ct).ConfigureAwait(false);
                if (password is null or "*")
                {
                    return password is not null && await BadAsync(session, tag, "Authentication aborted by client.", ct).ConfigureAwait(false);
                }
                if (MailServer.DecodeBase64(user) is not { } decodedUser || MailServer.DecodeBase64(password) is not { } decodedPassword)
                {
                    connection.Emit("protocol_error", ("error", "malformed SASL LOGIN response"));
                    return await BadAsync(session, tag, "Invalid base64 data in continued response", ct).ConfigureAwait(false);
                }
                return await LoginAsync(connection, session, tag, decodedUser, decodedPassword, "LOGIN", ct).ConfigureAwait(false);
            default:
                connection.Emit("auth_mechanism_rejected", ("mechanism", MailServer.Truncate(mechanism, 32)));
                await session.SendAsync($"{tag} NO Unsupported authentication mechanism.\r\n", ct).ConfigureAwait(false);
                return true;
        }
    }

    /// <summary>A SASL continuation: "+ challenge", then the client's line; null when it hung up.</summary>
    private static async Task<string?> ChallengeAsync(Session session, string challenge, CancellationToken ct)
    {
        await session.SendAsync($"+ {challenge}\r\n", ct).ConfigureAwait(false);
        var line = await session.Reader.ReadLineAsync(ct).ConfigureAwait(false);
        return line.IsLine ? line.Text.Trim() : null;
    }

    private IReadOnlyList<MailMessage> Selected(Session session) =>
        string.Equals(session.Mailbox, "INBOX", StringComparison.OrdinalIgnoreCase) ? _mail.Messages : [];

    private static int Sequence(MailMessage message) => message.Uid;

    private static bool IsSeen(MailMessage message) => message.Uid <= 7;

    private async Task<bool> SelectAsync(Session session, string tag, string mailbox, bool readOnly, CancellationToken ct)
    {
        var match = Mailboxes.FirstOrDefault(m => string.Equals(m.Name, mailbox, StringComparison.OrdinalIgnoreCase));
        if (match.Name is null)
        {
            session.Stage = Stage.Authenticated;
            await session.SendAsync($"{tag} NO Mailbox doesn't exist: {MailServer.Truncate(mailbox, 128)}\r\n", ct).ConfigureAwait(false);
            return true;
        }
        session.Stage = Stage.Selected;
        session.Mailbox = match.Name;
        var messages = Selected(session);
        var unseen = messages.FirstOrDefault(m => !IsSeen(m));
        var builder = new StringBuilder()
            .Append("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n")
            .Append("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n")
            .Append(CultureInfo.InvariantCulture, $"* {messages.Count} EXISTS\r\n* 0 RECENT\r\n");
        if (unseen is not null)
        {
            builder.Append(CultureInfo.InvariantCulture, $"* OK [UNSEEN {Sequence(unseen)}] First unseen.\r\n");
        }
        builder.Append(CultureInfo.InvariantCulture, $"* OK [UIDVALIDITY {_uidValidity}] UIDs valid\r\n* OK [UIDNEXT {messages.Count + 1}] Predicted next UID\r\n")
            .Append(CultureInfo.InvariantCulture, $"{tag} OK [{(readOnly ? "READ-ONLY" : "READ-WRITE")}] {(readOnly ? "Examine" : "Select")} completed (0.001 + 0.000 secs).\r\n");
        await session.SendAsync(builder.ToString(), ct).ConfigureAwait(false);
        return true;
    }

    private static async Task ListAsync(Session session, string tag, string name, IReadOnlyList<string> args, CancellationToken ct)
    {
        var pattern = args.Count > 1 ? args[1] : "*";
        var builder = new StringBuilder();
        if (pattern.Length == 0)
        {
            builder.Append(CultureInfo.InvariantCulture, $"* {name} (\\Noselect) \".\" \"\"\r\n");
        }
        else
        {
            var regex = new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("%", "[^.]*", StringComparison.Ordinal) + "$",
                RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
            foreach (var (mailbox, attributes) in Mailboxes)
            {
                if (MatchesSafely(regex, mailbox))
                {
                    builder.Append(CultureInfo.InvariantCulture, $"* {name} ({attributes}) \".\" {mailbox}\r\n");
                }
            }
        }
        builder.Append(CultureInfo.InvariantCulture, $"{tag} OK {Title(name)} completed (0.001 + 0.000 secs).\r\n");
        await session.SendAsync(builder.ToString(), ct).ConfigureAwait(false);
    }

    private static bool MatchesSafely(Regex regex, string text)
    {
        try
        {
            return regex.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private async Task StatusAsync(Session session, string tag, IReadOnlyList<string> args, CancellationToken ct)
    {
        var mailbox = args.Count > 0 ? args[0] : string.Empty;
        if (!Mailboxes.Any(m => string.Equals(m.Name, mailbox, StringComparison.OrdinalIgnoreCase)))
        {
            await session.SendAsync($"{tag} NO Mailbox doesn't exist: {MailServer.Truncate(mailbox, 128)}\r\n", ct).ConfigureAwait(false);
            return;
        }
        var messages = string.Equals(mailbox, "INBOX", StringComparison.OrdinalIgnoreCase) ? _mail.Messages : [];
        var items = (args.Count > 1 ? args[1] : "(MESSAGES)").Trim('(', ')').Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(MaxItems);
        var values = new List<string>();
        foreach (var item in items.Select(i => i.ToUpperInvariant()).Distinct())
        {
            var value = item switch
            {
                "MESSAGES" => messages.Count.ToString(CultureInfo.InvariantCulture),
                "RECENT" => "0",
                "UIDNEXT" => (messages.Count + 1).ToString(CultureInfo.InvariantCulture),
                "UIDVALIDITY" => _uidValidity.ToString(CultureInfo.InvariantCulture),
                "UNSEEN" => messages.Count(m => !IsSeen(m)).ToString(CultureInfo.InvariantCulture),
                "SIZE" => messages.Sum(m => m.Size).ToString(CultureInfo.InvariantCulture),
                _ => null,
            };
            if (value is not null)
            {
                values.Add($"{item} {value}");
            }
        }
        await session.SendAsync($"* STATUS {Quote(mailbox)} ({string.Join(' ', values)})\r\n{tag} OK Status completed (0.001 + 0.000 secs).\r\n", ct).ConfigureAwait(false);
    }

    private async Task<bool> IdleAsync(Session session, string tag, CancellationToken ct)
    {
        await session.SendAsync("+ idling\r\n", ct).ConfigureAwait(false);
        var line = await session.Reader.ReadLineAsync(ct).ConfigureAwait(false);
        if (!line.IsLine)
        {
            return false;
        }
        if (!line.Text.Trim().Equals("DONE", StringComparison.OrdinalIgnoreCase))
        {
            return await BadAsync(session, tag, "Expected DONE.", ct).ConfigureAwait(false);
        }
        await session.SendAsync($"{tag} OK Idle completed (0.001 + 0.000 secs).\r\n", ct).ConfigureAwait(false);
        return true;
    }

    private static void Append(HoneypotConnection connection, Session session, IReadOnlyList<string> args)
    {
        // APPEND mailbox [(flags)] [date] message: the message is the last argument (a literal).
        var message = args.Count > 1 ? args[^1] : string.Empty;
        var subject = message.Split("\r\n").FirstOrDefault(l => l.StartsWith("Subject:", StringComparison.OrdinalIgnoreCase))?[8..].Trim();
        connection.Emit("append",
            ("mailbox", args.Count > 0 ? MailServer.Truncate(args[0], 128) : null),
            ("size", message.Length.ToString(CultureInfo.InvariantCulture)),
            ("subject", subject is null ? null : MailServer.Truncate(subject, 256)),
            ("preview", MailServer.Truncate(message, 512)),
            ("username", session.User));
    }

    private IEnumerable<MailMessage> Search(Session session, IReadOnlyList<string> args)
    {
        IEnumerable<MailMessage> result = Selected(session);
        for (var i = 0; i < args.Count && i < MaxItems; i++)
        {
            var key = args[i].ToUpperInvariant();
            var next = i + 1 < args.Count ? args[i + 1] : null;
            switch (key)
            {
                case "UNSEEN" or "NEW":
                    result = result.Where(m => !IsSeen(m));
                    break;
                case "SEEN":
                    result = result.Where(IsSeen);
                    break;
                case "SUBJECT" when next is not null:
                    result = result.Where(m => m.Subject.Contains(next, StringComparison.OrdinalIgnoreCase));
                    i++;
                    break;
                case "FROM" or "TO" when next is not null:
                    var header = key == "FROM" ? "From:" : "To:";
                    result = result.Where(m => m.Header.Split("\r\n").Any(l => l.StartsWith(header, StringComparison.OrdinalIgnoreCase) && l.Contains(next, StringComparison.OrdinalIgnoreCase)));
                    i++;
                    break;
                case "TEXT" or "BODY" when next is not null:
                    result = result.Where(m => (key == "TEXT" ? m.Text : m.Body).Contains(next, StringComparison.OrdinalIgnoreCase));
                    i++;
                    break;
            }
        }
        return result;
    }

    private async Task<bool> FetchAsync(HoneypotConnection connection, Session session, string tag, IReadOnlyList<string> args, bool uid, CancellationToken ct)
    {
        if (args.Count < 2)
        {
            return await BadAsync(session, tag, "Error in IMAP command FETCH: Invalid arguments.", ct).ConfigureAwait(false);
        }
        var messages = Selected(session);
        var ranges = ParseSequenceSet(args[0], messages.Count == 0 ? 0 : (uid ? messages[^1].Uid : messages.Count));
        var items = ParseItems(string.Join(' ', args.Skip(1)));
        if (ranges is null || items is null)
        {
            return await BadAsync(session, tag, "Error in IMAP command FETCH: Invalid arguments.", ct).ConfigureAwait(false);
        }
        if (uid && !items.Contains("UID"))
        {
            items.Insert(0, "UID");
        }
        var read = new List<MailMessage>();
        foreach (var message in messages)
        {
            var key = uid ? message.Uid : Sequence(message);
            if (!ranges.Any(r => key >= r.From && key <= r.To))
            {
                continue;
            }
            using var buffer = new MemoryStream();
            buffer.Write(Encoding.ASCII.GetBytes($"* {Sequence(message)} FETCH ("));
            for (var i = 0; i < items.Count; i++)
            {
                if (i > 0)
                {
                    buffer.WriteByte((byte)' ');
                }
                if (WriteItem(buffer, message, items[i]))
                {
                    read.Add(message);
                }
            }
            buffer.Write(")\r\n"u8);
            await session.Stream.WriteAsync(buffer.ToArray(), ct).ConfigureAwait(false);
        }
        connection.Emit("fetch",
            ("mailbox", session.Mailbox),
            ("messages", MailServer.Truncate(args[0], 128)),
            ("items", MailServer.Truncate(string.Join(' ', items), 256)),
            ("read", read.Count == 0 ? null : string.Join(',', read.Distinct().Select(m => m.Uid.ToString(CultureInfo.InvariantCulture)))),
            ("subjects", read.Count == 0 ? null : MailServer.Truncate(string.Join(" | ", read.Distinct().Select(m => m.Subject)), 1024)),
            ("username", session.User));
        await session.SendAsync($"{tag} OK Fetch completed (0.001 + 0.000 secs).\r\n", ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Writes one FETCH item; true when it handed out message content.</summary>
    private static bool WriteItem(MemoryStream buffer, MailMessage message, string item)
    {
        void Text(string text) => buffer.Write(Encoding.UTF8.GetBytes(text));
        void Literal(string name, byte[] content)
        {
            Text($"{name} {{{content.Length}}}\r\n");
            buffer.Write(content);
        }
        switch (item)
        {
            case "UID":
                Text($"UID {message.Uid}");
                return false;
            case "FLAGS":
                Text(IsSeen(message) ? "FLAGS (\\Seen)" : "FLAGS ()");
                return false;
            case "INTERNALDATE":
                Text($"INTERNALDATE \"{message.Received.ToString("dd-MMM-yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture)}\"");
                return false;
            case "RFC822.SIZE":
                Text($"RFC822.SIZE {message.Size}");
                return false;
            case "ENVELOPE":
                Text("ENVELOPE " + Envelope(message));
                return false;
            case "BODYSTRUCTURE":
                Text($"BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" {Encoding.UTF8.GetByteCount(message.Body)} {Lines(message.Body)} NIL NIL NIL NIL)");
                return false;
            case "BODY":
                Text($"BODY (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" {Encoding.UTF8.GetByteCount(message.Body)} {Lines(message.Body)})");
                return false;
            case "RFC822":
                Literal("RFC822", message.Bytes);
                return true;
            case "RFC822.HEADER":
                Literal("RFC822.HEADER", Encoding.UTF8.GetBytes(message.Header));
                return false;
            case "RFC822.TEXT":
                Literal("RFC822.TEXT", Encoding.UTF8.GetBytes(message.Body));
                return true;
        }
        // BODY[section]<partial> and BODY.PEEK[...]: answered as BODY[section]<start>.
        var match = SectionPattern().Match(item);
        if (!match.Success)
        {
            Text("NIL");
            return false;
        }
        var section = match.Groups["section"].Value;
        var content = Encoding.UTF8.GetBytes(Section(message, section));
        var name = $"BODY[{section}]";
        if (match.Groups["start"].Success && int.TryParse(match.Groups["start"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            var length = match.Groups["length"].Success && int.TryParse(match.Groups["length"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : int.MaxValue;
            start = Math.Min(start, content.Length);
            content = content[start..(start + Math.Min(length, content.Length - start))];
            name += $"<{start}>";
        }
        Literal(name, content);
        return !section.StartsWith("HEADER", StringComparison.Ordinal);
    }

    private static string Section(MailMessage message, string section)
    {
        if (section.StartsWith("HEADER.FIELDS", StringComparison.Ordinal))
        {
            var not = section.StartsWith("HEADER.FIELDS.NOT", StringComparison.Ordinal);
            var open = section.IndexOf('(', StringComparison.Ordinal);
            var names = open < 0 ? [] : section[(open + 1)..].TrimEnd(')').Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var kept = new StringBuilder();
            var include = false;
            foreach (var line in message.Header.Split("\r\n"))
            {
                if (line.Length == 0)
                {
                    continue;
                }
                if (!char.IsWhiteSpace(line[0]))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    var field = colon > 0 ? line[..colon] : line;
                    include = names.Contains(field, StringComparer.OrdinalIgnoreCase) != not;
                }
                if (include)
                {
                    kept.Append(line).Append("\r\n");
                }
            }
            return kept.Append("\r\n").ToString();
        }
        return section switch
        {
            "" => message.Text,
            "HEADER" => message.Header,
            "TEXT" or "1" => message.Body,
            "MIME" or "1.MIME" => "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
            _ => string.Empty,
        };
    }

    private static int Lines(string text) => text.Split("\r\n").Length - 1;

    private static string Envelope(MailMessage message)
    {
        string? Field(string name) => message.Header.Split("\r\n").FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim();
        string Address(string? address)
        {
            if (address is null)
            {
                return "NIL";
            }
            var at = address.IndexOf('@', StringComparison.Ordinal);
            return at < 0 ? "NIL" : $"((NIL NIL {Quote(address[..at])} {Quote(address[(at + 1)..])}))";
        }
        var from = Address(Field("From"));
        return $"({Quote(Field("Date"))} {Quote(message.Subject)} {from} {from} {from} {Address(Field("To"))} NIL NIL NIL {Quote(Field("Message-ID"))})";
    }

    private static string Quote(string? text) =>
        text is null ? "NIL" : "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>An IMAP sequence set (1,3:5,7:*) as ranges; '*' is the highest number. Null when malformed.</summary>
    private static List<(long From, long To)>? ParseSequenceSet(string text, int highest)
    {
        var ranges = new List<(long, long)>();
        foreach (var part in text.Split(',').Take(MaxItems))
        {
            var bounds = part.Split(':');
            if (bounds.Length > 2)
            {
                return null;
            }
            var numbers = new long[bounds.Length];
            for (var i = 0; i < bounds.Length; i++)
            {
                if (bounds[i] == "*")
                {
                    numbers[i] = highest;
                }
                else if (!long.TryParse(bounds[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]) || numbers[i] < 1)
                {
                    return null;
                }
            }
            ranges.Add(numbers.Length == 1 ? (numbers[0], numbers[0]) : (Math.Min(numbers[0], numbers[1]), Math.Max(numbers[0], numbers[1])));
        }
        return ranges;
    }

    /// <summary>FETCH items, macros expanded, upper-cased; null when malformed or too many.</summary>
    private static List<string>? ParseItems(string text)
    {
        text = text.Trim();
        if (text.StartsWith('(') && text.EndsWith(')'))
        {
            text = text[1..^1];
        }
        var items = new List<string>();
        var position = 0;
        while (position < text.Length)
        {
            if (text[position] == ' ')
            {
                position++;
                continue;
            }
            var start = position;
            while (position < text.Length && text[position] is not (' ' or '['))
            {
                position++;
            }
            if (position < text.Length && text[position] == '[')
            {
                var close = text.IndexOf(']', position);
                if (close < 0)
                {
                    return null;
                }
                position = close + 1;
                if (position < text.Length && text[position] == '<')
                {
                    var end = text.IndexOf('>', position);
                    if (end < 0)
                    {
                        return null;
                    }
                    position = end + 1;
                }
            }
            var item = text[start..position].ToUpperInvariant();
            switch (item)
            {
                case "ALL":
                    items.AddRange(["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"]);
                    break;
                case "FAST":
                    items.AddRange(["FLAGS", "INTERNALDATE", "RFC822.SIZE"]);
                    break;
                case "FULL":
                    items.AddRange(["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"]);
                    break;
                default:
                    items.Add(item);
                    break;
            }
            if (items.Count > MaxItems)
            {
                return null;
            }
        }
        return items.Count == 0 ? null : items;
    }

    /// <summary>
    /// Reads one command: its line and any literals ({n} with a "+" continuation, {n+} without), each
    /// bounded. Returns (null, null) at end of stream and (null, reason) for a line that cannot be a command.
    /// </summary>
    private async Task<(Command? Command, string? Error)> ReadCommandAsync(Session session, CancellationToken ct)
    {
        var text = new StringBuilder();
        var literals = new List<string>();
        while (true)
        {
            var line = await session.Reader.ReadLineAsync(ct).ConfigureAwait(false);
            if (line.Status == LineStatus.EndOfStream)
            {
                return (null, null);
            }
            if (line.Status == LineStatus.TooLong)
            {
                return (null, "Too long argument.");
            }
            // NUL never belongs in a command line; it marks literals below, so the attacker's are blanked.
            var lineText = line.Text.Replace('\0', ' ');
            var literal = LiteralPattern().Match(lineText);
            if (!literal.Success)
            {
                text.Append(lineText);
                break;
            }
            if (!int.TryParse(literal.Groups["size"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size > MaxLiteralBytes || literals.Count >= MaxLiteralsPerCommand)
            {
                // The client will send the literal anyway; nothing after it can be trusted as a command.
                session.LoggedOut = true;
                return (null, "Literal too large.");
            }
            text.Append(lineText.AsSpan(0, literal.Index)).Append('\0').Append(literals.Count.ToString(CultureInfo.InvariantCulture)).Append('\0');
            if (!literal.Groups["plus"].Success)
            {
                await session.SendAsync("+ OK\r\n", ct).ConfigureAwait(false);
            }
            var bytes = new byte[size];
            if (!await session.Reader.ReadExactlyAsync(bytes, ct).ConfigureAwait(false))
            {
                return (null, null);
            }
            literals.Add(Encoding.UTF8.GetString(bytes));
        }
        var full = text.ToString();
        var space = full.IndexOf(' ', StringComparison.Ordinal);
        var tag = space < 0 ? full : full[..space];
        if (tag.Length == 0 || tag.Length > 64 || tag.Any(c => c is '*' or '+' or '(' or ')' or '{' or '"' or '\\' or '%' || char.IsControl(c)))
        {
            return (null, "Error in IMAP command received by server.");
        }
        var rest = space < 0 ? string.Empty : full[(space + 1)..];
        var nameEnd = rest.IndexOf(' ', StringComparison.Ordinal);
        var name = nameEnd < 0 ? rest : rest[..nameEnd];
        var raw = nameEnd < 0 ? string.Empty : rest[(nameEnd + 1)..];
        if (name.Length == 0)
        {
            return (null, "Error in IMAP command received by server.");
        }
        var arguments = Tokenize(raw, literals);
        var shown = LiteralMarkerPattern().Replace(raw, m => "{" + literals[int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)].Length.ToString(CultureInfo.InvariantCulture) + "}");
        return (new Command(tag, name, arguments, shown), null);
    }

    /// <summary>Atoms, quoted strings, literals and parenthesised lists (kept whole) of an argument string.</summary>
    private static List<string> Tokenize(string text, List<string> literals)
    {
        var tokens = new List<string>();
        var i = 0;
        while (i < text.Length && tokens.Count < 64)
        {
            var c = text[i];
            if (c == ' ')
            {
                i++;
            }
            else if (c == '"')
            {
                var value = new StringBuilder();
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }
                    value.Append(text[i++]);
                }
                i++;
                tokens.Add(value.ToString());
            }
            else if (c == '\0')
            {
                var end = text.IndexOf('\0', i + 1);
                var index = end > i ? int.Parse(text.AsSpan(i + 1, end - i - 1), NumberStyles.None, CultureInfo.InvariantCulture) : -1;
                tokens.Add(index >= 0 && index < literals.Count ? literals[index] : string.Empty);
                i = end > i ? end + 1 : text.Length;
            }
            else if (c == '(')
            {
                var depth = 0;
                var start = i;
                do
                {
                    depth += text[i] == '(' ? 1 : text[i] == ')' ? -1 : 0;
                    i++;
                }
                while (i < text.Length && depth > 0);
                tokens.Add(text[start..i]);
            }
            else
            {
                var start = i;
                var inBrackets = false;
                while (i < text.Length && (inBrackets || text[i] is not (' ' or '(' or '"' or '\0')))
                {
                    inBrackets = text[i] == '[' || (inBrackets && text[i] != ']');
                    i++;
                }
                tokens.Add(text[start..i]);
            }
        }
        return tokens;
    }

    [GeneratedRegex(@"\{(?<size>\d{1,10})(?<plus>\+)?\}$", RegexOptions.CultureInvariant)]
    private static partial Regex LiteralPattern();

    [GeneratedRegex("\0(\\d+)\0", RegexOptions.CultureInvariant)]
    private static partial Regex LiteralMarkerPattern();

    [GeneratedRegex(@"^BODY(?:\.PEEK)?\[(?<section>[^\]]*)\](?:<(?<start>\d{1,9})(?:\.(?<length>\d{1,9}))?>)?$", RegexOptions.CultureInvariant)]
    private static partial Regex SectionPattern();

    public ValueTask DisposeAsync()
    {
        _mail.Dispose();
        return ValueTask.CompletedTask;
    }
}
