using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Decnet.Core.Deckies;
using Decnet.Core.Swarm;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Decnet.Tests.Swarm.Dispatch;

/// <summary>
/// A worker agent for master-side tests: a real Kestrel HTTPS server on 127.0.0.1 with mutual TLS
/// (its worker certificate from the test CA; only the master identity is accepted) that speaks the
/// agent contract (/health, /status, /deploy, /teardown, /self-destruct) with switches to make a call
/// fail or hold its answer. The real agent (Decnet.Agent) is exercised end to end elsewhere.
/// </summary>
public sealed class TlsAgentServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, DeckyConfig> _running = new(StringComparer.Ordinal);

    private TlsAgentServer(WebApplication app, IssuedIdentity identity)
    {
        _app = app;
        Identity = identity;
    }

    public IssuedIdentity Identity { get; }

    public string Fingerprint => Identity.Fingerprint;

    public int Port { get; private set; }

    public ConcurrentQueue<AgentDeployRequest> Deploys { get; } = new();

    public ConcurrentQueue<string?> Teardowns { get; } = new();

    public int SelfDestructs;

    /// <summary>/deploy answers 500 with this detail, after starting only <see cref="StartedDespiteFailure"/>.</summary>
    public string? FailDeployWith { get; set; }

    public HashSet<string> StartedDespiteFailure { get; } = new(StringComparer.Ordinal);

    /// <summary>/status answers 500: the probe after a failed deploy fails too.</summary>
    public bool FailStatus { get; set; }

    public string? FailTeardownWith { get; set; }

    /// <summary>When set, /teardown waits for it before answering (the master's call stays in flight).</summary>
    public TaskCompletionSource? TeardownGate { get; set; }

    public TaskCompletionSource? SelfDestructGate { get; set; }

    public IReadOnlyCollection<string> Running => _running.Keys.ToList();

    /// <summary>Starts an agent whose certificate is issued by the CA in <paramref name="caDirectory"/> and which accepts only that CA's master identity.</summary>
    public static async Task<TlsAgentServer> StartAsync(string caDirectory, string name)
    {
        using var ca = SwarmCertificateAuthority.LoadOrCreate(caDirectory);
        var identity = ca.IssueWorker(name, ["127.0.0.1"]);
        var masterFingerprint = ca.GetOrCreateMasterIdentity().Fingerprint;
        var trust = ca.CreateTrust();
        var certificate = identity.ToCertificate();

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (peer, _, _) =>
                trust.HasIssued(peer, PeerUsage.Client) && CertificateFingerprint.AreEqual(CertificateFingerprint.Of(peer), masterFingerprint),
        })));
        var app = builder.Build();
        var server = new TlsAgentServer(app, identity);
        server.Map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Port = new Uri(address).Port;
        return server;
    }

    /// <summary>The host row the master would hold for this agent after enrollment and a first heartbeat.</summary>
    public SwarmHost Host(string name, string status = SwarmHostStatus.Active, bool useIpvlan = false) => new()
    {
        Name = name,
        Address = "127.0.0.1",
        AgentPort = Port,
        Status = status,
        ClientCertFingerprint = Fingerprint,
        UpdaterCertFingerprint = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("updater@" + name))),
        UseIpvlan = useIpvlan,
        LastHeartbeat = DateTime.UtcNow,
    };

    /// <summary>A host row for a worker that is down: nothing listens on its port.</summary>
    public static SwarmHost DeadHost(string name, string status = SwarmHostStatus.Active) => new()
    {
        Name = name,
        Address = "127.0.0.1",
        AgentPort = ClosedPort(),
        Status = status,
        ClientCertFingerprint = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("worker@" + name))),
        UpdaterCertFingerprint = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("updater@" + name))),
        LastHeartbeat = DateTime.UtcNow.AddMinutes(-1),
    };

    /// <summary>A loopback port nobody listens on: a worker that is down.</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private void Map(WebApplication app)
    {
        app.MapGet("/health", () => Results.Json(new { status = "ok" }));
        app.MapGet("/status", () => FailStatus
            ? Problem("the runtime could not be queried")
            : Results.Json(Status(), DeckyConfigJson.Options));
        app.MapPost("/deploy", async (HttpRequest request) =>
        {
            var body = await JsonSerializer.DeserializeAsync<AgentDeployRequest>(request.Body, DeckyConfigJson.Options);
            Deploys.Enqueue(body!);
            _running.Clear();
            foreach (var decky in body!.Config.Deckies.Where(d => FailDeployWith is null || StartedDespiteFailure.Contains(d.Name)))
            {
                _running[decky.Name] = decky;
            }
            return FailDeployWith is { } failure
                ? Problem(failure)
                : Results.Json(new AgentActionResult("deployed", null, Status()), DeckyConfigJson.Options);
        });
        app.MapPost("/teardown", async (HttpRequest request) =>
        {
            var body = await JsonSerializer.DeserializeAsync<AgentTeardownRequest>(request.Body, DeckyConfigJson.Options);
            Teardowns.Enqueue(body!.DeckyId);
            if (TeardownGate is { } gate)
            {
                await gate.Task;
            }
            if (FailTeardownWith is { } failure)
            {
                return Problem(failure);
            }
            if (body.DeckyId is null)
            {
                _running.Clear();
            }
            else
            {
                _running.TryRemove(body.DeckyId, out _);
            }
            return Results.Json(new AgentActionResult("torn_down", body.DeckyId, null), DeckyConfigJson.Options);
        });
        app.MapPost("/self-destruct", async () =>
        {
            if (SelfDestructGate is { } gate)
            {
                await gate.Task;
            }
            Interlocked.Increment(ref SelfDestructs);
            return Results.Json(new AgentActionResult("self_destruct_scheduled", null, null), DeckyConfigJson.Options, statusCode: StatusCodes.Status202Accepted);
        });
    }

    private AgentStatus Status() => new(
        !_running.IsEmpty,
        "embedded",
        [.. _running.Values.OrderBy(d => d.Name, StringComparer.Ordinal).Select(d => new AgentDeckyStatus(
            d.Name, DeckyShardState.Running, d, [.. d.Services.Select(s => new AgentServiceStatus(s, "running", null, [$"{d.Ip}:1/tcp"]))]))]);

    private static IResult Problem(string detail) =>
        Results.Problem(detail, statusCode: StatusCodes.Status500InternalServerError, title: "Agent error");

    public async ValueTask DisposeAsync()
    {
        TeardownGate?.TrySetResult();
        SelfDestructGate?.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
