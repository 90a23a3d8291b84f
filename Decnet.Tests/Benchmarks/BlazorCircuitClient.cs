using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Decnet.Tests.Benchmarks;

/// <summary>
/// One Blazor Server circuit without a browser: what blazor.web.js does for a prerendered interactive page,
/// spoken over the real SignalR protocol to the real master. It reads the page as the signed-in user, takes
/// the prerendered server component markers, connects to <c>/_blazor</c> with the same cookie, starts the
/// circuit and adds those components, acknowledges every render batch as the browser's render queue does,
/// and answers the server's JS interop calls with a successful empty result (there is no DOM to run them in).
/// Each batch's arrival time is kept, so a benchmark can show the circuit followed every change.
/// </summary>
public sealed partial class BlazorCircuitClient : IAsyncDisposable
{
    private readonly HubConnection _hub;
    private readonly ConcurrentQueue<DateTime> _batchTimes = new();
    private readonly TaskCompletionSource _firstBatch = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _batches;
    private long _firstBatchBytes;
    private long _largestLaterBatchBytes;
    private long _jsCalls;
    private long _largestNumber;
    private string? _error;

    private BlazorCircuitClient(HubConnection hub) => _hub = hub;

    /// <summary>Render batches received (and acknowledged) so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>The size of the first render batch (the whole page) and of the largest one after it (an update).</summary>
    public (long First, long LargestUpdate) BatchBytes => (Interlocked.Read(ref _firstBatchBytes), Interlocked.Read(ref _largestLaterBatchBytes));

    /// <summary>JS interop calls the server made and this client answered.</summary>
    public long JsCalls => Interlocked.Read(ref _jsCalls);

    /// <summary>The largest number any batch wrote as a text of its own ("12,345"): the dashboard's total interactions.</summary>
    public long LargestNumberShown => Interlocked.Read(ref _largestNumber);

    /// <summary>UTC arrival time of every render batch.</summary>
    public IReadOnlyCollection<DateTime> BatchTimes => _batchTimes;

    /// <summary>The server's JS.Error text, or a failure while acknowledging: a live circuit has none.</summary>
    public string? Error => Volatile.Read(ref _error);

    /// <summary>Opens <paramref name="path"/> as the user of <paramref name="cookieHeader"/> and starts its circuit.</summary>
    public static async Task<BlazorCircuitClient> StartAsync(HttpClient http, Uri baseUri, string path, string cookieHeader, CancellationToken cancellationToken)
    {
        var pageUri = new Uri(baseUri, path);
        using var request = new HttpRequestMessage(HttpMethod.Get, pageUri);
        request.Headers.Add("Cookie", cookieHeader);
        using var response = await http.SendAsync(request, cancellationToken);
        var html = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode || response.RequestMessage?.RequestUri?.AbsolutePath != pageUri.AbsolutePath)
        {
            throw new InvalidOperationException($"GET {pageUri} gave {(int)response.StatusCode} at {response.RequestMessage?.RequestUri}: not signed in?");
        }
        var (operations, applicationState) = RootComponents(html);

        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(baseUri, "_blazor"), HttpTransportType.WebSockets, options => options.Headers["Cookie"] = cookieHeader)
            .AddBlazorPack()
            .Build();
        var client = new BlazorCircuitClient(hub);
        client.Listen();
        try
        {
            await hub.StartAsync(cancellationToken);
            var circuitId = await hub.InvokeAsync<string?>("StartCircuit", baseUri.ToString(), pageUri.ToString(), "[]", "", cancellationToken);
            if (string.IsNullOrEmpty(circuitId))
            {
                throw new InvalidOperationException("the server refused to start the circuit");
            }
            // The browser sends the page's persisted state with the first operations.
            await hub.SendAsync("UpdateRootComponents", operations, applicationState, cancellationToken);
            await client._firstBatch.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The "add" operations for every prerendered server component of the page (its
    /// <c>&lt;!--Blazor:{...}--&gt;</c> start markers), as JSON, and the page's persisted component state.
    /// </summary>
    public static (string Operations, string ApplicationState) RootComponents(string html)
    {
        var operations = new JsonArray();
        var ssrComponentId = 1;
        foreach (Match match in MarkerPattern().Matches(html))
        {
            if (JsonNode.Parse(match.Groups["json"].Value) is not JsonObject marker
                || marker["type"]?.GetValue<string>() != "server" || marker["descriptor"] is null)
            {
                continue;
            }
            marker["uniqueId"] = ssrComponentId - 1;
            operations.Add(new JsonObject
            {
                ["type"] = "add",
                ["ssrComponentId"] = ssrComponentId++,
                ["marker"] = marker,
            });
        }
        if (operations.Count == 0)
        {
            throw new InvalidOperationException("the page has no prerendered server component marker");
        }
        var state = StatePattern().Match(html);
        var batch = new JsonObject { ["batchId"] = 1, ["operations"] = operations };
        return (batch.ToJsonString(), state.Success ? state.Groups["state"].Value : "");
    }

    private void Listen()
    {
        _hub.On<long, byte[]>("JS.RenderBatch", async (batchId, data) =>
        {
            _batchTimes.Enqueue(DateTime.UtcNow);
            if (Interlocked.Increment(ref _batches) == 1)
            {
                Interlocked.Exchange(ref _firstBatchBytes, data.Length);
            }
            else if (data.Length > Interlocked.Read(ref _largestLaterBatchBytes))
            {
                Interlocked.Exchange(ref _largestLaterBatchBytes, data.Length);
            }
            RecordNumbers(data);
            _firstBatch.TrySetResult();
            try
            {
                await _hub.SendAsync("OnRenderCompleted", batchId, null);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Volatile.Write(ref _error, "acknowledging batch " + batchId + ": " + ex.Message);
            }
        });
        // ASP.NET Core 10 sends: async handle, identifier, arguments as JSON, result type, target instance, call type.
        _hub.On("JS.BeginInvokeJS", [typeof(long), typeof(string), typeof(string), typeof(int), typeof(long), typeof(int)], async arguments =>
        {
            Interlocked.Increment(ref _jsCalls);
            var handle = (long)arguments[0]!;
            if (handle == 0)
            {
                return;
            }
            // The browser answers [handle, succeeded, result]; no DOM here, so every call succeeds with nothing.
            await _hub.SendAsync("EndInvokeJSFromDotNet", handle, true, $"[{handle.ToString(CultureInfo.InvariantCulture)},true,null]");
        });
        _hub.On<string>("JS.Error", error => Volatile.Write(ref _error, error));
    }

    /// <summary>
    /// The numbers a batch shows: whole text nodes such as "12,345", and the headline cards' values inside the
    /// markup the dashboard shares between circuits (<c>class="stat-value"&gt;12,345&lt;</c>). A batch ends
    /// with five int32 offsets, the last one to its string table: int32 offsets of strings each stored as a
    /// 7-bit encoded length and UTF-8 bytes (the format the browser's render batch reader decodes).
    /// </summary>
    private void RecordNumbers(byte[] data)
    {
        foreach (var text in Strings(data))
        {
            if (NumberPattern().IsMatch(text))
            {
                Record(text);
            }
            foreach (Match card in StatValuePattern().Matches(text))
            {
                Record(card.Groups["value"].Value);
            }
        }
    }

    private void Record(string number)
    {
        if (long.TryParse(number, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var value))
        {
            long seen;
            while (value > (seen = Interlocked.Read(ref _largestNumber)) && Interlocked.CompareExchange(ref _largestNumber, value, seen) != seen)
            {
            }
        }
    }

    public static IEnumerable<string> Strings(byte[] data)
    {
        if (data.Length < 20)
        {
            yield break;
        }
        var table = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(data.Length - 4));
        for (var entry = table; entry >= 0 && entry + 4 <= data.Length - 20; entry += 4)
        {
            var at = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(entry));
            var length = 0;
            for (var shift = 0; at >= 0 && at < data.Length && shift < 35; shift += 7)
            {
                var b = data[at++];
                length |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    break;
                }
            }
            if (at < 0 || length < 0 || at + length > data.Length)
            {
                yield break;
            }
            yield return Encoding.UTF8.GetString(data, at, length);
        }
    }

    public async ValueTask DisposeAsync() => await _hub.DisposeAsync();

    [GeneratedRegex(@"<!--Blazor:(?<json>\{.*?\})-->", RegexOptions.Singleline)]
    private static partial Regex MarkerPattern();

    [GeneratedRegex(@"<!--Blazor-Server-Component-State:(?<state>[^-]*)-->")]
    private static partial Regex StatePattern();

    [GeneratedRegex("class=\"stat-value\">(?<value>[0-9][0-9,]*)<", RegexOptions.CultureInvariant)]
    private static partial Regex StatValuePattern();

    [GeneratedRegex(@"^\d{1,3}(?:,\d{3})*$")]
    private static partial Regex NumberPattern();
}

/// <summary>
/// Blazor's hub speaks only "blazorpack": SignalR's MessagePack hub protocol under another name (version 2,
/// as the server's BlazorPackHubProtocol reports). The browser renames its MessagePack protocol the same way.
/// </summary>
[SuppressMessage("Performance", "CA1812", Justification = "Created through dependency injection.")]
internal sealed class BlazorPackHubProtocol : IHubProtocol
{
    private readonly MessagePackHubProtocol _messagePack = new();

    public string Name => "blazorpack";

    public int Version => 2;

    public TransferFormat TransferFormat => TransferFormat.Binary;

    public bool IsVersionSupported(int version) => version == Version;

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message) =>
        _messagePack.TryParseMessage(ref input, binder, out message);

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => _messagePack.WriteMessage(message, output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => _messagePack.GetMessageBytes(message);
}

internal static class BlazorPackExtensions
{
    public static IHubConnectionBuilder AddBlazorPack(this IHubConnectionBuilder builder)
    {
        builder.Services.RemoveAll<IHubProtocol>();
        builder.Services.AddSingleton<IHubProtocol, BlazorPackHubProtocol>();
        return builder;
    }
}
