using System.Globalization;
using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Http;

/// <summary>One answer of an API that a Go program (dockerd, kube-apiserver) serves.</summary>
public sealed record GoResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    /// <summary>Close the connection after this response.</summary>
    public bool Close { get; init; }
}

/// <summary>
/// Writes responses the way Go's net/http does, because scanners fingerprint the byte layout: the status
/// line echoes HTTP/1.0 to 1.0 clients; handler headers come sorted by name, then Date and Content-Length;
/// a body of 2048 bytes or more goes out chunked (HTTP/1.1) or close-delimited (HTTP/1.0), as Go does
/// when a handler writes more than its buffer before finishing.
/// </summary>
public static class GoHttp
{
    private const int ChunkingThreshold = 2048;
    public const int BodyPreviewBytes = 512;
    private const int MaxLoggedHeaderValue = 1024;

    private static readonly JsonSerializerOptions Json = new()
    {
        // Go's encoding/json with SetEscapeHTML(false), as moby and the apiserver use it.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>JSON the way Go's encoder writes it: compact, HTML left alone, a trailing newline.</summary>
    public static byte[] JsonBody(object value) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value, Json) + "\n");

    public static GoResponse JsonResponse(int status, object value, IEnumerable<KeyValuePair<string, string>> headers) =>
        new(status, [.. headers, new("Content-Type", "application/json")], JsonBody(value));

    public static async Task WriteAsync(Stream stream, HttpRequest request, GoResponse response, DateTimeOffset now, bool keepAlive, CancellationToken cancellationToken)
    {
        var http10 = request.Version == "HTTP/1.0";
        var head = request.Method == "HEAD";
        var builder = new StringBuilder(256);
        builder.Append(http10 ? "HTTP/1.0 " : "HTTP/1.1 ").Append(response.Status.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(StatusText(response.Status)).Append("\r\n");
        var declaredLength = response.Headers.Any(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase));
        foreach (var (name, value) in response.Headers.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            builder.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        builder.Append("Date: ").Append(now.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss 'GMT'", CultureInfo.InvariantCulture)).Append("\r\n");
        var bodyAllowed = response.Status is not (204 or 304) && response.Status >= 200;
        var chunked = false;
        if (bodyAllowed && !declaredLength)
        {
            if (response.Body.Length < ChunkingThreshold || head)
            {
                builder.Append("Content-Length: ").Append(response.Body.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
            }
            else if (!http10)
            {
                chunked = true;
            }
            else
            {
                keepAlive = false;
            }
        }
        if (!keepAlive && !http10)
        {
            builder.Append("Connection: close\r\n");
        }
        else if (keepAlive && http10)
        {
            builder.Append("Connection: keep-alive\r\n");
        }
        if (chunked)
        {
            builder.Append("Transfer-Encoding: chunked\r\n");
        }
        builder.Append("\r\n");
        await stream.WriteAsync(Encoding.Latin1.GetBytes(builder.ToString()), cancellationToken).ConfigureAwait(false);
        if (bodyAllowed && !head && response.Body.Length > 0)
        {
            if (chunked)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response.Body.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n"), cancellationToken).ConfigureAwait(false);
                await stream.WriteAsync(response.Body, cancellationToken).ConfigureAwait(false);
                await stream.WriteAsync("\r\n0\r\n\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await stream.WriteAsync(response.Body, cancellationToken).ConfigureAwait(false);
            }
        }
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Serves one connection: TLS first when <paramref name="certificate"/> is given (a plain request on the TLS
    /// port gets Go's own refusal), then requests until the client or <paramref name="handler"/> ends it.
    /// The handler returns the response, or null when it took the stream over (a hijacked attach).
    /// </summary>
    public static async Task ServeAsync(
        HoneypotConnection connection,
        SslStreamCertificateContext? certificate,
        Func<HttpRequest, Stream, CancellationToken, Task<GoResponse?>> handler,
        CancellationToken cancellationToken)
    {
        Stream stream = connection.Stream;
        SslStream? tls = null;
        try
        {
            if (certificate is not null)
            {
                var first = new byte[1];
                if (await stream.ReadAtLeastAsync(first, 1, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) == 0)
                {
                    return;
                }
                var replay = new PrefixedStream(first, stream);
                if (first[0] != 0x16)
                {
                    connection.Emit("bad_request", ("status", "400"), ("error", "plain HTTP on the TLS port"));
                    await stream.WriteAsync("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                    return;
                }
                tls = new SslStream(replay, leaveInnerStreamOpen: true);
                try
                {
                    await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                    {
                        ServerCertificateContext = certificate,
                        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                        ApplicationProtocols = [SslApplicationProtocol.Http11],
                    }, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is AuthenticationException or IOException)
                {
                    connection.Emit("tls_error", ("error", ex.Message));
                    return;
                }
                connection.Emit("tls_session", ("protocol", tls.SslProtocol.ToString()), ("cipher", tls.NegotiatedCipherSuite.ToString()), ("sni", tls.TargetHostName));
                stream = tls;
            }

            var reader = new HttpRequestReader(new LineReader(stream, connection.Context.Limits.MaxLineLength, HttpRequestReader.HeaderEncoding), skipLeadingBlankLines: false);
            for (var served = 0; served < 1000 && !cancellationToken.IsCancellationRequested; served++)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (result.Status == HttpReadStatus.EndOfStream)
                {
                    return;
                }
                if (result.Status != HttpReadStatus.Request)
                {
                    connection.Emit("bad_request", ("status", "400"), ("error", result.Error));
                    // Go's server answers a request it cannot parse with a bare 400 and hangs up.
                    await stream.WriteAsync("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                    return;
                }
                var request = result.Request!;
                if (request.Version == "HTTP/1.1" && request.Header("Host") is null)
                {
                    connection.Emit("bad_request", ("status", "400"), ("error", "missing Host header"), ("method", request.Method), ("path", request.Path));
                    await stream.WriteAsync("HTTP/1.1 400 Bad Request: missing required Host header\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request: missing required Host header"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                    return;
                }
                var response = await handler(request, stream, cancellationToken).ConfigureAwait(false);
                if (response is null)
                {
                    return;
                }
                var keepAlive = !response.Close && request.KeepAlive;
                await WriteAsync(stream, request, response, connection.Context.Time.GetUtcNow(), keepAlive, cancellationToken).ConfigureAwait(false);
                if (!keepAlive)
                {
                    return;
                }
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

    /// <summary>The <c>request</c> event fields every API honeypot logs.</summary>
    public static (string Key, string? Value)[] RequestFields(HttpRequest request)
    {
        var headers = JsonSerializer.Serialize(request.Headers
            .GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First().Value.Length > MaxLoggedHeaderValue ? g.First().Value[..MaxLoggedHeaderValue] : g.First().Value, StringComparer.OrdinalIgnoreCase));
        var preview = Encoding.UTF8.GetString(request.Body, 0, Math.Min(request.Body.Length, BodyPreviewBytes));
        return
        [
            ("method", request.Method),
            ("path", request.Path),
            ("query", request.Query.Length > 0 ? request.Query : null),
            ("version", request.Version),
            ("host", request.Header("Host")),
            ("user_agent", request.Header("User-Agent")),
            ("headers", headers),
            ("body_length", request.BodyLength > 0 ? request.BodyLength.ToString(CultureInfo.InvariantCulture) : null),
            ("body", preview.Length > 0 ? preview : null),
        ];
    }

    public static string StatusText(int status) => status switch
    {
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    };

    /// <summary>Gives back a byte already read (the TLS sniff) before the rest of the stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset < prefix.Length && !buffer.IsEmpty)
            {
                var count = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsMemory(_offset, count).CopyTo(buffer);
                _offset += count;
                return count;
            }
            return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Flush() => inner.Flush();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
