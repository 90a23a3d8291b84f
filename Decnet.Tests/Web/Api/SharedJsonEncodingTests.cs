using System.IO.Compression;
using System.Text;
using Decnet.Web.Api;
using Microsoft.Extensions.Primitives;

namespace Decnet.Tests.Web.Api;

/// <summary>Shared bodies are compressed once, only in a coding the client accepts, and decompress to the same JSON.</summary>
public sealed class SharedJsonEncodingTests
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Range(0, 200).Select(i => $"{{\"time\":\"2026-01-01T00:{i % 60:00}:00Z\",\"count\":{i}}}")) + "]");

    [Theory]
    [InlineData("gzip, deflate", "gzip")]
    [InlineData("gzip, deflate, br, zstd", "br")]
    [InlineData("br;q=0, gzip", "gzip")]
    [InlineData("gzip;q=0", null)]
    [InlineData("identity", null)]
    [InlineData("*", null)]
    [InlineData("", null)]
    [InlineData("gzip;q=abc,,;", null)]
    public void The_coding_follows_accept_encoding(string acceptEncoding, string? expected)
    {
        var (bytes, encoding) = new Encoded(Body).For(new StringValues(acceptEncoding));
        Assert.Equal(expected, encoding);
        Assert.Equal(Body, Decode(bytes, encoding));
        if (expected is not null)
        {
            Assert.True(bytes.Length < Body.Length / 3, $"{expected}: {bytes.Length} of {Body.Length} bytes");
        }
    }

    [Fact]
    public void The_same_compressed_bytes_serve_every_request_and_small_bodies_stay_plain()
    {
        var shared = new Encoded(Body);
        Assert.Same(shared.For("gzip").Bytes, shared.For("deflate, gzip").Bytes);
        var small = Encoding.UTF8.GetBytes("""{"total_logs":2}""");
        Assert.Equal((small, (string?)null), new Encoded(small).For("gzip, br"));
    }

    private static byte[] Decode(byte[] bytes, string? encoding)
    {
        if (encoding is null)
        {
            return bytes;
        }
        using var input = new MemoryStream(bytes);
        using Stream decoder = encoding == "br" ? new BrotliStream(input, CompressionMode.Decompress) : new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        decoder.CopyTo(output);
        return output.ToArray();
    }
}
