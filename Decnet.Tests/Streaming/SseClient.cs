using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Decnet.Tests.Streaming;

/// <summary>One server-sent event as a browser's EventSource would see it.</summary>
public sealed record SseEvent(string Type, string? Id, string Data)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement.Clone();
}

/// <summary>A real HTTP client reading <c>text/event-stream</c> line by line, as EventSource does.</summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseClient(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    public HttpResponseMessage Response => _response;

    /// <summary>Asks for a ticket with <paramref name="client"/>'s bearer token.</summary>
    public static async Task<string> TicketAsync(HttpClient client)
    {
        using var response = await client.PostAsync(new Uri("/api/v1/stream/ticket", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("ticket").GetString()!;
    }

    /// <summary>Opens the stream; returns the status when it is not 200 (no stream then).</summary>
    public static async Task<(HttpStatusCode Status, SseClient? Stream)> OpenAsync(HttpClient client, string query)
    {
        var response = await client.GetAsync(new Uri("/api/v1/stream?" + query, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var status = response.StatusCode;
            response.Dispose();
            return (status, null);
        }
        return (HttpStatusCode.OK, new SseClient(response, await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>The next event, or null at the end of the stream.</summary>
    public async Task<SseEvent?> NextAsync(CancellationToken cancellationToken)
    {
        string? type = null;
        string? id = null;
        var data = new StringBuilder();
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0 || type is not null)
                {
                    return new SseEvent(type ?? "message", id, data.ToString());
                }
                continue;
            }
            if (line[0] == ':')
            {
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "event":
                    type = value;
                    break;
                case "id":
                    id = value;
                    break;
                case "data":
                    if (data.Length > 0)
                    {
                        data.Append('\n');
                    }
                    data.Append(value);
                    break;
            }
        }
        return null;
    }

    /// <summary>Skips other events until one of <paramref name="type"/> arrives (fails at the end of the stream or after 30 s).</summary>
    public async Task<SseEvent> NextOfTypeAsync(string type)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var next = await NextAsync(timeout.Token) ?? throw new Xunit.Sdk.XunitException($"The stream ended before a '{type}' event.");
            if (next.Type == type)
            {
                return next;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        await Task.CompletedTask;
    }
}
