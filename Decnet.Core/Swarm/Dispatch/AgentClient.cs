using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm.Protocol;
using Polly;
using Polly.Timeout;

namespace Decnet.Core.Swarm.Dispatch;

/// <summary>
/// The master's side of the agent API on one worker (see docs/ARCHITECTURE.md, "Swarm"): mutual TLS with
/// the master identity, the worker pinned by its enrolled fingerprint, a read timeout per call kind and
/// retries for transient failures only. Every failure surfaces as an <see cref="AgentCallException"/>.
/// </summary>
public sealed class AgentClient
{
    private readonly HttpClient _deploy;
    private readonly HttpClient _control;
    private readonly ResiliencePipeline<HttpResponseMessage> _deployPipeline;
    private readonly ResiliencePipeline<HttpResponseMessage> _controlPipeline;

    internal AgentClient(string hostName, Uri baseAddress, HttpClient deploy, HttpClient control,
        ResiliencePipeline<HttpResponseMessage> deployPipeline, ResiliencePipeline<HttpResponseMessage> controlPipeline)
    {
        HostName = hostName;
        BaseAddress = baseAddress;
        _deploy = deploy;
        _control = control;
        _deployPipeline = deployPipeline;
        _controlPipeline = controlPipeline;
    }

    public string HostName { get; }

    public Uri BaseAddress { get; }

    public Task<AgentActionResult> DeployAsync(DecnetConfig shard, CancellationToken cancellationToken) =>
        SendAsync<AgentActionResult>(_deploy, _deployPipeline, HttpMethod.Post, "deploy", new AgentDeployRequest(shard), cancellationToken);

    public Task<AgentStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        SendAsync<AgentStatus>(_control, _controlPipeline, HttpMethod.Get, "status", null, cancellationToken);

    public async Task HealthAsync(CancellationToken cancellationToken) =>
        await SendAsync<JsonElement>(_control, _controlPipeline, HttpMethod.Get, "health", null, cancellationToken);

    /// <summary>Tears down one decky, or everything the worker runs when <paramref name="deckyName"/> is null.</summary>
    public Task<AgentActionResult> TeardownAsync(string? deckyName, CancellationToken cancellationToken) =>
        SendAsync<AgentActionResult>(_control, _controlPipeline, HttpMethod.Post, "teardown", new AgentTeardownRequest(deckyName), cancellationToken);

    public Task<AgentActionResult> MutateAsync(string deckyName, IReadOnlyList<string>? services, CancellationToken cancellationToken) =>
        SendAsync<AgentActionResult>(_control, _controlPipeline, HttpMethod.Post, "mutate", new AgentMutateRequest(deckyName, services), cancellationToken);

    public Task<AgentActionResult> SelfDestructAsync(CancellationToken cancellationToken) =>
        SendAsync<AgentActionResult>(_control, _controlPipeline, HttpMethod.Post, "self-destruct", null, cancellationToken);

    private async Task<T> SendAsync<T>(HttpClient client, ResiliencePipeline<HttpResponseMessage> pipeline, HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await pipeline.ExecuteAsync(async token =>
            {
                // A request message can be sent once: each attempt builds its own.
                using var request = new HttpRequestMessage(method, path);
                if (body is not null)
                {
                    request.Content = JsonContent.Create(body, body.GetType(), options: DeckyConfigJson.Options);
                }
                return await client.SendAsync(request, token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException ex)
        {
            throw new AgentCallException(HostName, null, $"{path}: no answer from {BaseAddress.Authority} within {ex.Timeout.TotalSeconds:0.#} s", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new AgentCallException(HostName, null, $"{path}: {Describe(ex)}", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AgentCallException(HostName, null, $"{path}: could not connect to {BaseAddress.Authority} in time", ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new AgentCallException(HostName, response.StatusCode, $"{path}: agent answered {(int)response.StatusCode}: {await ProblemDetailAsync(response, cancellationToken).ConfigureAwait(false)}");
            }
            try
            {
                return await response.Content.ReadFromJsonAsync<T>(DeckyConfigJson.Options, cancellationToken).ConfigureAwait(false)
                    ?? throw new AgentCallException(HostName, response.StatusCode, $"{path}: the agent answered with an empty body");
            }
            catch (JsonException ex)
            {
                throw new AgentCallException(HostName, response.StatusCode, $"{path}: the agent's answer is not valid JSON ({ex.Message})", ex);
            }
        }
    }

    private static async Task<string> ProblemDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            foreach (var name in new[] { "detail", "title" })
            {
                if (problem.RootElement.ValueKind == JsonValueKind.Object
                    && problem.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                {
                    return value.GetString()!;
                }
            }
        }
        catch (JsonException)
        {
            // Not a problem document: the status says enough.
        }
        return response.ReasonPhrase ?? "no detail";
    }

    private string Describe(HttpRequestException ex) => ex.HttpRequestError switch
    {
        HttpRequestError.SecureConnectionError => $"TLS with {BaseAddress.Authority} failed (the worker's certificate is not the one enrolled, or it refused the master's)",
        HttpRequestError.ConnectionError => $"could not connect to {BaseAddress.Authority} ({ex.InnerException?.Message ?? ex.Message})",
        _ => $"{BaseAddress.Authority}: {ex.Message}",
    };
}

/// <summary>A call to a worker's agent failed: unreachable, refused, timed out or answered with an error.</summary>
public sealed class AgentCallException(string hostName, HttpStatusCode? statusCode, string message, Exception? inner = null)
    : Exception($"{hostName}: {message}", inner)
{
    public string HostName { get; } = hostName;

    /// <summary>The agent's HTTP status when it answered; null when no answer arrived.</summary>
    public HttpStatusCode? StatusCode { get; } = statusCode;
}
