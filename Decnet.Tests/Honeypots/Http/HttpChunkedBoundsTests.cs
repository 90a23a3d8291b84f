using System.Net.Sockets;
using System.Text;
using Decnet.Core.Honeypots.Http;

namespace Decnet.Tests.Honeypots.Http;

/// <summary>Hostile chunk sizes against the real HTTP listener: refused as 413, never wrapped into "small".</summary>
[Trait("Category", "Integration")]
public sealed class HttpChunkedBoundsTests
{
    [Theory]
    [InlineData("7fffffffffffffff")]
    [InlineData("ffffffffffffffff")]
    [InlineData("8000000000000000")]
    [InlineData("100000000000000000000")]
    [InlineData("0000000000000000000000100001")]
    public async Task A_huge_chunk_size_is_refused_as_payload_too_large(string size)
    {
        await using var decky = TestDecky.Create();
        var hosted = await decky.StartAsync(new HttpHoneypotFactory());
        // A first chunk makes the total non-zero, the case where "total + size" overflowed before.
        var request = $"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n{size}\r\n";

        using var client = new TcpClient();
        await client.ConnectAsync(hosted.EndPointOf("http", 80));
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(request));
        // The answer comes without sending any of the announced chunk: the server did not start reading it.
        var reply = await new StreamReader(client.GetStream()).ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("HTTP/1.1 413 ", reply, StringComparison.Ordinal);
        await decky.Sink.WaitForAsync("bad_request", e => e.Field("status") == "413");
        var disconnect = await decky.Sink.WaitForAsync("disconnect");
        Assert.Equal("closed", disconnect.Field("reason"));
    }

    [Fact]
    public async Task A_chunked_body_within_the_limit_is_still_read_and_the_listener_serves_curl()
    {
        await using var decky = TestDecky.Create();
        await decky.StartAsync(new HttpHoneypotFactory());
        var body = Path.Combine(decky.Root, "body.txt");
        await File.WriteAllTextAsync(body, new string('x', 5000), TestContext.Current.CancellationToken);

        var result = await RealClient.RunAsync("curl", ["-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + body, $"http://{decky.Address}/form"]);

        Assert.Equal("403", result.StdOut);
        var logged = await decky.Sink.WaitForAsync("request", e => e.Field("path") == "/form");
        Assert.Equal("5000", logged.Field("body_length"));
    }
}
