using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using Decnet.Agent.Api;
using Decnet.Agent.Serve;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Decnet.Agent.Heartbeat;

/// <summary>
/// Every heartbeat-interval the agent POSTs its status to the master's swarm controller
/// (<c>https://master-host:swarmctl-port/swarm/heartbeat</c>) over mutual TLS: the worker identity as
/// client certificate, the master pinned by master-fingerprint. A refusal (403: certificate not the one
/// enrolled, or tombstoned; 404: host unknown) or an unreachable master is logged as a warning and
/// retried with exponential backoff; nothing ends the loop but the agent stopping.
/// </summary>
public sealed class HeartbeatLoop(
    AgentServeSettings settings,
    AgentIdentity identity,
    WorkerDeckies deckies,
    TimeProvider time,
    ILogger<HeartbeatLoop> logger) : BackgroundService
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    public const int MaxRetries = 4;

    public static string AgentVersion { get; } =
        typeof(HeartbeatLoop).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public Uri Endpoint { get; } = new UriBuilder(Uri.UriSchemeHttps, settings.Host.MasterHost, settings.Host.SwarmControllerPort, "swarm/heartbeat").Uri;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(settings.Host.HeartbeatSeconds);
        using var handler = PinnedTls.CreateHandler(identity.Certificate, identity.Trust, settings.Host.MasterFingerprint, ConnectTimeout);
        if (!settings.ListenAddress.Equals(System.Net.IPAddress.Any) && !settings.ListenAddress.Equals(System.Net.IPAddress.IPv6Any))
        {
            // An agent bound to one address also calls from it: the master learns where to reach a worker
            // enrolled without an address from the source of its heartbeats.
            handler.ConnectCallback = (context, cancellationToken) => ConnectFromAsync(settings.ListenAddress, context, cancellationToken);
        }
        using var client = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        var pipeline = CreatePipeline(interval);
        logger.LogInformation("Heartbeat to {Endpoint} every {Interval}", Endpoint, interval);
        while (!stoppingToken.IsCancellationRequested)
        {
            await BeatAsync(client, pipeline, stoppingToken);
            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task BeatAsync(HttpClient client, ResiliencePipeline<HttpResponseMessage> pipeline, CancellationToken stoppingToken)
    {
        try
        {
            var generation = 0L;
            using var response = await pipeline.ExecuteAsync(async token =>
            {
                generation = deckies.DeployGeneration;
                var beat = new HeartbeatRequest(settings.Host.HostUuid, AgentVersion, await deckies.StatusAsync(token));
                using var content = JsonContent.Create(beat, options: DeckyConfigJson.Options);
                return await client.PostAsync(Endpoint, content, token);
            }, stoppingToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                await ObeyAsync(response, generation, stoppingToken);
            }
            else if (response.IsSuccessStatusCode)
            {
                logger.LogDebug("Heartbeat accepted ({Status})", (int)response.StatusCode);
            }
            else
            {
                logger.LogWarning("Heartbeat still refused after {Retries} retries: {Status} {Reason}; next try in one interval",
                    MaxRetries, (int)response.StatusCode, Explain(response.StatusCode));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or OperationCanceledException or IOException)
        {
            logger.LogWarning("Heartbeat to {Endpoint} failed after {Retries} retries: {Error}; next try in one interval", Endpoint, MaxRetries, ex.Message);
        }
    }

    /// <summary>The master owns placement: deckies it answers with run elsewhere, or nowhere, and go down here.</summary>
    private async Task ObeyAsync(HttpResponseMessage response, long generation, CancellationToken stoppingToken)
    {
        HeartbeatAnswer? answer;
        try
        {
            answer = await response.Content.ReadFromJsonAsync<HeartbeatAnswer>(DeckyConfigJson.Options, stoppingToken);
        }
        catch (System.Text.Json.JsonException ex)
        {
            logger.LogWarning("The master's heartbeat answer is not valid JSON ({Error}); ignored", ex.Message);
            return;
        }
        if (answer?.Teardown is not { Count: > 0 } strays)
        {
            return;
        }
        try
        {
            await deckies.TeardownStraysAsync(strays, generation, stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Tearing down {Deckies} as the master asked failed; the next heartbeat asks again", string.Join(", ", strays));
        }
    }

    private ResiliencePipeline<HttpResponseMessage> CreatePipeline(TimeSpan interval) =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .Handle<IOException>()
                    .HandleResult(response => !response.IsSuccessStatusCode),
                MaxRetryAttempts = MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(2).Ticks, interval.Ticks / 4)),
                MaxDelay = interval,
                OnRetry = args =>
                {
                    if (args.Outcome.Result is { } refused)
                    {
                        logger.LogWarning("Heartbeat refused by the master: {Status} {Reason}; retry {Attempt} in {Delay}",
                            (int)refused.StatusCode, Explain(refused.StatusCode), args.AttemptNumber + 1, args.RetryDelay);
                    }
                    else
                    {
                        logger.LogWarning("Heartbeat to {Endpoint} failed: {Error}; retry {Attempt} in {Delay}",
                            Endpoint, args.Outcome.Exception?.Message, args.AttemptNumber + 1, args.RetryDelay);
                    }
                    return default;
                },
            })
            .AddTimeout(ReadTimeout)
            .Build();

    private static string Explain(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Forbidden => "(the master does not accept this worker's certificate: not enrolled with it, or decommissioned)",
        HttpStatusCode.NotFound => "(the master does not know this host_uuid)",
        _ => "",
    };

    private static async ValueTask<Stream> ConnectFromAsync(System.Net.IPAddress local, SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new System.Net.Sockets.Socket(local.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new System.Net.IPEndPoint(local, 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
