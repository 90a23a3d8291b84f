using System.Globalization;
using System.Text;
using Decnet.Core.Honeypots.Hosting;

namespace Decnet.Core.Honeypots.Http;

/// <summary>One parsed request. Header names keep the attacker's spelling; lookups ignore case.</summary>
public sealed class HttpRequest
{
    public required string Method { get; init; }
    public required string Target { get; init; }
    public required string Version { get; init; }
    public required IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; }

    /// <summary>The first <see cref="HttpRequestReader.MaxRetainedBody"/> bytes of the body.</summary>
    public byte[] Body { get; init; } = [];

    public long BodyLength { get; init; }

    public string Path => Target.Split('?', 2)[0];

    public string Query => Target.Contains('?', StringComparison.Ordinal) ? Target.Split('?', 2)[1] : string.Empty;

    public string? Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    public bool KeepAlive
    {
        get
        {
            var connection = Header("Connection") ?? string.Empty;
            if (Version == "HTTP/1.1")
            {
                return !connection.Contains("close", StringComparison.OrdinalIgnoreCase);
            }
            return connection.Contains("keep-alive", StringComparison.OrdinalIgnoreCase);
        }
    }
}

public enum HttpReadStatus
{
    Request,
    EndOfStream,
    BadRequest,
    UriTooLong,
    HeadersTooLarge,
    PayloadTooLarge,
}

public readonly record struct HttpReadResult(HttpReadStatus Status, HttpRequest? Request = null, string? Error = null);

/// <summary>
/// A deliberately small HTTP/1.1 request parser over an attacker's stream: request line, headers and a
/// Content-Length or chunked body, each with its own limit. Anything malformed is a 400 and the end of
/// the connection, like a strict real server.
/// </summary>
/// <param name="skipLeadingBlankLines">
/// Apache and most servers skip empty lines before a request line (RFC 9112 §2.2); Go's net/http does not and
/// answers them with a 400, which scanners probing with a bare CRLF pair see.
/// </param>
public sealed class HttpRequestReader(LineReader lines, bool skipLeadingBlankLines = true)
{
    public const int MaxHeaders = 100;
    public const int MaxHeaderBytes = 32 * 1024;
    public const int MaxBodyBytes = 1024 * 1024;
    public const int MaxRetainedBody = 64 * 1024;

    private static readonly string[] KnownVersions = ["HTTP/1.0", "HTTP/1.1"];

    public async ValueTask<HttpReadResult> ReadAsync(CancellationToken cancellationToken)
    {
        LineResult requestLine;
        var blankLines = 0;
        do
        {
            // RFC 9112 §2.2: ignore at least one empty line before the request line.
            requestLine = await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        }
        while (skipLeadingBlankLines && requestLine is { Status: LineStatus.Line, Text.Length: 0 } && ++blankLines < 4);

        switch (requestLine.Status)
        {
            case LineStatus.EndOfStream:
                return new HttpReadResult(HttpReadStatus.EndOfStream);
            case LineStatus.TooLong:
                return new HttpReadResult(HttpReadStatus.UriTooLong, Error: "request line too long");
        }
        var parts = requestLine.Text.Split(' ');
        if (parts.Length != 3 || !IsToken(parts[0]) || parts[1].Length == 0 || !KnownVersions.Contains(parts[2], StringComparer.Ordinal))
        {
            return new HttpReadResult(HttpReadStatus.BadRequest, Error: "malformed request line");
        }

        var headers = new List<KeyValuePair<string, string>>();
        var headerBytes = 0;
        while (true)
        {
            var line = await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.Status == LineStatus.EndOfStream)
            {
                return new HttpReadResult(HttpReadStatus.EndOfStream);
            }
            if (line.Status == LineStatus.TooLong)
            {
                return new HttpReadResult(HttpReadStatus.HeadersTooLarge, Error: "header line too long");
            }
            if (line.Text.Length == 0)
            {
                break;
            }
            headerBytes += line.Text.Length + 2;
            if (headerBytes > MaxHeaderBytes || headers.Count >= MaxHeaders)
            {
                return new HttpReadResult(HttpReadStatus.HeadersTooLarge, Error: "too many header bytes");
            }
            var colon = line.Text.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !IsToken(line.Text[..colon]))
            {
                return new HttpReadResult(HttpReadStatus.BadRequest, Error: "malformed header");
            }
            headers.Add(new(line.Text[..colon], line.Text[(colon + 1)..].Trim()));
        }

        var request = new HttpRequest { Method = parts[0], Target = parts[1], Version = parts[2], Headers = headers };
        var transferEncoding = request.Header("Transfer-Encoding");
        var contentLength = request.Header("Content-Length");
        if (transferEncoding is not null)
        {
            if (!transferEncoding.Trim().Equals("chunked", StringComparison.OrdinalIgnoreCase))
            {
                return new HttpReadResult(HttpReadStatus.BadRequest, Error: "unsupported transfer encoding");
            }
            return await ReadChunkedAsync(request, cancellationToken).ConfigureAwait(false);
        }
        if (contentLength is null)
        {
            return new HttpReadResult(HttpReadStatus.Request, request);
        }
        if (!long.TryParse(contentLength, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            return new HttpReadResult(HttpReadStatus.BadRequest, Error: "bad content-length");
        }
        if (length > MaxBodyBytes)
        {
            return new HttpReadResult(HttpReadStatus.PayloadTooLarge, request, "body too large");
        }
        var body = new BodyCollector();
        if (!await body.ReadAsync(lines, length, cancellationToken).ConfigureAwait(false))
        {
            return new HttpReadResult(HttpReadStatus.EndOfStream);
        }
        return new HttpReadResult(HttpReadStatus.Request, new HttpRequest
        {
            Method = request.Method, Target = request.Target, Version = request.Version, Headers = headers,
            Body = body.Retained, BodyLength = body.Total,
        });
    }

    private async ValueTask<HttpReadResult> ReadChunkedAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = new BodyCollector();
        while (true)
        {
            var sizeLine = await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (sizeLine.Status == LineStatus.EndOfStream)
            {
                return new HttpReadResult(HttpReadStatus.EndOfStream);
            }
            var sizeText = sizeLine.Text.Split(';', 2)[0].Trim();
            if (!sizeLine.IsLine || sizeText.Length == 0 || !sizeText.All(char.IsAsciiHexDigit))
            {
                return new HttpReadResult(HttpReadStatus.BadRequest, Error: "bad chunk size");
            }
            // Compared against what is left, never added to the total: a size near 2^63 (or with more
            // hex digits than any integer holds) must not wrap around into "small enough".
            var digits = sizeText.TrimStart('0');
            var size = digits.Length is > 0 and <= 15 ? long.Parse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) : digits.Length == 0 ? 0 : long.MaxValue;
            if (size > MaxBodyBytes - body.Total)
            {
                return new HttpReadResult(HttpReadStatus.PayloadTooLarge, request, "body too large");
            }
            if (size == 0)
            {
                break;
            }
            if (!await body.ReadAsync(lines, size, cancellationToken).ConfigureAwait(false))
            {
                return new HttpReadResult(HttpReadStatus.EndOfStream);
            }
            var crlf = await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (crlf is not { Status: LineStatus.Line, Text.Length: 0 })
            {
                return new HttpReadResult(HttpReadStatus.BadRequest, Error: "bad chunk terminator");
            }
        }
        // Trailers: read and ignore up to the blank line, bounded like headers.
        for (var i = 0; i < MaxHeaders; i++)
        {
            var trailer = await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (trailer.Status == LineStatus.EndOfStream || trailer is { Status: LineStatus.Line, Text.Length: 0 })
            {
                break;
            }
        }
        return new HttpReadResult(HttpReadStatus.Request, new HttpRequest
        {
            Method = request.Method, Target = request.Target, Version = request.Version, Headers = request.Headers,
            Body = body.Retained, BodyLength = body.Total,
        });
    }

    private static bool IsToken(string text) =>
        text.Length > 0 && text.All(c => c is > ' ' and < '\x7f' and not '(' and not ')' and not ',' and not '/' and not ':' and not ';'
            and not '<' and not '=' and not '>' and not '?' and not '@' and not '[' and not '\\' and not ']' and not '"' and not '{' and not '}');

    /// <summary>Keeps the first bytes of a body and discards the rest while still consuming it.</summary>
    private sealed class BodyCollector
    {
        private readonly MemoryStream _retained = new();

        public long Total { get; private set; }

        public byte[] Retained => _retained.ToArray();

        public async ValueTask<bool> ReadAsync(LineReader lines, long length, CancellationToken cancellationToken)
        {
            var buffer = new byte[Math.Min(length, 16 * 1024)];
            var left = length;
            while (left > 0)
            {
                var read = await lines.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return false;
                }
                var keep = (int)Math.Min(read, MaxRetainedBody - _retained.Length);
                if (keep > 0)
                {
                    _retained.Write(buffer, 0, keep);
                }
                left -= read;
                Total += read;
            }
            return true;
        }
    }

    internal static readonly Encoding HeaderEncoding = Encoding.Latin1;
}
