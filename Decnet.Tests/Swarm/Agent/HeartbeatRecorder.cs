using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Swarm.Pki;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Decnet.Tests.Swarm.Agent;

/// <summary>
/// A stand-in for the master's swarm controller speaking the real heartbeat protocol: Kestrel over
/// mutual TLS with the master identity, client certificates required and issued by the swarm CA,
/// POST /swarm/heartbeat answered 403 when the certificate is not the enrolled worker's, else with the
/// scripted refusals first and 204 afterwards. Every request is recorded.
/// </summary>
public sealed class HeartbeatRecorder : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;
    private readonly ConcurrentQueue<int> _refusals;

    private HeartbeatRecorder(WebApplication app, X509Certificate2 certificate, IEnumerable<int> refusals)
    {
        _app = app;
        _certificate = certificate;
        _refusals = new ConcurrentQueue<int>(refusals);
    }

    public ConcurrentQueue<RecordedHeartbeat> Received { get; } = new();

    public int Port { get; private set; }

    public static async Task<HeartbeatRecorder> StartAsync(AgentSandbox sandbox, params int[] refusals)
    {
        var certificate = sandbox.Master.ToCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (client, _, _) => sandbox.Trust.HasIssued(client, PeerUsage.Client),
        })));
        var app = builder.Build();
        var recorder = new HeartbeatRecorder(app, certificate, refusals);
        app.MapPost("/swarm/heartbeat", async (HttpContext context) =>
        {
            var peer = context.Connection.ClientCertificate;
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var fingerprint = peer is null ? null : CertificateFingerprint.Of(peer);
            var status = !CertificateFingerprint.AreEqual(fingerprint, sandbox.Worker.Fingerprint) ? StatusCodes.Status403Forbidden
                : recorder._refusals.TryDequeue(out var refusal) ? refusal
                : StatusCodes.Status204NoContent;
            recorder.Received.Enqueue(new RecordedHeartbeat(status, body, fingerprint, DateTime.UtcNow));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        recorder.Port = new Uri(address).Port;
        return recorder;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
    }
}

public sealed record RecordedHeartbeat(int Status, string Body, string? ClientFingerprint, DateTime ReceivedUtc);
