using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Swarm.Pki;
using Microsoft.AspNetCore.Http;

namespace Decnet.Agent.Serve;

/// <summary>
/// The agent's only client: a certificate issued by the swarm CA for clientAuth whose SHA-256 equals
/// master-fingerprint. Checked in the TLS handshake (anything else never gets a connection) and again
/// on every request (403) in case a connection ever arrives without the handshake check.
/// The agent also lets its own host's updater (pinned by the updater.crt it finds in updater-dir) read
/// <c>GET /health</c>, and nothing else, so the updater can tell whether a new release came up.
/// </summary>
public sealed class MasterPin(SwarmTrust trust, string masterFingerprint, string? localUpdaterFingerprint = null)
{
    public bool IsMaster(X509Certificate? certificate) =>
        certificate is not null
        && trust.HasIssued(certificate, PeerUsage.Client)
        && CertificateFingerprint.AreEqual(CertificateFingerprint.Of(certificate), masterFingerprint);

    public bool IsLocalUpdater(X509Certificate? certificate) =>
        certificate is not null
        && localUpdaterFingerprint is not null
        && trust.HasIssued(certificate, PeerUsage.Client)
        && CertificateFingerprint.AreEqual(CertificateFingerprint.Of(certificate), localUpdaterFingerprint);

    /// <summary>The handshake gate: the master, or this host's updater (whose requests the middleware limits to /health).</summary>
    public bool MayConnect(X509Certificate? certificate) => IsMaster(certificate) || IsLocalUpdater(certificate);

    /// <summary>Middleware: 403 ProblemDetails for any request whose connection is not the master's.</summary>
    public async Task RequireMasterAsync(HttpContext context, RequestDelegate next)
    {
        var certificate = context.Connection.ClientCertificate ?? await context.Connection.GetClientCertificateAsync(context.RequestAborted);
        if (IsMaster(certificate)
            || (HttpMethods.IsGet(context.Request.Method) && context.Request.Path == "/health" && IsLocalUpdater(certificate)))
        {
            await next(context);
            return;
        }
        await TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Forbidden",
            detail: "Only the pinned master identity may call this agent.").ExecuteAsync(context);
    }
}
