using System.Net;
using System.Text.Json;

namespace Decnet.Core.Honeypots.Http;

/// <summary>A canned response the persona serves; <see cref="Bytes"/> (a static file) wins over <see cref="Body"/>.</summary>
public sealed record HttpPage(int Status, string Body, string ContentType = "text/html; charset=UTF-8")
{
    public byte[]? Bytes { get; init; }
}

/// <summary>
/// What the web server pretends to be: server header, default status and the pages of the
/// <c>fake_app</c> preset. Built once per service instance from the persona keys.
/// </summary>
public sealed class HttpPersona
{
    public const string ApacheDefault = "apache_default";
    public const string NginxDefault = "nginx_default";
    public const string WordPress = "wordpress";
    public const string PhpMyAdmin = "phpmyadmin";
    public const string IisDefault = "iis_default";

    /// <summary>Apache serves its built-in error documents as Latin-1.</summary>
    private const string ApacheErrorType = "text/html; charset=iso-8859-1";

    public required string FakeApp { get; init; }
    public required string ServerHeader { get; init; }
    public required int ResponseCode { get; init; }
    public string? CustomBody { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> ExtraHeaders { get; init; } = [];

    public static HttpPersona From(Func<string, string?> persona)
    {
        var app = (persona("fake_app") ?? string.Empty).Trim().ToLowerInvariant();
        var server = persona("server_header") ?? app switch
        {
            NginxDefault => "nginx/1.22.1",
            IisDefault => "Microsoft-IIS/10.0",
            _ => "Apache/2.4.62 (Debian)",
        };
        var code = int.TryParse(persona("response_code"), out var parsed) && parsed is >= 100 and <= 599 ? parsed : 403;
        return new HttpPersona
        {
            FakeApp = app,
            ServerHeader = server,
            ResponseCode = code,
            CustomBody = persona("custom_body"),
            ExtraHeaders = ParseExtraHeaders(persona("extra_headers")),
        };
    }

    /// <summary>A JSON object of header name to value; anything else (or a header with CR/LF) is ignored.</summary>
    private static List<KeyValuePair<string, string>> ParseExtraHeaders(string? json)
    {
        var result = new List<KeyValuePair<string, string>>();
        if (string.IsNullOrWhiteSpace(json))
        {
            return result;
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return result;
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var value = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                var nameIsToken = property.Name.Length > 0 && property.Name.All(c => c is > ' ' and < '\x7f' and not ':');
                if (nameIsToken && !value.Any(c => c is '\r' or '\n'))
                {
                    result.Add(new(property.Name, value));
                }
            }
        }
        catch (JsonException)
        {
            // An operator typo in the persona must not take the service down.
        }
        return result;
    }

    /// <summary>The page for a path that is not one of the fake application's own endpoints.</summary>
    public HttpPage DefaultPage(string path, string host, int port)
    {
        var root = path is "/" or "/index.html" or "/index.php" or "/iisstart.htm";
        switch (FakeApp)
        {
            case ApacheDefault when root:
                return new HttpPage(200, Pages.ApacheItWorks);
            case NginxDefault when root:
                return new HttpPage(200, Pages.NginxWelcome);
            case IisDefault when root:
                return new HttpPage(200, Pages.IisStart);
            case WordPress when root:
                return new HttpPage(200, Pages.WordPressHome(host));
            case ApacheDefault or NginxDefault or IisDefault or WordPress or PhpMyAdmin:
                return NotFound(path);
        }
        if (CustomBody is not null)
        {
            return new HttpPage(ResponseCode, CustomBody);
        }
        return ResponseCode switch
        {
            403 => new HttpPage(403, Pages.ApacheForbidden(ServerHeader, host, port), ApacheErrorType),
            404 => NotFound(path),
            _ => new HttpPage(ResponseCode, string.Empty),
        };
    }

    public HttpPage NotFound(string path) => FakeApp switch
    {
        NginxDefault => new HttpPage(404, Pages.NginxNotFound(ServerHeader)),
        IisDefault => new HttpPage(404, Pages.IisNotFound),
        _ => new HttpPage(404, Pages.ApacheNotFound(ServerHeader, WebUtility.HtmlEncode(path)), ApacheErrorType),
    };

    public HttpPage BadRequest() => FakeApp switch
    {
        NginxDefault => new HttpPage(400, Pages.NginxBadRequest(ServerHeader)),
        _ => new HttpPage(400, Pages.ApacheBadRequest(ServerHeader), ApacheErrorType),
    };
}
