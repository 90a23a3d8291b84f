using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Decnet.Core.Swarm.Pki;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Decnet.Core.Swarm.Dispatch;

/// <summary>
/// One <see cref="AgentClient"/> per worker, reused across calls (its handlers pool TLS connections).
/// The cache key includes the address, port and pinned fingerprint, so a re-enrolled or moved worker
/// gets a fresh client and the old one is released.
/// </summary>
public sealed class AgentClientFactory(MasterCredentials credentials, IOptions<SwarmOptions> options) : IDisposable
{
    /// <summary>Agent answers are JSON status maps; a worker cannot make the master buffer more than this.</summary>
    private const long MaxResponseBytes = 16 * 1024 * 1024;

    private readonly ConcurrentDictionary<Guid, Entry> _clients = new();

    /// <summary>The client for <paramref name="host"/>; throws <see cref="AgentCallException"/> when the host has no address yet.</summary>
    public AgentClient For(SwarmHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (string.IsNullOrWhiteSpace(host.Address))
        {
            throw new AgentCallException(host.Name, null, "the worker has no address yet (it has not connected since enrollment)");
        }
        var key = $"{host.Address}|{host.AgentPort}|{CertificateFingerprint.Normalize(host.ClientCertFingerprint)}";
        while (true)
        {
            if (_clients.TryGetValue(host.Id, out var existing))
            {
                if (existing.Key == key)
                {
                    return existing.Client;
                }
                if (_clients.TryUpdate(host.Id, Create(host, key), existing))
                {
                    existing.Dispose();
                }
                continue;
            }
            var created = Create(host, key);
            if (_clients.TryAdd(host.Id, created))
            {
                return created.Client;
            }
            created.Dispose();
        }
    }

    /// <summary>Drops the cached client of a host that is gone (decommissioned).</summary>
    public void Forget(Guid hostId)
    {
        if (_clients.TryRemove(hostId, out var entry))
        {
            entry.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var entry in _clients.Values)
        {
            entry.Dispose();
        }
        _clients.Clear();
    }

    private Entry Create(SwarmHost host, string key)
    {
        var o = options.Value.Agent;
        var baseAddress = BaseAddress(host.Address!, host.AgentPort);
        var deploy = Client(PinnedTls.CreateHandler(credentials.Identity, credentials.Trust, host.ClientCertFingerprint, o.DeployConnectTimeout), baseAddress);
        var control = Client(PinnedTls.CreateHandler(credentials.Identity, credentials.Trust, host.ClientCertFingerprint, o.ControlConnectTimeout), baseAddress);
        var client = new AgentClient(host.Name, baseAddress, deploy, control, Pipeline(o.DeployTimeout, o), Pipeline(o.ControlTimeout, o));
        return new Entry(key, client, deploy, control);
    }

    private static HttpClient Client(SocketsHttpHandler handler, Uri baseAddress) => new(handler, disposeHandler: true)
    {
        BaseAddress = baseAddress,
        // Polly owns the read timeout per attempt.
        Timeout = Timeout.InfiniteTimeSpan,
        MaxResponseContentBufferSize = MaxResponseBytes,
    };

    internal static Uri BaseAddress(string address, int port)
    {
        var host = IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : address.Trim();
        return new Uri($"https://{host}:{port}/");
    }

    private static ResiliencePipeline<HttpResponseMessage> Pipeline(TimeSpan readTimeout, AgentClientOptions o)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (o.RetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = o.RetryAttempts,
                Delay = o.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>(IsTransient)
                    .HandleResult(r => r.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout),
            });
        }
        // Inside the retry: the read timeout applies to each attempt.
        builder.AddTimeout(readTimeout);
        return builder.Build();
    }

    /// <summary>
    /// Connection refused/reset or a dropped answer may succeed a moment later; a TLS failure (wrong pin,
    /// refused certificate) or any answer from the agent never will.
    /// </summary>
    internal static bool IsTransient(HttpRequestException ex) =>
        ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded or HttpRequestError.NameResolutionError;

    private sealed record Entry(string Key, AgentClient Client, HttpClient Deploy, HttpClient Control) : IDisposable
    {
        public void Dispose()
        {
            Deploy.Dispose();
            Control.Dispose();
        }
    }
}
