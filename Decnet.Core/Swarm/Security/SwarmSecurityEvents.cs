using System.Text.Json.Serialization;
using Decnet.Core.Notifications;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Swarm.Security;

/// <summary>Why the master refused a peer on one of its mutual-TLS endpoints.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SwarmRefusal>))]
public enum SwarmRefusal
{
    /// <summary>No client certificate at all.</summary>
    [JsonStringEnumMemberName("no_certificate")]
    NoCertificate,

    [JsonStringEnumMemberName("self_signed")]
    SelfSigned,

    /// <summary>Issued by another authority than this master's swarm CA.</summary>
    [JsonStringEnumMemberName("foreign_ca")]
    ForeignCa,

    /// <summary>Ours, but expired or not a client certificate.</summary>
    [JsonStringEnumMemberName("not_allowed")]
    NotAllowed,

    /// <summary>A tombstoned certificate (decommissioned or swept host).</summary>
    [JsonStringEnumMemberName("revoked")]
    Revoked,

    /// <summary>A valid swarm certificate that is not the one pinned for the host it claims to be.</summary>
    [JsonStringEnumMemberName("pin_mismatch")]
    PinMismatch,

    /// <summary>A valid swarm certificate that belongs to no enrolled host.</summary>
    [JsonStringEnumMemberName("unknown_host")]
    UnknownHost,
}

/// <summary>
/// One kind of refusal from one address on one endpoint; repeats are counted on the same event.
/// <see cref="Subject"/> and <see cref="Fingerprint"/> are what the peer presented (attacker-chosen, clipped).
/// </summary>
public sealed record SwarmSecurityEvent(
    string Endpoint,
    string Remote,
    SwarmRefusal Refusal,
    string? Subject,
    string? Fingerprint,
    string Detail,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    long Count);

/// <summary>
/// Every refused attempt on the master's mutual-TLS endpoints (controller and log listener): logged and
/// kept for the Swarm Hosts page and <c>GET /api/v1/swarm/security-events</c>. Anyone can knock, so it is
/// bounded: repeats of one (endpoint, address, refusal, certificate) are counted on one event, at most
/// <see cref="Capacity"/> events are kept (the oldest go), and each event is logged on its first
/// occurrence and then at most once a minute.
/// </summary>
public sealed partial class SwarmSecurityEvents(NotificationHub hub, TimeProvider time, ILogger<SwarmSecurityEvents> logger)
{
    public const int Capacity = 256;
    public const int MaxTextLength = 128;
    public static readonly TimeSpan LogEvery = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<(string, string, SwarmRefusal, string?), Entry> _events = [];

    public void Record(string endpoint, string remote, SwarmRefusal refusal, string? subject, string? fingerprint, string detail)
    {
        var now = time.GetUtcNow();
        subject = Clip(subject);
        fingerprint = Clip(fingerprint);
        var key = (endpoint, remote, refusal, fingerprint);
        SwarmSecurityEvent recorded;
        bool log;
        lock (_lock)
        {
            if (_events.TryGetValue(key, out var entry))
            {
                entry.Event = entry.Event with { LastSeen = now, Count = entry.Event.Count + 1, Subject = subject, Detail = detail };
                log = now - entry.LoggedAt >= LogEvery;
                if (log)
                {
                    entry.LoggedAt = now;
                }
            }
            else
            {
                if (_events.Count >= Capacity)
                {
                    _events.Remove(_events.MinBy(e => e.Value.Event.LastSeen).Key);
                }
                entry = new Entry { Event = new SwarmSecurityEvent(endpoint, remote, refusal, subject, fingerprint, detail, now, now, 1), LoggedAt = now };
                _events[key] = entry;
                log = true;
            }
            recorded = entry.Event;
        }
        if (log)
        {
            LogRefused(logger, endpoint, remote, refusal, subject ?? "-", fingerprint is { Length: > 16 } f ? f[..16] : fingerprint ?? "-", detail, recorded.Count);
        }
        hub.Publish(new SwarmSecurityEventRecorded(recorded));
    }

    /// <summary>The newest events first.</summary>
    public IReadOnlyList<SwarmSecurityEvent> Recent(int limit = Capacity)
    {
        lock (_lock)
        {
            return [.. _events.Values.Select(e => e.Event).OrderByDescending(e => e.LastSeen).Take(limit)];
        }
    }

    private static string? Clip(string? text)
    {
        if (text is null)
        {
            return null;
        }
        var printable = new string([.. text.Where(c => !char.IsControl(c)).Take(MaxTextLength)]);
        return printable.Length == 0 ? null : printable;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Swarm security: refused {Endpoint} peer {Remote} ({Refusal}): subject {Subject}, certificate {Fingerprint}: {Detail} (seen {Count} time(s))")]
    private static partial void LogRefused(ILogger logger, string endpoint, string remote, SwarmRefusal refusal, string subject, string fingerprint, string detail, long count);

    private sealed class Entry
    {
        public required SwarmSecurityEvent Event { get; set; }

        public DateTimeOffset LoggedAt { get; set; }
    }
}
