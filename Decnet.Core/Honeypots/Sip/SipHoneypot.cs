using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Sip;

public sealed class SipHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "sip";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(5060, ServiceTransport.Udp), new(5060, ServiceTransport.Tcp)];

    public IHoneypotService Create(ServiceContext context) => new SipHoneypot(context);
}

/// <summary>
/// An Asterisk (chan_sip) registrar on UDP and TCP 5060. OPTIONS is answered like a PBX that wants to be
/// found; REGISTER, INVITE and the other dialog methods get a Digest challenge, and the Digest response that
/// comes back is captured in hashcat's SIP format (mode 11400) so a weak extension password can be cracked
/// offline. Persona: <c>version</c> (Asterisk version), <c>realm</c>, <c>users</c> (<c>ext:password,...</c>,
/// whose correct answers register).
/// </summary>
public sealed class SipHoneypot : IHoneypotService
{
    public const string HashcatMode = "11400";
    private const string Allow = "INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO, PUBLISH";
    private const int MaxLoggedHeader = 256;
    private const int MaxMessagesPerConnection = 1000;

    private static readonly HashSet<string> ChallengedMethods = new(StringComparer.Ordinal)
    {
        "REGISTER", "INVITE", "SUBSCRIBE", "NOTIFY", "MESSAGE", "PUBLISH", "REFER", "INFO", "UPDATE", "PRACK",
    };

    private readonly Dictionary<string, string> _users = new(StringComparer.Ordinal);

    public SipHoneypot(ServiceContext context)
    {
        Context = context;
        foreach (var entry in (context.PersonaValue("users") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                _users[entry[..colon]] = entry[(colon + 1)..];
            }
        }
    }

    public ServiceContext Context { get; }

    private string Server => "Asterisk PBX " + (Context.PersonaValue("version") ?? "18.20.0");

    private string Realm => Context.PersonaValue("realm") ?? "asterisk";

    public ValueTask<DatagramReply?> AnswerDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, IPEndPoint local, CancellationToken cancellationToken)
    {
        var request = SipParser.ParseDatagram(datagram.Span, Context.Limits.MaxLineLength);
        if (request is null)
        {
            // Keep-alive CRLFs are normal; anything else that is not a request is an error worth seeing.
            if (!datagram.Span.Trim("\r\n "u8).IsEmpty)
            {
                Emit(remote, "protocol_error", ("transport", "udp"), ("error", "not a SIP request"), ("length", datagram.Length.ToString(CultureInfo.InvariantCulture)));
            }
            return ValueTask.FromResult<DatagramReply?>(null);
        }
        var reply = Respond(request, remote, local, "udp");
        if (reply is null)
        {
            return ValueTask.FromResult<DatagramReply?>(null);
        }
        // RFC 3261 18.2.2 / RFC 3581: the sender's address, at the Via sent-by port unless rport asks for the source port.
        var (viaPort, rport) = request.Header("Via") is { } via ? SipParser.ViaPort(via) : (null, true);
        var port = rport ? remote.Port : viaPort ?? 5060;
        return ValueTask.FromResult<DatagramReply?>(new DatagramReply(Encoding.UTF8.GetBytes(reply), port));
    }

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        var lines = connection.CreateLineReader();
        for (var served = 0; served < MaxMessagesPerConnection && !cancellationToken.IsCancellationRequested; served++)
        {
            var first = await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (first.Status == LineStatus.EndOfStream)
            {
                return;
            }
            if (first is { Status: LineStatus.Line, Text.Length: 0 })
            {
                // CRLF keep-alive ping (RFC 5626): answered with a single CRLF.
                served--;
                await connection.Stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (!first.IsLine || !SipParser.TryParseRequestLine(first.Text, out var method, out var uri))
            {
                connection.Emit("protocol_error", ("transport", "tcp"), ("error", first.IsLine ? "malformed request line" : "request line too long"));
                return;
            }
            var headers = new List<KeyValuePair<string, string>>();
            while (true)
            {
                var line = await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                if (line.Status == LineStatus.EndOfStream)
                {
                    return;
                }
                if (line is { Status: LineStatus.Line, Text.Length: 0 })
                {
                    break;
                }
                if (!line.IsLine || headers.Count >= SipParser.MaxHeaders || !SipParser.TryParseHeader(line.Text, out var header))
                {
                    connection.Emit("protocol_error", ("transport", "tcp"), ("error", "malformed or too many headers"), ("method", method));
                    return;
                }
                headers.Add(header);
            }
            // TCP framing needs Content-Length (RFC 3261 18.3): without a usable one the stream cannot be followed.
            var length = SipParser.ContentLength(headers);
            if (length is null or < 0)
            {
                connection.Emit("protocol_error", ("transport", "tcp"), ("error", length is null ? "no Content-Length" : "bad Content-Length"), ("method", method));
                return;
            }
            if (length > 0 && !await lines.ReadExactlyAsync(new byte[length.Value], cancellationToken).ConfigureAwait(false))
            {
                return;
            }
            var request = new SipRequest { Method = method, Uri = uri, Headers = headers, BodyLength = length.Value };
            var reply = Respond(request, connection.Remote, connection.Local, "tcp", connection);
            if (reply is not null)
            {
                await connection.Stream.WriteAsync(Encoding.UTF8.GetBytes(reply), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The response text, or null when the request gets none (ACK).</summary>
    private string? Respond(SipRequest request, IPEndPoint remote, IPEndPoint local, string transport, HoneypotConnection? connection = null)
    {
        void Log(string type, params (string Key, string? Value)[] fields)
        {
            if (connection is not null)
            {
                connection.Emit(type, fields);
            }
            else
            {
                Emit(remote, type, fields);
            }
        }

        var authorization = request.Header("Authorization") ?? request.Header("Proxy-Authorization");
        var digest = authorization is null ? null : SipParser.DigestParameters(authorization);
        Log(
            "request",
            ("method", request.Method),
            ("uri", Clip(request.Uri)),
            ("from", Clip(request.Header("From"))),
            ("to", Clip(request.Header("To"))),
            ("call_id", Clip(request.Header("Call-ID"))),
            ("user_agent", Clip(request.Header("User-Agent"))),
            ("contact", Clip(request.Header("Contact"))),
            ("transport", transport),
            ("username", digest?.GetValueOrDefault("username") is { } user ? Clip(user) : null),
            ("auth", Clip(authorization)));

        if (request.Method == "ACK")
        {
            return null;
        }
        if (request.Method == "OPTIONS")
        {
            return Response(request, remote, local, transport, "200 OK",
            [
                "Contact: <sip:" + Host(local) + ">",
                "Accept: application/sdp",
                "Accept-Language: en",
            ]);
        }
        if (request.Method is "BYE" or "CANCEL")
        {
            return Response(request, remote, local, transport, "481 Call/Transaction Does Not Exist", []);
        }
        if (!ChallengedMethods.Contains(request.Method))
        {
            return Response(request, remote, local, transport, "501 Not Implemented", []);
        }
        if (digest is null || !digest.ContainsKey("response"))
        {
            var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            return Response(request, remote, local, transport, "401 Unauthorized",
                [$"WWW-Authenticate: Digest algorithm=MD5, realm=\"{Realm}\", nonce=\"{nonce}\""]);
        }

        var username = digest.GetValueOrDefault("username") ?? string.Empty;
        var valid = _users.TryGetValue(username, out var password) && VerifyDigest(digest, request.Method, password);
        Log(
            "auth_attempt",
            ("username", Clip(username)),
            ("realm", Clip(digest.GetValueOrDefault("realm"))),
            ("nonce", Clip(digest.GetValueOrDefault("nonce"))),
            ("uri", Clip(digest.GetValueOrDefault("uri"))),
            ("method", request.Method),
            ("response", Clip(digest.GetValueOrDefault("response"))),
            ("algorithm", Clip(digest.GetValueOrDefault("algorithm"))),
            ("qop", Clip(digest.GetValueOrDefault("qop"))),
            ("nc", Clip(digest.GetValueOrDefault("nc"))),
            ("cnonce", Clip(digest.GetValueOrDefault("cnonce"))),
            ("hash", HashcatLine(digest, request.Method, remote, local)),
            ("hash_type", "sip_digest_md5"),
            ("hashcat_mode", HashcatMode),
            ("transport", transport),
            ("status", valid ? "success" : "failed"));

        if (!valid)
        {
            return Response(request, remote, local, transport, "403 Forbidden", []);
        }
        return request.Method == "REGISTER"
            ? Response(request, remote, local, transport, "200 OK",
                [$"Expires: {Expires(request)}", request.Header("Contact") is { } contact ? $"Contact: {contact};expires={Expires(request)}" : "Contact: <sip:" + Host(local) + ">", "Date: " + Context.Time.GetUtcNow().ToString("r", CultureInfo.InvariantCulture)])
            : Response(request, remote, local, transport, "480 Temporarily Unavailable", []);
    }

    private static string Expires(SipRequest request) =>
        int.TryParse(request.Header("Expires"), NumberStyles.None, CultureInfo.InvariantCulture, out var expires) && expires is > 0 and <= 7200
            ? expires.ToString(CultureInfo.InvariantCulture)
            : "120";

    /// <summary>A chan_sip style response: the request's Via (received/rport filled), From, To (with our tag), Call-ID, CSeq.</summary>
    private string Response(SipRequest request, IPEndPoint remote, IPEndPoint local, string transport, string status, IReadOnlyList<string> extra)
    {
        var builder = new StringBuilder(512).Append("SIP/2.0 ").Append(status).Append("\r\n");
        var first = true;
        foreach (var via in request.All("Via").Take(10))
        {
            builder.Append("Via: ").Append(first ? Received(via, remote) : Sanitise(via)).Append("\r\n");
            first = false;
        }
        var to = Sanitise(request.Header("To") ?? string.Empty);
        if (!to.Contains(";tag=", StringComparison.OrdinalIgnoreCase))
        {
            to += ";tag=as" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        }
        builder.Append("From: ").Append(Sanitise(request.Header("From") ?? string.Empty)).Append("\r\n");
        builder.Append("To: ").Append(to).Append("\r\n");
        builder.Append("Call-ID: ").Append(Sanitise(request.Header("Call-ID") ?? string.Empty)).Append("\r\n");
        builder.Append("CSeq: ").Append(Sanitise(request.Header("CSeq") ?? "1 " + request.Method)).Append("\r\n");
        builder.Append("Server: ").Append(Server).Append("\r\n");
        builder.Append("Allow: ").Append(Allow).Append("\r\n");
        builder.Append("Supported: replaces, timer\r\n");
        foreach (var line in extra)
        {
            builder.Append(line).Append("\r\n");
        }
        builder.Append("Content-Length: 0\r\n\r\n");
        return builder.ToString();
    }

    private static string Received(string via, IPEndPoint remote)
    {
        var address = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4().ToString() : remote.Address.ToString();
        var parts = Sanitise(via).Split(';').ToList();
        for (var i = 1; i < parts.Count; i++)
        {
            if (parts[i].Trim().Equals("rport", StringComparison.OrdinalIgnoreCase))
            {
                parts[i] = "rport=" + remote.Port.ToString(CultureInfo.InvariantCulture);
            }
        }
        parts.RemoveAll(p => p.Trim().StartsWith("received=", StringComparison.OrdinalIgnoreCase));
        parts.Insert(Math.Min(parts.Count, 2), "received=" + address);
        return string.Join(';', parts);
    }

    private static string Host(IPEndPoint local) =>
        (local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address) + ":" + local.Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// hashcat mode 11400: <c>$sip$*server*client*user*realm*method*uri_prefix*uri_resource*uri_suffix*nonce*cnonce*nc*qop*MD5*response</c>.
    /// hashcat rebuilds the URI as prefix ':' resource; null when a field holds the separator and cannot be represented.
    /// </summary>
    public static string? HashcatLine(IReadOnlyDictionary<string, string> digest, string method, IPEndPoint remote, IPEndPoint local)
    {
        var uri = digest.GetValueOrDefault("uri") ?? string.Empty;
        var colon = uri.IndexOf(':', StringComparison.Ordinal);
        var (prefix, resource) = colon > 0 ? (uri[..colon], uri[(colon + 1)..]) : ("sip", uri);
        string[] fields =
        [
            local.Address.ToString(), remote.Address.ToString(), digest.GetValueOrDefault("username") ?? string.Empty,
            digest.GetValueOrDefault("realm") ?? string.Empty, method, prefix, resource, string.Empty,
            digest.GetValueOrDefault("nonce") ?? string.Empty, digest.GetValueOrDefault("cnonce") ?? string.Empty,
            digest.GetValueOrDefault("nc") ?? string.Empty, digest.GetValueOrDefault("qop") ?? string.Empty, "MD5",
            (digest.GetValueOrDefault("response") ?? string.Empty).ToLowerInvariant(),
        ];
        if (fields.Any(f => f.Contains('*', StringComparison.Ordinal) || f.Length > 512) || fields[^1].Length != 32)
        {
            return null;
        }
        return "$sip$*" + string.Join('*', fields);
    }

    /// <summary>RFC 2617 MD5 digest with or without qop=auth, computed from the password.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5351", Justification = "SIP Digest is MD5 by protocol; it only checks a persona password.")]
    public static string ExpectedResponse(IReadOnlyDictionary<string, string> digest, string method, string password)
    {
        static string Md5(string text) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)));
        var ha1 = Md5($"{digest.GetValueOrDefault("username")}:{digest.GetValueOrDefault("realm")}:{password}");
        var ha2 = Md5($"{method}:{digest.GetValueOrDefault("uri")}");
        return digest.TryGetValue("qop", out var qop) && qop.Length > 0
            ? Md5($"{ha1}:{digest.GetValueOrDefault("nonce")}:{digest.GetValueOrDefault("nc")}:{digest.GetValueOrDefault("cnonce")}:{qop}:{ha2}")
            : Md5($"{ha1}:{digest.GetValueOrDefault("nonce")}:{ha2}");
    }

    private static bool VerifyDigest(IReadOnlyDictionary<string, string> digest, string method, string password) =>
        string.Equals(ExpectedResponse(digest, method, password), digest.GetValueOrDefault("response"), StringComparison.OrdinalIgnoreCase);

    private void Emit(IPEndPoint remote, string type, params (string Key, string? Value)[] fields)
    {
        var list = new List<KeyValuePair<string, string>>(fields.Length + 2)
        {
            new("src_ip", remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4().ToString() : remote.Address.ToString()),
            new("src_port", remote.Port.ToString(CultureInfo.InvariantCulture)),
        };
        list.AddRange(fields.Where(f => f.Value is not null).Select(f => new KeyValuePair<string, string>(f.Key, f.Value!)));
        Context.Events.Publish(new Events.HoneypotEvent(Context.Time.GetUtcNow(), Context.DeckyName, "sip", type, list));
    }

    private static string? Clip(string? text) => text is null ? null : text.Length > MaxLoggedHeader ? text[..MaxLoggedHeader] : text;

    /// <summary>Echoed header values never carry line breaks into our response.</summary>
    private static string Sanitise(string value)
    {
        var cut = value.Length > 1024 ? value[..1024] : value;
        return cut.Replace("\r", string.Empty, StringComparison.Ordinal).Replace("\n", string.Empty, StringComparison.Ordinal);
    }
}
