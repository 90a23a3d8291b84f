using System.Security.Cryptography.X509Certificates;
using Decnet.Core.Swarm.Pki;
using Microsoft.AspNetCore.Http;

namespace Decnet.Agent.Serve;

/// <summary>
/// The agent's only client: a certificate issued by the swarm CA for clientAuth whose SHA-256 equals
/// master-fingerprint. Checked in the TLS handshake (anything else never gets a connection) and again
/// on every request (403) in case a connection ever arrives without the handshake check.
/// </summary>
public sealed class MasterPin(SwarmTrust trust, string masterFingerprint)
{
    public bool IsMaster(X509Certificate? certificate) =>
        certificate is not null
        && trust.HasIssued(certificate, PeerUsage.Client)
        && CertificateFingerprint.AreEqual(CertificateFingerprint.Of(certificate), masterFingerprint);

    /// <summary>Middleware: 403 ProblemDetails for any request whose connection is not the master's.</summary>
    public async Task RequireMasterAsync(HttpContext context, RequestDelegate next)
    {
        var certificate = context.Connection.ClientCertificate ?? await context.Connection.GetClientCertificateAsync(context.RequestAborted);
        if (IsMaster(certificate))
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
