using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Decnet.Core.Honeypots.Artifacts;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Ftp;

public sealed class FtpHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "ftp";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(21)];

    public IHoneypotService Create(ServiceContext context) => new FtpHoneypot(context);
}

/// <summary>
/// A vsFTPd look-alike that accepts any login and opens a bait tree. Logins, downloads and every
/// command are events; uploads are stored as artifacts. Passive mode (PASV and EPSV) works; active mode
/// is refused because it would make the honeypot connect wherever the attacker says. Data connections
/// count against the control session's byte cap, so a STOR cannot bring more than the session may.
/// </summary>
public sealed class FtpHoneypot(ServiceContext context) : IHoneypotService
{
    public const long DefaultMaxUploadBytes = 32 * 1024 * 1024;
    private const int MaxCommands = 2000;
    private static readonly TimeSpan DataConnectTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan TransferTimeout = TimeSpan.FromMinutes(5);

    private readonly FtpBaitFileSystem _files = new(context.Hostname);

    public ServiceContext Context { get; } = context;

    private int PassiveMin => int.TryParse(Context.PersonaValue("pasv_min_port"), out var v) && v is > 1023 and < 65536 ? v : 40000;

    private int PassiveMax => int.TryParse(Context.PersonaValue("pasv_max_port"), out var v) && v >= PassiveMin && v < 65536 ? v : Math.Max(PassiveMin, 40999);

    private long MaxUploadBytes => long.TryParse(Context.PersonaValue("max_upload_bytes"), out var v) && v > 0 ? v : DefaultMaxUploadBytes;

    private sealed class Session : IAsyncDisposable
    {
        public string? User { get; set; }
        public bool LoggedIn { get; set; }
        public string Cwd { get; set; } = "/";
        public bool Binary { get; set; }
        public string? RenameFrom { get; set; }
        public PassiveDataChannel? Passive { get; set; }

        public async ValueTask ClosePassiveAsync()
        {
            if (Passive is not null)
            {
                await Passive.DisposeAsync().ConfigureAwait(false);
                Passive = null;
            }
        }

        public ValueTask DisposeAsync() => ClosePassiveAsync();
    }

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var lines = connection.CreateLineReader(Encoding.UTF8);
        await using var session = new Session();
        await ReplyAsync(connection, Context.PersonaValue("banner") ?? "220 (vsFTPd 3.0.3)", cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < MaxCommands; i++)
        {
            var line = await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.Status == LineStatus.EndOfStream)
            {
                return;
            }
            if (line.Status == LineStatus.TooLong)
            {
                await ReplyAsync(connection, "500 Input line too long.", cancellationToken).ConfigureAwait(false);
                continue;
            }
            var text = line.Text.TrimEnd();
            var space = text.IndexOf(' ', StringComparison.Ordinal);
            var verb = (space < 0 ? text : text[..space]).ToUpperInvariant();
            var argument = space < 0 ? string.Empty : text[(space + 1)..];
            if (verb.Length == 0)
            {
                continue;
            }
            if (verb is not ("USER" or "PASS"))
            {
                connection.Emit("command", ("cmd", verb), ("arg", argument.Length > 0 ? argument : null), ("username", session.User));
            }
            if (!await ExecuteAsync(connection, session, verb, argument, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private async Task<bool> ExecuteAsync(HoneypotConnection connection, Session session, string verb, string argument, CancellationToken ct)
    {
        switch (verb)
        {
            case "USER":
                if (session.LoggedIn)
                {
                    await ReplyAsync(connection, "530 Can't change to another user.", ct).ConfigureAwait(false);
                    return true;
                }
                session.User = argument;
                connection.Emit("user", ("username", argument));
                await ReplyAsync(connection, "331 Please specify the password.", ct).ConfigureAwait(false);
                return true;
            case "PASS":
                if (session.LoggedIn)
                {
                    await ReplyAsync(connection, "230 Already logged in.", ct).ConfigureAwait(false);
                    return true;
                }
                if (session.User is null)
                {
                    await ReplyAsync(connection, "503 Login with USER first.", ct).ConfigureAwait(false);
                    return true;
                }
                connection.Emit("auth_attempt", ("username", session.User), ("password", argument));
                session.LoggedIn = true;
                await ReplyAsync(connection, "230 Login successful.", ct).ConfigureAwait(false);
                return true;
            case "QUIT":
                await ReplyAsync(connection, "221 Goodbye.", ct).ConfigureAwait(false);
                return false;
            case "FEAT":
                await ReplyAsync(connection, "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End", ct).ConfigureAwait(false);
                return true;
            case "SYST":
                await ReplyAsync(connection, "215 UNIX Type: L8", ct).ConfigureAwait(false);
                return true;
            case "OPTS":
                await ReplyAsync(connection, argument.StartsWith("UTF8", StringComparison.OrdinalIgnoreCase) ? "200 Always in UTF8 mode." : "501 Option not understood.", ct).ConfigureAwait(false);
                return true;
            case "NOOP":
                await ReplyAsync(connection, "200 NOOP ok.", ct).ConfigureAwait(false);
                return true;
            case "AUTH":
                // No TLS offered, like a stock vsFTPd without ssl_enable.
                await ReplyAsync(connection, "530 Please login with USER and PASS.", ct).ConfigureAwait(false);
                return true;
        }

        if (!session.LoggedIn)
        {
            await ReplyAsync(connection, "530 Please login with USER and PASS.", ct).ConfigureAwait(false);
            return true;
        }

        switch (verb)
        {
            case "PWD" or "XPWD":
                await ReplyAsync(connection, $"257 \"{session.Cwd}\" is the current directory", ct).ConfigureAwait(false);
                break;
            case "CWD" or "XCWD" or "CDUP" or "XCUP":
                var target = FtpBaitFileSystem.Resolve(session.Cwd, verb is "CDUP" or "XCUP" ? ".." : argument);
                if (_files.IsDirectory(target))
                {
                    session.Cwd = target;
                    await ReplyAsync(connection, "250 Directory successfully changed.", ct).ConfigureAwait(false);
                }
                else
                {
                    await ReplyAsync(connection, "550 Failed to change directory.", ct).ConfigureAwait(false);
                }
                break;
            case "TYPE":
                var binary = argument.StartsWith('I') || argument.StartsWith('L');
                session.Binary = binary;
                await ReplyAsync(connection, binary ? "200 Switching to Binary mode." : argument.StartsWith('A') ? "200 Switching to ASCII mode." : "500 Unrecognised TYPE command.", ct).ConfigureAwait(false);
                break;
            case "MODE":
                await ReplyAsync(connection, argument.Equals("S", StringComparison.OrdinalIgnoreCase) ? "200 Mode set to S." : "504 Bad MODE command.", ct).ConfigureAwait(false);
                break;
            case "STRU":
                await ReplyAsync(connection, argument.Equals("F", StringComparison.OrdinalIgnoreCase) ? "200 Structure set to F." : "504 Bad STRU command.", ct).ConfigureAwait(false);
                break;
            case "SIZE":
                var sized = _files.File(FtpBaitFileSystem.Resolve(session.Cwd, argument));
                await ReplyAsync(connection, sized is null ? "550 Could not get file size." : $"213 {sized.Length.ToString(CultureInfo.InvariantCulture)}", ct).ConfigureAwait(false);
                break;
            case "MDTM":
                var dated = _files.File(FtpBaitFileSystem.Resolve(session.Cwd, argument));
                await ReplyAsync(connection, dated is null ? "550 Could not get file modification time." : $"213 {FtpBaitFileSystem.ModifiedAt:yyyyMMddHHmmss}", ct).ConfigureAwait(false);
                break;
            case "PASV":
                await EnterPassiveAsync(connection, session, extended: false, ct).ConfigureAwait(false);
                break;
            case "EPSV":
                if (argument.Equals("ALL", StringComparison.OrdinalIgnoreCase))
                {
                    await ReplyAsync(connection, "200 EPSV ALL ok.", ct).ConfigureAwait(false);
                    break;
                }
                await EnterPassiveAsync(connection, session, extended: true, ct).ConfigureAwait(false);
                break;
            case "PORT" or "EPRT":
                // An FTP bounce probe is worth recording; the honeypot never connects out.
                connection.Emit("port_command", ("cmd", verb), ("target", argument));
                await ReplyAsync(connection, "500 Illegal PORT command.", ct).ConfigureAwait(false);
                break;
            case "LIST" or "NLST" or "MLSD":
                await ListAsync(connection, session, verb, argument, ct).ConfigureAwait(false);
                break;
            case "RETR":
                await RetrieveAsync(connection, session, argument, ct).ConfigureAwait(false);
                break;
            case "STOR" or "APPE" or "STOU":
                await StoreAsync(connection, session, verb == "STOU" ? "stou-upload" : argument, ct).ConfigureAwait(false);
                break;
            case "REST":
                await ReplyAsync(connection, $"350 Restart position accepted ({argument}).", ct).ConfigureAwait(false);
                break;
            case "ABOR":
                await session.ClosePassiveAsync().ConfigureAwait(false);
                await ReplyAsync(connection, "225 No transfer to ABOR.", ct).ConfigureAwait(false);
                break;
            case "MKD" or "XMKD" or "RMD" or "XRMD" or "DELE" or "SITE" or "CHMOD":
                await ReplyAsync(connection, "550 Permission denied.", ct).ConfigureAwait(false);
                break;
            case "RNFR":
                session.RenameFrom = argument;
                await ReplyAsync(connection, "350 Ready for RNTO.", ct).ConfigureAwait(false);
                break;
            case "RNTO":
                await ReplyAsync(connection, session.RenameFrom is null ? "503 RNFR required first." : "550 Rename failed.", ct).ConfigureAwait(false);
                session.RenameFrom = null;
                break;
            case "STAT":
                await ReplyAsync(connection, $"211-FTP server status:\r\n     Connected to {connection.RemoteIp}\r\n     Logged in as {session.User}\r\n     TYPE: {(session.Binary ? "BINARY" : "ASCII")}\r\n     vsFTPd 3.0.3 - secure, fast, stable\r\n211 End of status", ct).ConfigureAwait(false);
                break;
            case "HELP":
                await ReplyAsync(connection, "214-The following commands are recognized.\r\n ABOR ACCT ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD\r\n MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REIN REST RETR RMD  RNFR\r\n RNTO SITE SIZE SMNT STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD\r\n XPWD XRMD\r\n214 Help OK.", ct).ConfigureAwait(false);
                break;
            default:
                await ReplyAsync(connection, "500 Unknown command.", ct).ConfigureAwait(false);
                break;
        }
        return true;
    }

    private async Task EnterPassiveAsync(HoneypotConnection connection, Session session, bool extended, CancellationToken ct)
    {
        await session.ClosePassiveAsync().ConfigureAwait(false);
        var local = connection.Local.Address;
        var localV4 = local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local;
        if (!extended && localV4.AddressFamily != AddressFamily.InterNetwork)
        {
            await ReplyAsync(connection, "425 Can't open passive connection on IPv6, use EPSV.", ct).ConfigureAwait(false);
            return;
        }
        session.Passive = PassiveDataChannel.Open(local, PassiveMin, PassiveMax);
        if (session.Passive is null)
        {
            await ReplyAsync(connection, "425 Failed to establish connection.", ct).ConfigureAwait(false);
            return;
        }
        var port = session.Passive.Port;
        if (extended)
        {
            await ReplyAsync(connection, $"229 Entering Extended Passive Mode (|||{port.ToString(CultureInfo.InvariantCulture)}|)", ct).ConfigureAwait(false);
            return;
        }
        var octets = localV4.GetAddressBytes();
        await ReplyAsync(connection, string.Create(CultureInfo.InvariantCulture, $"227 Entering Passive Mode ({octets[0]},{octets[1]},{octets[2]},{octets[3]},{port / 256},{port % 256})."), ct).ConfigureAwait(false);
    }

    /// <summary>Opens the announced data connection; replies 425 itself when there is none.</summary>
    private async Task<NetworkStream?> OpenDataAsync(HoneypotConnection connection, Session session, CancellationToken ct)
    {
        if (session.Passive is null)
        {
            await ReplyAsync(connection, "425 Use PORT or PASV first.", ct).ConfigureAwait(false);
            return null;
        }
        var stream = await session.Passive.AcceptAsync(connection.Remote.Address, DataConnectTimeout, ct).ConfigureAwait(false);
        if (stream is null)
        {
            await session.ClosePassiveAsync().ConfigureAwait(false);
            await ReplyAsync(connection, "425 Failed to establish connection.", ct).ConfigureAwait(false);
        }
        return stream;
    }

    private async Task ListAsync(HoneypotConnection connection, Session session, string verb, string argument, CancellationToken ct)
    {
        // "LIST -la /pub": options are ls flags, not paths.
        var path = string.Join(' ', argument.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(a => !a.StartsWith('-')));
        var directory = FtpBaitFileSystem.Resolve(session.Cwd, path);
        var data = await OpenDataAsync(connection, session, ct).ConfigureAwait(false);
        if (data is null)
        {
            return;
        }
        await using (data.ConfigureAwait(false))
        {
            await ReplyAsync(connection, "150 Here comes the directory listing.", ct).ConfigureAwait(false);
            var listing = !_files.IsDirectory(directory) ? string.Empty : verb == "NLST" ? _files.NameListing(directory) : _files.LongListing(directory);
            await WriteDataAsync(data, Encoding.UTF8.GetBytes(listing), ct).ConfigureAwait(false);
        }
        await session.ClosePassiveAsync().ConfigureAwait(false);
        await ReplyAsync(connection, "226 Directory send OK.", ct).ConfigureAwait(false);
    }

    private async Task RetrieveAsync(HoneypotConnection connection, Session session, string argument, CancellationToken ct)
    {
        var path = FtpBaitFileSystem.Resolve(session.Cwd, argument);
        var content = _files.File(path);
        connection.Emit("download_attempt", ("path", path), ("found", content is null ? "false" : "true"), ("size", content?.Length.ToString(CultureInfo.InvariantCulture)), ("username", session.User));
        if (content is null)
        {
            await ReplyAsync(connection, "550 Failed to open file.", ct).ConfigureAwait(false);
            return;
        }
        var data = await OpenDataAsync(connection, session, ct).ConfigureAwait(false);
        if (data is null)
        {
            return;
        }
        await using (data.ConfigureAwait(false))
        {
            var mode = session.Binary ? "BINARY" : "ASCII";
            await ReplyAsync(connection, $"150 Opening {mode} mode data connection for {path.TrimStart('/')} ({content.Length.ToString(CultureInfo.InvariantCulture)} bytes).", ct).ConfigureAwait(false);
            await WriteDataAsync(data, content, ct).ConfigureAwait(false);
        }
        await session.ClosePassiveAsync().ConfigureAwait(false);
        await ReplyAsync(connection, "226 Transfer complete.", ct).ConfigureAwait(false);
    }

    private async Task StoreAsync(HoneypotConnection connection, Session session, string argument, CancellationToken ct)
    {
        var path = FtpBaitFileSystem.Resolve(session.Cwd, argument);
        var data = await OpenDataAsync(connection, session, ct).ConfigureAwait(false);
        if (data is null)
        {
            return;
        }
        ArtifactCapture capture;
        // The data connection is part of the session: its bytes count against the session's byte cap.
        var bounded = connection.BindSideChannel(data);
        var reachedCap = false;
        await using (data.ConfigureAwait(false))
        {
            await ReplyAsync(connection, "150 Ok to send data.", ct).ConfigureAwait(false);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(TransferTimeout);
            try
            {
                capture = await ArtifactStore.SaveAsync(connection, "ftp", path, bounded, MaxUploadBytes, deadline.Token).ConfigureAwait(false);
                reachedCap = bounded is BoundedSessionStream { ReachedCap: true };
            }
            catch (Exception ex) when (ex is IOException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
            {
                // The data connection died or stalled: nothing complete to keep, the control session goes on.
                await session.ClosePassiveAsync().ConfigureAwait(false);
                connection.Emit("upload_aborted", ("orig_path", path), ("error", ex.Message), ("username", session.User));
                await ReplyAsync(connection, "426 Failure reading network stream.", ct).ConfigureAwait(false);
                return;
            }
        }
        await session.ClosePassiveAsync().ConfigureAwait(false);
        if (reachedCap)
        {
            capture = capture.Stored is { } stored
                ? capture with { Truncated = true, Stored = stored with { Truncated = true } }
                : capture with { Truncated = true };
        }
        ArtifactStore.Report(connection, capture, path, ("username", session.User), ("session_byte_cap", reachedCap ? "true" : null));
        await ReplyAsync(connection, capture.Truncated || capture.Stored is null ? "552 Exceeded storage allocation." : "226 Transfer complete.", ct).ConfigureAwait(false);
    }

    private static async Task WriteDataAsync(NetworkStream data, byte[] content, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TransferTimeout);
        try
        {
            await data.WriteAsync(content, deadline.Token).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The client aborted the transfer; the control connection carries on.
        }
    }

    private static Task ReplyAsync(HoneypotConnection connection, string reply, CancellationToken ct) =>
        connection.Stream.WriteAsync(Encoding.UTF8.GetBytes(reply + "\r\n"), ct).AsTask();
}
