using System.Globalization;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Smtp;

public sealed class SmtpHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "smtp";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(25), new(587)];

    public IHoneypotService Create(ServiceContext context) => new SmtpHoneypot(context, openRelay: false);
}

/// <summary>The open-relay bait: accepts any AUTH and any recipient and queues what spammers send.</summary>
public sealed class SmtpRelayHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "smtp_relay";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(25), new(587)];

    public IHoneypotService Create(ServiceContext context) => new SmtpHoneypot(context, openRelay: true);
}

/// <summary>
/// A Postfix-like ESMTP server. In the default mode it harvests credentials (AUTH always 535) and
/// refuses relaying (RCPT 554); as an open relay it accepts everything and stores each message as an
/// .eml artifact instead of delivering it.
/// </summary>
public sealed class SmtpHoneypot(ServiceContext context, bool openRelay) : IHoneypotService
{
    public const int MaxMessageBytes = 10_240_000;

    /// <summary>The start of a message kept in memory while the rest streams to disk: where its headers are.</summary>
    private const int HeaderBytes = 64 * 1024;
    private const int MaxRecipients = 100;
    private const int MaxErrors = 20;
    private const int MaxCommands = 1000;
    private const int MaxLoggedAddress = 320;

    public ServiceContext Context { get; } = context;

    public bool OpenRelay { get; } = openRelay;

    private string ServiceName => OpenRelay ? "smtp_relay" : "smtp";

    /// <summary>
    /// The one name the server announces, in its greeting and in its EHLO answer: <c>mta</c> when configured,
    /// else the host a configured <c>banner</c> names, else the decky's hostname. A Postfix never greets as
    /// one host and answers EHLO as another.
    /// </summary>
    private string MailHost => Context.PersonaValue("mta") is { Length: > 0 } mta ? mta : BannerHost ?? Context.Hostname;

    /// <summary>The first word of a configured banner (after any "220"), when it reads as a host name.</summary>
    private string? BannerHost
    {
        get
        {
            var banner = Context.PersonaValue("banner")?.Trim();
            if (string.IsNullOrEmpty(banner))
            {
                return null;
            }
            if (banner.StartsWith("220", StringComparison.Ordinal))
            {
                banner = banner[3..].TrimStart(' ', '-');
            }
            var word = banner.Split(' ', 2)[0];
            return word.Length is > 0 and <= 253 && word.Any(char.IsAsciiLetter) && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-') ? word : null;
        }
    }

    private string Banner
    {
        get
        {
            var banner = Context.PersonaValue("banner");
            if (banner is null)
            {
                return $"220 {MailHost} ESMTP Postfix (Debian/GNU)";
            }
            return banner.StartsWith("220", StringComparison.Ordinal) ? banner : "220 " + banner;
        }
    }

    private sealed class Envelope
    {
        public string? Helo { get; set; }
        public string? From { get; set; }
        public List<string> Recipients { get; } = [];
        public int Errors { get; set; }
        public bool Authenticated { get; set; }

        public void Reset()
        {
            From = null;
            Recipients.Clear();
        }
    }

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        // Latin-1 maps bytes 1:1, so stored messages keep the attacker's exact bytes.
        var lines = connection.CreateLineReader(Encoding.Latin1);
        var envelope = new Envelope();
        await ReplyAsync(connection, Banner, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < MaxCommands; i++)
        {
            var line = await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.Status == LineStatus.EndOfStream)
            {
                return;
            }
            bool keepGoing;
            if (line.Status == LineStatus.TooLong)
            {
                keepGoing = await ErrorAsync(connection, envelope, "500 5.5.0 Error: line too long", cancellationToken).ConfigureAwait(false);
            }
            else
            {
                keepGoing = await ExecuteAsync(connection, lines, envelope, line.Text, cancellationToken).ConfigureAwait(false);
            }
            if (!keepGoing)
            {
                return;
            }
        }
    }

    private async Task<bool> ExecuteAsync(HoneypotConnection connection, LineReader lines, Envelope envelope, string text, CancellationToken ct)
    {
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        var verb = (space < 0 ? text : text[..space]).Trim().ToUpperInvariant();
        var argument = space < 0 ? string.Empty : text[(space + 1)..].Trim();
        switch (verb)
        {
            case "EHLO" or "HELO":
                if (argument.Length == 0)
                {
                    return await ErrorAsync(connection, envelope, $"501 Syntax: {verb} hostname", ct).ConfigureAwait(false);
                }
                envelope.Helo = Truncate(argument, 255);
                envelope.Reset();
                connection.Emit("ehlo", ("verb", verb), ("domain", envelope.Helo));
                await ReplyAsync(connection, verb == "HELO"
                    ? $"250 {MailHost}"
                    : $"250-{MailHost}\r\n250-PIPELINING\r\n250-SIZE {MaxMessageBytes}\r\n250-VRFY\r\n250-ETRN\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 SMTPUTF8", ct).ConfigureAwait(false);
                return true;
            case "AUTH":
                return await AuthenticateAsync(connection, lines, envelope, argument, ct).ConfigureAwait(false);
            case "MAIL":
                if (envelope.Helo is null)
                {
                    return await ErrorAsync(connection, envelope, "503 5.5.1 Error: send HELO/EHLO first", ct).ConfigureAwait(false);
                }
                if (envelope.From is not null)
                {
                    return await ErrorAsync(connection, envelope, "503 5.5.1 Error: nested MAIL command", ct).ConfigureAwait(false);
                }
                if (!TryAddress(argument, "FROM:", out var from))
                {
                    return await ErrorAsync(connection, envelope, "501 5.5.4 Syntax: MAIL FROM:<address>", ct).ConfigureAwait(false);
                }
                envelope.From = from;
                connection.Emit("mail_from", ("address", from), ("helo", envelope.Helo));
                await ReplyAsync(connection, "250 2.1.0 Ok", ct).ConfigureAwait(false);
                return true;
            case "RCPT":
                if (envelope.From is null)
                {
                    return await ErrorAsync(connection, envelope, "503 5.5.1 Error: need MAIL command", ct).ConfigureAwait(false);
                }
                if (!TryAddress(argument, "TO:", out var to) || to.Length == 0)
                {
                    return await ErrorAsync(connection, envelope, "501 5.5.4 Syntax: RCPT TO:<address>", ct).ConfigureAwait(false);
                }
                if (!OpenRelay)
                {
                    connection.Emit("rcpt_denied", ("address", to), ("mail_from", envelope.From));
                    return await ErrorAsync(connection, envelope, $"554 5.7.1 <{to}>: Relay access denied", ct).ConfigureAwait(false);
                }
                if (envelope.Recipients.Count >= MaxRecipients)
                {
                    await ReplyAsync(connection, "452 4.5.3 Error: too many recipients", ct).ConfigureAwait(false);
                    return true;
                }
                envelope.Recipients.Add(to);
                connection.Emit("rcpt_to", ("address", to), ("mail_from", envelope.From));
                await ReplyAsync(connection, "250 2.1.5 Ok", ct).ConfigureAwait(false);
                return true;
            case "DATA":
                if (envelope.Recipients.Count == 0)
                {
                    return await ErrorAsync(connection, envelope, envelope.From is null ? "503 5.5.1 Error: need RCPT command" : "554 5.5.1 Error: no valid recipients", ct).ConfigureAwait(false);
                }
                return await ReceiveDataAsync(connection, lines, envelope, ct).ConfigureAwait(false);
            case "VRFY":
                connection.Emit("vrfy", ("address", Truncate(argument, MaxLoggedAddress)));
                await ReplyAsync(connection, argument.Length == 0 ? "501 5.5.4 Syntax: VRFY address" : $"252 2.0.0 {Truncate(argument, MaxLoggedAddress)}", ct).ConfigureAwait(false);
                return true;
            case "RSET":
                envelope.Reset();
                await ReplyAsync(connection, "250 2.0.0 Ok", ct).ConfigureAwait(false);
                return true;
            case "NOOP":
                await ReplyAsync(connection, "250 2.0.0 Ok", ct).ConfigureAwait(false);
                return true;
            case "QUIT":
                await ReplyAsync(connection, "221 2.0.0 Bye", ct).ConfigureAwait(false);
                return false;
            case "STARTTLS" or "BDAT":
                return await ErrorAsync(connection, envelope, "502 5.5.1 Error: command not implemented", ct).ConfigureAwait(false);
            case "ETRN":
                await ReplyAsync(connection, "250 Queuing started", ct).ConfigureAwait(false);
                return true;
            default:
                connection.Emit("unknown_command", ("command", Truncate(text, 512)));
                return await ErrorAsync(connection, envelope, "502 5.5.2 Error: command not recognized", ct).ConfigureAwait(false);
        }
    }

    private async Task<bool> AuthenticateAsync(HoneypotConnection connection, LineReader lines, Envelope envelope, string argument, CancellationToken ct)
    {
        if (envelope.Helo is null)
        {
            return await ErrorAsync(connection, envelope, "503 5.5.1 Error: send HELO/EHLO first", ct).ConfigureAwait(false);
        }
        if (envelope.Authenticated)
        {
            return await ErrorAsync(connection, envelope, "503 5.5.1 Error: already authenticated", ct).ConfigureAwait(false);
        }
        var parts = argument.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        var mechanism = parts.Length > 0 ? parts[0].ToUpperInvariant() : string.Empty;
        var initial = parts.Length > 1 ? parts[1] : null;
        string? username;
        string? password;
        switch (mechanism)
        {
            case "PLAIN":
                var response = initial ?? await ChallengeAsync(connection, lines, string.Empty, ct).ConfigureAwait(false);
                if (response is null)
                {
                    return false;
                }
                if (response == "*")
                {
                    return await ErrorAsync(connection, envelope, "501 5.7.0 Authentication aborted", ct).ConfigureAwait(false);
                }
                var plain = DecodeBase64(response);
                var fields = plain?.Split('\0');
                if (fields is not { Length: 3 })
                {
                    return await ErrorAsync(connection, envelope, "535 5.7.8 Error: authentication failed: Invalid authentication mechanism", ct).ConfigureAwait(false);
                }
                (username, password) = (fields[1], fields[2]);
                break;
            case "LOGIN":
                var userResponse = initial ?? await ChallengeAsync(connection, lines, "VXNlcm5hbWU6", ct).ConfigureAwait(false);
                if (userResponse is null)
                {
                    return false;
                }
                var passResponse = userResponse == "*" ? "*" : await ChallengeAsync(connection, lines, "UGFzc3dvcmQ6", ct).ConfigureAwait(false);
                if (passResponse is null)
                {
                    return false;
                }
                if (passResponse == "*")
                {
                    return await ErrorAsync(connection, envelope, "501 5.7.0 Authentication aborted", ct).ConfigureAwait(false);
                }
                username = DecodeBase64(userResponse);
                password = DecodeBase64(passResponse);
                if (username is null || password is null)
                {
                    return await ErrorAsync(connection, envelope, "501 5.5.2 Cannot decode response", ct).ConfigureAwait(false);
                }
                break;
            case "":
                return await ErrorAsync(connection, envelope, "501 5.5.4 Syntax: AUTH mechanism", ct).ConfigureAwait(false);
            default:
                connection.Emit("auth_mechanism_rejected", ("mechanism", Truncate(mechanism, 64)));
                return await ErrorAsync(connection, envelope, "535 5.7.8 Error: authentication failed: Invalid authentication mechanism", ct).ConfigureAwait(false);
        }
        connection.Emit("auth_attempt", ("username", username), ("password", password), ("mechanism", mechanism), ("status", OpenRelay ? "success" : "failed"));
        if (OpenRelay)
        {
            envelope.Authenticated = true;
            await ReplyAsync(connection, "235 2.7.0 Authentication successful", ct).ConfigureAwait(false);
            return true;
        }
        return await ErrorAsync(connection, envelope, "535 5.7.8 Error: authentication failed: authentication failure", ct).ConfigureAwait(false);
    }

    private async Task<string?> ChallengeAsync(HoneypotConnection connection, LineReader lines, string challenge, CancellationToken ct)
    {
        await ReplyAsync(connection, "334 " + challenge, ct).ConfigureAwait(false);
        var line = await lines.ReadLineAsync(ct).ConfigureAwait(false);
        return line.Status switch
        {
            LineStatus.Line => line.Text.Trim(),
            LineStatus.TooLong => "*",
            _ => null,
        };
    }

    /// <summary>
    /// Receives a message body. It streams into the artifact store as it arrives (hashed, charged to the
    /// quota); only its first <see cref="HeaderBytes"/> stay in memory, for the Subject. A message over
    /// <see cref="MaxMessageBytes"/>, or one the attacker never finished, is dropped once it has ended.
    /// </summary>
    private async Task<bool> ReceiveDataAsync(HoneypotConnection connection, LineReader lines, Envelope envelope, CancellationToken ct)
    {
        await ReplyAsync(connection, "354 End data with <CR><LF>.<CR><LF>", ct).ConfigureAwait(false);
        var queueId = Convert.ToHexString(RandomNumberGenerator.GetBytes(5));
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024));
        var finished = false;
        var tooBig = false;
        var save = SaveAsync();
        var head = new MemoryStream();
        long size = 0;
        var droppedLines = false;
        try
        {
            while (true)
            {
                var line = await lines.ReadLineAsync(ct).ConfigureAwait(false);
                if (line.Status == LineStatus.EndOfStream)
                {
                    break;
                }
                if (line.Status == LineStatus.TooLong)
                {
                    droppedLines = true;
                    continue;
                }
                if (line.Text == ".")
                {
                    finished = true;
                    break;
                }
                // RFC 5321 §4.5.2: a leading dot was doubled by the client.
                var text = line.Text.StartsWith('.') ? line.Text[1..] : line.Text;
                if (tooBig || size + text.Length + 2 > MaxMessageBytes)
                {
                    // Read to the end of the message, keep nothing more: the whole message is refused.
                    tooBig = true;
                    continue;
                }
                var bytes = Encoding.Latin1.GetBytes(text + "\r\n");
                size += bytes.Length;
                if (head.Length < HeaderBytes)
                {
                    head.Write(bytes, 0, (int)Math.Min(bytes.Length, HeaderBytes - head.Length));
                }
                await pipe.Writer.WriteAsync(bytes, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            await pipe.Writer.CompleteAsync().ConfigureAwait(false);
            await save.ConfigureAwait(false);
        }
        var artifact = await save.ConfigureAwait(false);
        if (!finished)
        {
            return false;
        }

        if (tooBig)
        {
            connection.Emit("message_rejected", ("reason", "too_big"), ("mail_from", envelope.From));
            envelope.Reset();
            await ReplyAsync(connection, "552 5.3.4 Error: message file too big", ct).ConfigureAwait(false);
            return true;
        }

        if (artifact.Stored is null)
        {
            // Over a quota or the session's file count: the message event stays, its bytes are not kept.
            ArtifactStore.Report(connection, artifact, queueId + ".eml", ("queue_id", queueId));
        }
        connection.Emit(
            "message_accepted",
            ("queue_id", queueId),
            ("mail_from", envelope.From),
            ("rcpt_to", string.Join(',', envelope.Recipients)),
            ("subject", Subject(head.ToArray())),
            ("size", size.ToString(CultureInfo.InvariantCulture)),
            ("sha256", artifact.Sha256),
            ("stored_as", artifact.Stored?.StoredAs),
            ("lines_dropped", droppedLines ? "true" : null),
            ("helo", envelope.Helo));
        envelope.Reset();
        await ReplyAsync(connection, $"250 2.0.0 Ok: queued as {queueId}", ct).ConfigureAwait(false);
        return true;

        // Not cancelled with the session: completing the pipe ends it, whatever happened to the session.
        // A store that stops early completes the reader, so later writes are dropped instead of waiting.
        async Task<ArtifactCapture> SaveAsync()
        {
            try
            {
                return await ArtifactStore.SaveAsync(connection, ServiceName, queueId + ".eml", pipe.Reader.AsStream(), MaxMessageBytes, CancellationToken.None,
                    keep: () => finished && !tooBig).ConfigureAwait(false);
            }
            finally
            {
                await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The Subject header of the message, unfolded and capped.</summary>
    private static string? Subject(byte[] message)
    {
        var text = Encoding.Latin1.GetString(message);
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var headers = (headerEnd >= 0 ? text[..headerEnd] : text).Replace("\r\n ", " ", StringComparison.Ordinal).Replace("\r\n\t", " ", StringComparison.Ordinal);
        foreach (var header in headers.Split("\r\n"))
        {
            if (header.StartsWith("Subject:", StringComparison.OrdinalIgnoreCase))
            {
                return Truncate(header[8..].Trim(), 256);
            }
        }
        return null;
    }

    /// <summary>Parses "FROM:&lt;a@b&gt; SIZE=123" style arguments; the null sender "&lt;&gt;" is valid for MAIL.</summary>
    private static bool TryAddress(string argument, string prefix, out string address)
    {
        address = string.Empty;
        if (!argument.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var rest = argument[prefix.Length..].Trim();
        if (rest.StartsWith('<'))
        {
            var close = rest.IndexOf('>', StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }
            address = Truncate(rest[1..close], MaxLoggedAddress);
            return true;
        }
        var end = rest.IndexOf(' ', StringComparison.Ordinal);
        address = Truncate(end < 0 ? rest : rest[..end], MaxLoggedAddress);
        return address.Length > 0;
    }

    private static string? DecodeBase64(string text)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(text));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>Replies with an error; after too many, hangs up like Postfix's hard error limit.</summary>
    private async Task<bool> ErrorAsync(HoneypotConnection connection, Envelope envelope, string reply, CancellationToken ct)
    {
        await ReplyAsync(connection, reply, ct).ConfigureAwait(false);
        if (++envelope.Errors < MaxErrors)
        {
            return true;
        }
        await ReplyAsync(connection, $"421 4.7.0 {MailHost} Error: too many errors", ct).ConfigureAwait(false);
        return false;
    }

    private static string Truncate(string text, int max) => text.Length > max ? text[..max] : text;

    private static Task ReplyAsync(HoneypotConnection connection, string reply, CancellationToken ct) =>
        connection.Stream.WriteAsync(Encoding.Latin1.GetBytes(reply + "\r\n"), ct).AsTask();
}
