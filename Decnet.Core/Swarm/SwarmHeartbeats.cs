using Decnet.Core.Audit;
using Decnet.Core.Swarm.Pki;
using Decnet.Core.Swarm.Protocol;
using Decnet.Core.Swarm.Security;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Swarm;

public enum HeartbeatVerdictKind
{
    Accepted,

    /// <summary>The body lacks host_uuid or status.</summary>
    Invalid,

    /// <summary>The connection carried no client certificate.</summary>
    NoCertificate,

    /// <summary>The certificate is tombstoned (decommissioned or swept host).</summary>
    Revoked,

    UnknownHost,

    /// <summary>A CA-issued certificate that is not the one enrolled for the host it claims to be.</summary>
    FingerprintMismatch,
}

/// <summary>The decision on one heartbeat; <see cref="Teardown"/> lists the strays the worker must tear down.</summary>
public sealed record HeartbeatVerdict(HeartbeatVerdictKind Kind, string Detail, IReadOnlyList<string> Teardown)
{
    public bool Accepted => Kind == HeartbeatVerdictKind.Accepted;
}

/// <summary>
/// The rules of <c>POST /swarm/heartbeat</c>, in one call: the certificate the worker connected with must
/// be the one stored for the host it claims to be, and never a tombstoned one (the common case is one
/// cached lookup, <see cref="SwarmOverview.FindPeerAsync"/>). An accepted heartbeat refreshes the host
/// and the states of its own shards (<see cref="SwarmStore.RecordHeartbeatAsync"/>, from memory when
/// nothing but its time changed), and its first one ends
/// its pending enrollment bundle (the install works); deckies it reports
/// that the master placed elsewhere come back as <see cref="HeartbeatVerdict.Teardown"/>, and each change
/// of that set is written to the audit trail.
/// </summary>
public sealed class SwarmHeartbeats(
    SwarmOverview overview, SwarmStore store, Enrollment.EnrollmentBundleStore bundles, SwarmGate gate, AuditTrail audit, ILogger<SwarmHeartbeats> logger)
{
    public const string Actor = "swarm";
    public const string FingerprintMismatch = "cert fingerprint mismatch";

    public async Task<HeartbeatVerdict> AcceptAsync(string? peerFingerprint, HeartbeatRequest? heartbeat, string? peerAddress, CancellationToken cancellationToken)
    {
        if (peerFingerprint is null)
        {
            gate.Refuse(SwarmGate.ControllerEndpoint, peerAddress, SwarmRefusal.NoCertificate, null, "heartbeat without a client certificate");
            return Refuse(HeartbeatVerdictKind.NoCertificate, "peer cert unavailable");
        }
        if (heartbeat?.Status is null || heartbeat.HostUuid == Guid.Empty)
        {
            return Refuse(HeartbeatVerdictKind.Invalid, "host_uuid and status are required");
        }
        var peer = await overview.FindPeerAsync(peerFingerprint, cancellationToken);
        if (peer is null || peer.HostId != heartbeat.HostUuid)
        {
            return await RefuseAsync(peerFingerprint, heartbeat.HostUuid, peer, peerAddress, cancellationToken);
        }
        var record = await store.RecordHeartbeatAsync(peer.HostId, heartbeat.Status, peerAddress, cancellationToken);
        if (record is null)
        {
            // Removed between the lookup and the write (decommission, sweep).
            return Refuse(HeartbeatVerdictKind.UnknownHost, "unknown host");
        }
        if (record.FirstContact && await bundles.CompleteAsync(peer.HostId, cancellationToken) > 0)
        {
            logger.LogInformation("{Host} sent its first heartbeat: its enrollment bundle is used and deleted", record.HostName);
        }
        if (record.StraysChanged)
        {
            await AuditStraysAsync(record, cancellationToken);
        }
        return new HeartbeatVerdict(HeartbeatVerdictKind.Accepted, "ok", record.Strays);
    }

    /// <summary>The slow path, for refusals only: says exactly why, and records a swarm security event.</summary>
    private async Task<HeartbeatVerdict> RefuseAsync(string fingerprint, Guid claimed, SwarmPeer? peer, string? peerAddress, CancellationToken cancellationToken)
    {
        var shortPrint = fingerprint.Length > 16 ? fingerprint[..16] : fingerprint;
        HeartbeatVerdict Recorded(SwarmRefusal refusal, HeartbeatVerdictKind kind, string detail, string why)
        {
            gate.Refuse(SwarmGate.ControllerEndpoint, peerAddress, refusal, fingerprint, $"heartbeat for {claimed}: {why}");
            return Refuse(kind, detail);
        }
        if (peer is null && await overview.IsRevokedAsync(fingerprint, cancellationToken))
        {
            logger.LogWarning("Refused a heartbeat for {HostId}: certificate {Fingerprint} is revoked", claimed, shortPrint);
            return Recorded(SwarmRefusal.Revoked, HeartbeatVerdictKind.Revoked, "certificate revoked", "the certificate is revoked");
        }
        var host = await overview.HostAsync(claimed, cancellationToken);
        if (host is null)
        {
            logger.LogWarning("Refused a heartbeat for unknown host {HostId} (certificate {Fingerprint})", claimed, shortPrint);
            return Recorded(peer is null ? SwarmRefusal.UnknownHost : SwarmRefusal.PinMismatch,
                HeartbeatVerdictKind.UnknownHost, "unknown host", "no such host");
        }
        if (host.Status == SwarmHostStatus.Decommissioned)
        {
            return Recorded(SwarmRefusal.Revoked, HeartbeatVerdictKind.Revoked, "host decommissioned", "the host is decommissioned");
        }
        logger.LogWarning("Refused a heartbeat claiming to be {Name} ({HostId}): certificate {Fingerprint} is not its own", host.Name, host.Id, shortPrint);
        return Recorded(SwarmRefusal.PinMismatch, HeartbeatVerdictKind.FingerprintMismatch, FingerprintMismatch,
            $"the certificate is not the one pinned for {host.Name}");
    }

    private async Task AuditStraysAsync(HeartbeatRecord record, CancellationToken cancellationToken)
    {
        if (record.Strays.Count > 0)
        {
            var detail = SwarmStore.Clip($"reports {string.Join(", ", record.Strays)} which the master placed elsewhere or not at all: told to tear them down");
            logger.LogWarning("{Host} {Detail}", record.HostName, detail);
            await audit.RecordAsync(Actor, "swarm.reconcile", record.HostName, detail, cancellationToken);
        }
        else
        {
            var detail = SwarmStore.Clip($"no longer runs {string.Join(", ", record.PreviousStrays)}: its deckies match the master's placement");
            logger.LogInformation("{Host} {Detail}", record.HostName, detail);
            await audit.RecordAsync(Actor, "swarm.reconciled", record.HostName, detail, cancellationToken);
        }
    }

    private static HeartbeatVerdict Refuse(HeartbeatVerdictKind kind, string detail) => new(kind, detail, []);
}
