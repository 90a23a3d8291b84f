using System.Globalization;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Http;

public sealed class HttpHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "http";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(80)];

    public IHoneypotService Create(ServiceContext context) => new HttpHoneypot(context, "http", useTls: false);
}

public sealed class HttpsHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "https";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(443)];

    public IHoneypotService Create(ServiceContext context) => new HttpHoneypot(context, "https", useTls: true);
}

/// <summary>
/// A web server that answers every method on every path with the persona's pages, logs each request and
/// captures credentials from login forms and Basic authorisation headers.
/// </summary>
public sealed class HttpHoneypot : IHoneypotService
{
    public const int BodyPreviewBytes = 512;
    private const int MaxRequestsPerConnection = 1000;
    private const int MaxLoggedHeaderValue = 1024;

    private static readonly string[] UserFields = ["log", "pma_username", "username", "user", "user_login", "login", "email", "uname", "j_username", "usr"];
    private static readonly string[] PasswordFields = ["pwd", "pma_password", "password", "pass", "passwd", "user_pass", "j_password", "pw", "psw"];

    private readonly HttpPersona _persona;
    private readonly Lazy<SslStreamCertificateContext>? _certificate;
    private readonly StaticFiles? _files;

    public HttpHoneypot(ServiceContext context, string serviceName, bool useTls)
    {
        Context = context;
        _persona = HttpPersona.From(context.PersonaValue);
        _files = StaticFiles.From(context.PersonaValue("files"));
        if (useTls)
        {
            // Generated on first use, not at construction: building a decky must stay cheap.
            _certificate = new Lazy<SslStreamCertificateContext>(
                () => SslStreamCertificateContext.Create(TlsCertificateStore.LoadOrCreate(context, serviceName), additionalCertificates: null, offline: true),
                LazyThreadSafetyMode.ExecutionAndPublication);
        }
    }

    public ServiceContext Context { get; }

    public bool UsesTls => _certificate is not null;

    /// <summary>The certificate HTTPS presents (generated on first call).</summary>
    public X509Certificate2? Certificate => _certificate?.Value.TargetCertificate;

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        Stream stream = connection.Stream;
        SslStream? tls = null;
        if (_certificate is not null)
        {
            tls = new SslStream(connection.Stream, leaveInnerStreamOpen: true);
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = _certificate.Value,
                    ClientCertificateRequired = false,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    // Offer ALPN like a real HTTP/1.1 server; clients that propose h2 settle on http/1.1.
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException)
            {
                connection.Emit("tls_error", ("error", ex.Message));
                await tls.DisposeAsync().ConfigureAwait(false);
                return;
            }
            connection.Emit("tls_session", ("protocol", tls.SslProtocol.ToString()), ("cipher", tls.NegotiatedCipherSuite.ToString()), ("sni", tls.TargetHostName));
            stream = tls;
        }

        try
        {
            await ServeAsync(connection, stream, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (tls is not null)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task ServeAsync(HoneypotConnection connection, Stream stream, CancellationToken cancellationToken)
    {
        var reader = new HttpRequestReader(new LineReader(stream, Context.Limits.MaxLineLength, HttpRequestReader.HeaderEncoding));
        for (var served = 0; served < MaxRequestsPerConnection; served++)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.Status == HttpReadStatus.EndOfStream)
            {
                return;
            }
            if (result.Status != HttpReadStatus.Request)
            {
                var (status, page) = result.Status switch
                {
                    HttpReadStatus.UriTooLong => (414, new HttpPage(414, string.Empty)),
                    HttpReadStatus.HeadersTooLarge => (431, new HttpPage(431, string.Empty)),
                    HttpReadStatus.PayloadTooLarge => (413, new HttpPage(413, string.Empty)),
                    _ => (400, _persona.BadRequest()),
                };
                connection.Emit("bad_request", ("status", status.ToString(CultureInfo.InvariantCulture)), ("error", result.Error));
                await WriteResponseAsync(stream, page with { Status = status }, head: false, keepAlive: false, [], cancellationToken).ConfigureAwait(false);
                return;
            }

            var request = result.Request!;
            var response = Respond(connection, request);
            // The last response a connection may carry says so, as a real server does.
            var keepAlive = request.KeepAlive && served + 1 < MaxRequestsPerConnection;
            await WriteResponseAsync(stream, response.Page, request.Method == "HEAD", keepAlive, response.Headers, cancellationToken).ConfigureAwait(false);
            if (!keepAlive)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Headers for the request event. A name sent twice (two Host lines are a classic smuggling probe)
    /// keeps every value, joined with ", " as HTTP folds repeated fields, within the logged length.
    /// </summary>
    private static Dictionary<string, string> LoggedHeaders(HttpRequest request)
    {
        var logged = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in request.Headers)
        {
            var joined = logged.TryGetValue(name, out var earlier) ? earlier + ", " + value : value;
            logged[name] = joined.Length > MaxLoggedHeaderValue ? joined[..MaxLoggedHeaderValue] : joined;
        }
        return logged;
    }

    private (HttpPage Page, IReadOnlyList<KeyValuePair<string, string>> Headers) Respond(HoneypotConnection connection, HttpRequest request)
    {
        // Apache names the server from the Host header without its port (UseCanonicalName Off).
        var hostHeader = request.Header("Host");
        var host = string.IsNullOrWhiteSpace(hostHeader) ? Context.Hostname : StripPort(hostHeader);
        var headersJson = JsonSerializer.Serialize(LoggedHeaders(request));
        var preview = Encoding.UTF8.GetString(request.Body, 0, Math.Min(request.Body.Length, BodyPreviewBytes));
        connection.Emit(
            "request",
            ("method", request.Method),
            ("path", request.Path),
            ("query", request.Query.Length > 0 ? request.Query : null),
            ("version", request.Version),
            ("host", request.Header("Host")),
            ("user_agent", request.Header("User-Agent")),
            ("headers", headersJson),
            ("body_length", request.BodyLength > 0 ? request.BodyLength.ToString(CultureInfo.InvariantCulture) : null),
            ("body", preview.Length > 0 ? preview : null));

        var credentials = ExtractCredentials(request);
        if (credentials is { } found)
        {
            connection.Emit("login_attempt", ("username", found.Username), ("password", found.Password), ("path", request.Path), ("source", found.Source), ("app", _persona.FakeApp.Length > 0 ? _persona.FakeApp : null));
        }

        var path = request.Path;
        var isPost = request.Method == "POST";
        var extra = new List<KeyValuePair<string, string>>();
        HttpPage page;
        switch (_persona.FakeApp)
        {
            case HttpPersona.WordPress when path.EndsWith("/wp-login.php", StringComparison.OrdinalIgnoreCase):
                page = new HttpPage(200, Pages.WordPressLogin(host, isPost ? credentials?.Username ?? string.Empty : null));
                extra.Add(new("Set-Cookie", "wordpress_test_cookie=WP%20Cookie%20check; path=/; HttpOnly"));
                break;
            case HttpPersona.WordPress when path.EndsWith("/xmlrpc.php", StringComparison.OrdinalIgnoreCase):
                page = isPost
                    ? new HttpPage(200, XmlRpcLogin.Fault, "text/xml; charset=UTF-8")
                    : new HttpPage(405, "XML-RPC server accepts POST requests only.", "text/plain; charset=UTF-8");
                break;
            case HttpPersona.WordPress when path.StartsWith("/wp-admin", StringComparison.OrdinalIgnoreCase):
                page = new HttpPage(302, string.Empty);
                extra.Add(new("Location", "/wp-login.php?redirect_to=%2Fwp-admin%2F&reauth=1"));
                break;
            case HttpPersona.PhpMyAdmin when path is "/" or "/index.php" or "/phpmyadmin/" or "/phpmyadmin/index.php":
                page = new HttpPage(200, Pages.PhpMyAdminLogin(isPost ? credentials?.Username ?? string.Empty : null));
                extra.Add(new("Set-Cookie", "phpMyAdmin=" + connection.SessionId.ToString("N") + "; path=/; HttpOnly; SameSite=Strict"));
                break;
            default:
                page = request.Method is "GET" or "HEAD" && _files?.Find(path) is { } file
                    ? new HttpPage(200, string.Empty, file.ContentType) { Bytes = file.Content }
                    : _persona.DefaultPage(path, host, connection.Local.Port);
                break;
        }
        if (_persona.FakeApp is HttpPersona.WordPress or HttpPersona.PhpMyAdmin)
        {
            extra.Add(new("X-Powered-By", "PHP/8.2.7"));
        }
        return (page, extra);
    }

    private static string StripPort(string host)
    {
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            return close > 0 ? host[..(close + 1)] : host;
        }
        var colon = host.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? host[..colon] : host;
    }

    private static (string Username, string Password, string Source)? ExtractCredentials(HttpRequest request)
    {
        var authorization = request.Header("Authorization");
        if (authorization is not null && authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon >= 0)
                {
                    return (decoded[..colon], decoded[(colon + 1)..], "basic_auth");
                }
            }
            catch (FormatException)
            {
                // Not base64: logged with the request headers, nothing more to extract.
            }
        }

        if (request.Method == "POST" && request.Path.EndsWith("/xmlrpc.php", StringComparison.OrdinalIgnoreCase)
            && XmlRpcLogin.TryExtract(request.Body, out var rpcUser, out var rpcPassword, out var rpcMethod))
        {
            return (rpcUser, rpcPassword, "xmlrpc:" + rpcMethod);
        }

        var contentType = request.Header("Content-Type") ?? string.Empty;
        string? formText = null;
        if (request.Method == "POST" && contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            formText = Encoding.UTF8.GetString(request.Body);
        }
        else if (request.Query.Length > 0)
        {
            formText = request.Query;
        }
        if (formText is null)
        {
            return null;
        }
        var form = UrlQuery.Parse(formText);
        var user = UserFields.Select(f => form.TryGetValue(f, out var v) ? v.ToString() : null).FirstOrDefault(v => v is not null);
        var password = PasswordFields.Select(f => form.TryGetValue(f, out var v) ? v.ToString() : null).FirstOrDefault(v => v is not null);
        if (password is null)
        {
            return null;
        }
        return (user ?? string.Empty, password, request.Method == "POST" ? "form" : "query");
    }

    private async Task WriteResponseAsync(Stream stream, HttpPage page, bool head, bool keepAlive, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        var body = page.Bytes ?? Encoding.UTF8.GetBytes(page.Body);
        var builder = new StringBuilder(512);
        builder.Append("HTTP/1.1 ").Append(page.Status.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(ReasonPhrase(page.Status)).Append("\r\n");
        builder.Append("Date: ").Append(Context.Time.GetUtcNow().ToString("r", CultureInfo.InvariantCulture)).Append("\r\n");
        builder.Append("Server: ").Append(_persona.ServerHeader).Append("\r\n");
        foreach (var (name, value) in headers.Concat(_persona.ExtraHeaders))
        {
            builder.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        if (page.Status is not (204 or 304))
        {
            builder.Append("Content-Length: ").Append(body.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
            if (body.Length > 0)
            {
                builder.Append("Content-Type: ").Append(page.ContentType).Append("\r\n");
            }
        }
        builder.Append(keepAlive ? "Keep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\n" : "Connection: close\r\n");
        builder.Append("\r\n");
        await stream.WriteAsync(HttpRequestReader.HeaderEncoding.GetBytes(builder.ToString()), cancellationToken).ConfigureAwait(false);
        if (!head && body.Length > 0)
        {
            await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        }
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    };

    public ValueTask DisposeAsync()
    {
        if (_certificate is { IsValueCreated: true })
        {
            _certificate.Value.TargetCertificate.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}
