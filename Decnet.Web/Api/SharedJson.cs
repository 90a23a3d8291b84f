using System.IO.Compression;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Decnet.Web.Api;

/// <summary>
/// A 200 JSON response for a value that many requests share (a cached first page, the headline numbers).
/// It is serialised once per shared instance, and compressed once per encoding on first demand; every
/// later request writes the same bytes with a Content-Length. Under 500 connections, serialising the same
/// 50-row page again for each request, not finding it, was most of a request's CPU and most of the garbage,
/// and a month-long histogram is over 100 KB before compression.
/// </summary>
/// <remarks>
/// <para>The bytes are keyed by the shared source instance (the cache's value), so they live exactly as long
/// as it does: when the cache loads a new page, the next request serialises the new one and the old bytes
/// are collected with the old page. Only values the domain hands out as shared instances belong here;
/// a per-request value would be serialised every time anyway.</para>
/// <para>Compression (Brotli, else gzip, as the client accepts) is safe here in the BREACH sense: these
/// bodies are the same for every viewer and carry no secret, token or per-user value.</para>
/// </remarks>
public sealed class SharedJson<TValue> : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult, IContentTypeHttpResult
{
    private static readonly ConditionalWeakTable<object, Encoded> Serialised = [];

    private readonly object _source;
    private readonly Func<TValue> _value;

    internal SharedJson(object source, Func<TValue> value)
    {
        _source = source;
        _value = value;
    }

    public int? StatusCode => StatusCodes.Status200OK;

    public string ContentType => "application/json; charset=utf-8";

    public Task ExecuteAsync(HttpContext httpContext)
    {
        if (!Serialised.TryGetValue(_source, out var encoded))
        {
            var options = httpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            encoded = Serialised.GetValue(_source, _ => new Encoded(JsonSerializer.SerializeToUtf8Bytes(_value(), options)));
        }
        var response = httpContext.Response;
        var (bytes, encoding) = encoded.For(httpContext.Request.Headers.AcceptEncoding);
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers.Vary = HeaderNames.AcceptEncoding;
        if (encoding is not null)
        {
            response.Headers.ContentEncoding = encoding;
        }
        response.ContentLength = bytes.Length;
        return response.BodyWriter.WriteAsync(bytes, httpContext.RequestAborted).AsTask();
    }

    /// <summary>OpenAPI sees the same 200 response as <c>Ok&lt;TValue&gt;</c>.</summary>
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(TValue), ["application/json"]));
}

/// <summary>One serialised body and its compressed forms, each made once, when first asked for.</summary>
internal sealed class Encoded(byte[] identity)
{
    /// <summary>Below this a compressed body saves less than its headers cost.</summary>
    private const int MinimumToCompress = 1024;

    private byte[]? _brotli;
    private byte[]? _gzip;

    public (byte[] Bytes, string? Encoding) For(StringValues acceptEncoding)
    {
        if (identity.Length < MinimumToCompress || StringValues.IsNullOrEmpty(acceptEncoding))
        {
            return (identity, null);
        }
        if (Accepts(acceptEncoding, "br"))
        {
            return (_brotli ??= Compress(identity, s => new BrotliStream(s, CompressionLevel.Optimal, leaveOpen: true)), "br");
        }
        if (Accepts(acceptEncoding, "gzip"))
        {
            return (_gzip ??= Compress(identity, s => new GZipStream(s, CompressionLevel.Optimal, leaveOpen: true)), "gzip");
        }
        return (identity, null);
    }

    /// <summary>The coding is listed without q=0 (RFC 9110 §12.5.3); a bare "*" is not taken as consent.</summary>
    internal static bool Accepts(StringValues acceptEncoding, string coding)
    {
        if (!StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var codings))
        {
            return false;
        }
        foreach (var candidate in codings)
        {
            if (candidate.Value.Equals(coding, StringComparison.OrdinalIgnoreCase))
            {
                return candidate.Quality is not 0;
            }
        }
        return false;
    }

    private static byte[] Compress(byte[] data, Func<Stream, Stream> open)
    {
        using var buffer = new MemoryStream(data.Length / 4);
        using (var compressor = open(buffer))
        {
            compressor.Write(data);
        }
        return buffer.ToArray();
    }
}

public static class SharedJson
{
    /// <summary>The response for <paramref name="source"/>, a shared instance; <paramref name="value"/> is only called the first time.</summary>
    public static SharedJson<TValue> Of<TValue>(object source, Func<TValue> value) => new(source, value);
}
