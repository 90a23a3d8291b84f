using System.Globalization;
using System.Net;
using Decnet.Core.Honeypots.Events;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// One attacker connection as a service sees it. <see cref="Stream"/> is already bounded by the
/// session limits (idle timeout, byte cap); <see cref="Emit"/> stamps every event with the attacker's
/// <c>src_ip</c> and <c>src_port</c>.
/// </summary>
public sealed class HoneypotConnection(ServiceContext context, string service, Stream stream, IPEndPoint remote, IPEndPoint local)
{
    public ServiceContext Context { get; } = context;
    public string Service { get; } = service;
    public Stream Stream { get; } = stream;
    public IPEndPoint Remote { get; } = remote;
    public IPEndPoint Local { get; } = local;
    public Guid SessionId { get; } = Guid.NewGuid();
    public DateTimeOffset StartedAt { get; } = context.Time.GetUtcNow();

    /// <summary>
    /// The port as the service declared it (502, 2376 ...), whatever port offset or ephemeral port the host
    /// really bound: services with several ports tell their protocols apart by it. Null outside the host.
    /// </summary>
    public ServicePort? ServicePort { get; init; }

    /// <summary>The declared port of this connection, else the local one.</summary>
    public int DeclaredPort => ServicePort?.Port ?? Local.Port;

    /// <summary>The guard enforcing this session's limits; null when a connection is built outside the host (tests).</summary>
    public SessionGuard? Session { get; init; }

    private readonly List<(string Key, string? Value)> _disconnectDetails = [];
    private int _artifactSlots;

    /// <summary>
    /// Takes one of the session's <see cref="Artifacts.ArtifactQuotaOptions.MaxFilesPerSession"/> file slots;
    /// false once they are all used (a loop of empty scp records or SFTP opens stores nothing more).
    /// </summary>
    public bool TryClaimArtifactSlot() => Interlocked.Increment(ref _artifactSlots) <= Context.Artifacts.Options.MaxFilesPerSession;

    /// <summary>True once every file slot is used: a service can refuse a new upload before buffering any of it.</summary>
    public bool ArtifactSlotsExhausted => Volatile.Read(ref _artifactSlots) >= Context.Artifacts.Options.MaxFilesPerSession;

    /// <summary>
    /// Fields the service adds to the host's single <c>disconnect</c> event (the user, a protocol-level
    /// reason); a later value for the same key replaces the earlier one.
    /// </summary>
    public void SetDisconnectDetails(params (string Key, string? Value)[] fields)
    {
        lock (_disconnectDetails)
        {
            foreach (var field in fields)
            {
                _disconnectDetails.RemoveAll(f => f.Key == field.Key);
                _disconnectDetails.Add(field);
            }
        }
    }

    internal (string Key, string? Value)[] DisconnectDetails()
    {
        lock (_disconnectDetails)
        {
            return [.. _disconnectDetails];
        }
    }

    /// <summary>
    /// Bounds another connection of this session (an FTP data connection) by the same byte cap and idle
    /// clock: what arrives on it counts as this session's input. Outside the host (a bare test connection)
    /// the stream is returned as it is.
    /// </summary>
    public Stream BindSideChannel(Stream stream) => Stream is BoundedSessionStream bounded ? bounded.CreateSideChannel(stream) : stream;

    /// <summary>A line reader over <see cref="Stream"/> bounded by the service's <see cref="SessionLimits.MaxLineLength"/>.</summary>
    public LineReader CreateLineReader(System.Text.Encoding? encoding = null) => new(Stream, Context.Limits.MaxLineLength, encoding);

    public string RemoteIp => Remote.Address.IsIPv4MappedToIPv6 ? Remote.Address.MapToIPv4().ToString() : Remote.Address.ToString();

    public void Emit(string eventType, params (string Key, string? Value)[] fields) =>
        Emit(eventType, null, EventSeverity.Informational, fields);

    public void Emit(string eventType, string? message, EventSeverity severity, params (string Key, string? Value)[] fields)
    {
        var list = new List<KeyValuePair<string, string>>(fields.Length + 2)
        {
            new("src_ip", RemoteIp),
            new("src_port", Remote.Port.ToString(CultureInfo.InvariantCulture)),
        };
        foreach (var (key, value) in fields)
        {
            if (value is not null)
            {
                list.Add(new(key, value));
            }
        }
        Context.Events.Publish(new HoneypotEvent(Context.Time.GetUtcNow(), Context.DeckyName, Service, eventType, list, message, severity));
    }
}
