using System.Globalization;
using System.Text;
using System.Text.Json;
using Decnet.Core.Honeypots.Events;
using Decnet.Core.Honeypots.Hosting;
using Decnet.Core.Honeypots.Ics;
using Microsoft.Extensions.Logging;

namespace Decnet.Core.Honeypots.Mqtt;

public sealed class MqttHoneypotFactory : IHoneypotServiceFactory
{
    public string Name => "mqtt";

    public IReadOnlyList<ServicePort> DefaultPorts { get; } = [new(1883)];

    public IHoneypotService Create(ServiceContext context) => new MqttHoneypot(context);
}

/// <summary>
/// A Mosquitto broker left open on a plant network: any client may connect (persona <c>accept_all</c>),
/// CONNECT credentials are captured, a SUBSCRIBE receives the plant's retained telemetry (persona
/// <c>persona</c>, plus <c>topics</c> as a JSON object) and every PUBLISH is recorded; publishes are routed
/// to the decky's other subscribers like a real broker.
/// </summary>
public sealed class MqttHoneypot : IHoneypotService
{
    public const int PayloadPreviewBytes = 512;
    private const int MaxFiltersPerSession = 64;
    private const int MaxPersonaTopics = 64;
    private const int MaxPersonaPayload = 4096;

    private readonly MqttBroker _broker;
    private readonly bool _acceptAll;
    private readonly Dictionary<string, string> _users = new(StringComparer.Ordinal);

    public MqttHoneypot(ServiceContext context)
    {
        Context = context;
        var persona = IndustrialPersonas.Find(context.PersonaValue("persona"), IndustrialPersonas.WaterPlant);
        var version = context.PersonaValue("version") ?? "2.0.18";
        var topics = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // Mosquitto retains its $SYS tree: scanners subscribe to "$SYS/#" to learn the broker version.
            ["$SYS/broker/version"] = $"mosquitto version {version}",
            ["$SYS/broker/uptime"] = $"{(long)(context.Time.GetUtcNow() - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalSeconds % 9_000_000 + 86_400} seconds",
            ["$SYS/broker/clients/connected"] = "3",
            ["$SYS/broker/subscriptions/count"] = "11",
        };
        foreach (var (topic, payload) in persona.Topics)
        {
            topics[topic] = payload;
        }
        foreach (var (topic, payload) in CustomTopics(context))
        {
            topics[topic] = payload;
        }
        _broker = new MqttBroker(topics.Select(t => (t.Key, t.Value)));
        _acceptAll = !string.Equals(context.PersonaValue("accept_all"), "false", StringComparison.OrdinalIgnoreCase);
        foreach (var entry in (context.PersonaValue("users") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                _users[entry[..colon]] = entry[(colon + 1)..];
            }
        }
    }

    public ServiceContext Context { get; }

    public MqttBroker Broker => _broker;

    public async Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken)
    {
        // Reads go through a buffer (MQTT headers are read a byte at a time); writes go straight out, serialised.
        var input = new BufferedStream(connection.Stream, 4096);
        using var writeGate = new SemaphoreSlim(1, 1);
        using var pumpStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        MqttBroker.Subscriber? subscriber = null;
        Task pump = Task.CompletedTask;
        try
        {
            var first = await MqttCodec.ReadAsync(input, cancellationToken).ConfigureAwait(false);
            if (first is null)
            {
                return;
            }
            if (first.Value.Type != MqttPacketType.Connect)
            {
                throw new MqttProtocolException($"first packet is {Describe(first.Value.Type)}, not CONNECT");
            }
            var connect = MqttCodec.ParseConnect(first.Value.Body);
            var level = connect.Level;
            var code = Authenticate(connect);
            var accepted = code == 0;
            connection.Emit(
                "auth",
                ("client_id", Clip(connect.ClientId)),
                ("username", connect.Username is null ? null : Clip(connect.Username)),
                ("password", connect.Password is null ? null : Clip(Encoding.UTF8.GetString(connect.Password))),
                ("protocol", connect.ProtocolName),
                ("protocol_version", connect.ProtocolVersion),
                ("keep_alive", connect.KeepAlive.ToString(CultureInfo.InvariantCulture)),
                ("clean_session", connect.CleanSession ? "true" : "false"),
                ("will_topic", connect.WillTopic is null ? null : Clip(connect.WillTopic)),
                ("status", accepted ? "accepted" : "rejected"),
                ("return_code", code.ToString(CultureInfo.InvariantCulture)));
            connection.SetDisconnectDetails(("client_id", Clip(connect.ClientId)), ("username", connect.Username is null ? null : Clip(connect.Username)));
            await WriteAsync(connection, writeGate, MqttCodec.ConnAck(level, ToWire(code, level)), cancellationToken).ConfigureAwait(false);
            if (!accepted)
            {
                return;
            }

            subscriber = _broker.Join();
            if (subscriber is not null)
            {
                pump = PumpAsync(connection, writeGate, subscriber, level, pumpStop.Token);
            }
            await ServeAsync(connection, input, writeGate, subscriber, level, cancellationToken).ConfigureAwait(false);
        }
        catch (MqttProtocolException ex)
        {
            connection.Emit("protocol_error", ("error", ex.Message));
            connection.SetDisconnectDetails(("protocol_error", ex.Message));
        }
        finally
        {
            await pumpStop.CancelAsync().ConfigureAwait(false);
            subscriber?.Dispose();
            await pump.ConfigureAwait(false);
        }
    }

    private async Task ServeAsync(HoneypotConnection connection, Stream input, SemaphoreSlim writeGate, MqttBroker.Subscriber? subscriber, byte level, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var read = await MqttCodec.ReadAsync(input, cancellationToken).ConfigureAwait(false);
            if (read is not { } packet)
            {
                return;
            }
            switch (packet.Type)
            {
                case MqttPacketType.Publish:
                    await PublishAsync(connection, writeGate, packet, level, cancellationToken).ConfigureAwait(false);
                    break;
                case MqttPacketType.PubRel:
                    await WriteAsync(connection, writeGate, MqttCodec.Ack(MqttPacketType.PubComp, MqttCodec.PacketId(packet.Body)), cancellationToken).ConfigureAwait(false);
                    break;
                case MqttPacketType.PubAck or MqttPacketType.PubRec or MqttPacketType.PubComp:
                    // Acknowledgements of what the broker delivered: nothing is redelivered, so nothing to track.
                    if (packet.Type == MqttPacketType.PubRec)
                    {
                        await WriteAsync(connection, writeGate, MqttCodec.Ack(MqttPacketType.PubRel, MqttCodec.PacketId(packet.Body)), cancellationToken).ConfigureAwait(false);
                    }
                    break;
                case MqttPacketType.Subscribe:
                    await SubscribeAsync(connection, writeGate, subscriber, packet, level, cancellationToken).ConfigureAwait(false);
                    break;
                case MqttPacketType.Unsubscribe:
                    var (unsubscribeId, filters) = MqttCodec.ParseUnsubscribe(packet.Flags, packet.Body, level, MaxFiltersPerSession);
                    foreach (var filter in filters)
                    {
                        subscriber?.Remove(filter);
                    }
                    connection.Emit("unsubscribe", ("topics", JsonSerializer.Serialize(filters.Select(Clip))));
                    await WriteAsync(connection, writeGate, MqttCodec.UnsubAck(unsubscribeId, filters.Count, level), cancellationToken).ConfigureAwait(false);
                    break;
                case MqttPacketType.PingReq:
                    await WriteAsync(connection, writeGate, MqttCodec.PingResp(), cancellationToken).ConfigureAwait(false);
                    break;
                case MqttPacketType.Disconnect:
                    return;
                case MqttPacketType.Connect:
                    throw new MqttProtocolException("second CONNECT on one connection");
                default:
                    connection.Emit("packet", ("type", Describe(packet.Type)), ("length", packet.Body.Length.ToString(CultureInfo.InvariantCulture)));
                    throw new MqttProtocolException($"unexpected {Describe(packet.Type)} packet from a client");
            }
        }
    }

    private async Task PublishAsync(HoneypotConnection connection, SemaphoreSlim writeGate, MqttPacket packet, byte level, CancellationToken cancellationToken)
    {
        var publish = MqttCodec.ParsePublish(packet.Flags, packet.Body, level);
        var (preview, encoding) = Preview(publish.Payload);
        var stored = publish.Retain && _broker.Retain(new MqttMessage(publish.Topic, publish.Payload, publish.QoS));
        connection.Emit(
            "publish",
            ("topic", Clip(publish.Topic)),
            ("payload", preview),
            ("payload_encoding", encoding),
            ("payload_length", publish.Payload.Length.ToString(CultureInfo.InvariantCulture)),
            ("qos", publish.QoS.ToString(CultureInfo.InvariantCulture)),
            ("retain", publish.Retain ? (stored ? "true" : "refused") : "false"));
        _broker.Route(new MqttMessage(publish.Topic, publish.Payload, publish.QoS));
        if (publish.QoS == 1)
        {
            await WriteAsync(connection, writeGate, MqttCodec.Ack(MqttPacketType.PubAck, publish.PacketId), cancellationToken).ConfigureAwait(false);
        }
        else if (publish.QoS == 2)
        {
            await WriteAsync(connection, writeGate, MqttCodec.Ack(MqttPacketType.PubRec, publish.PacketId), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task SubscribeAsync(HoneypotConnection connection, SemaphoreSlim writeGate, MqttBroker.Subscriber? subscriber, MqttPacket packet, byte level, CancellationToken cancellationToken)
    {
        var (packetId, requested) = MqttCodec.ParseSubscribe(packet.Flags, packet.Body, level, MaxFiltersPerSession);
        var codes = new List<byte>(requested.Count);
        var granted = new List<string>();
        foreach (var subscription in requested)
        {
            var valid = MqttCodec.IsValidFilter(subscription.Filter) && subscription.QoS < 3
                && subscriber is not null && subscriber.FilterCount < MaxFiltersPerSession;
            if (!valid)
            {
                codes.Add(0x80);
                continue;
            }
            var qos = Math.Min(subscription.QoS, (byte)1);
            subscriber!.Add(subscription.Filter, qos);
            granted.Add(subscription.Filter);
            codes.Add(qos);
        }
        connection.Emit(
            "subscribe",
            ("topics", JsonSerializer.Serialize(requested.Select(r => Clip(r.Filter)))),
            ("granted", codes.Count(c => c != 0x80).ToString(CultureInfo.InvariantCulture)));
        await WriteAsync(connection, writeGate, MqttCodec.SubAck(packetId, codes, level), cancellationToken).ConfigureAwait(false);
        foreach (var message in _broker.RetainedMatching(granted))
        {
            await WriteAsync(connection, writeGate, MqttCodec.Publish(message.Topic, message.Payload, 0, retain: true, 0, level), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Delivers what other sessions publish to this one's subscriptions.</summary>
    private static async Task PumpAsync(HoneypotConnection connection, SemaphoreSlim writeGate, MqttBroker.Subscriber subscriber, byte level, CancellationToken cancellationToken)
    {
        ushort nextId = 0;
        try
        {
            await foreach (var (message, qos) in subscriber.Messages.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                ushort id = 0;
                if (qos > 0)
                {
                    // Packet id 0 is not allowed: wrap from 65535 to 1.
                    nextId = nextId == ushort.MaxValue ? (ushort)1 : (ushort)(nextId + 1);
                    id = nextId;
                }
                await WriteAsync(connection, writeGate, MqttCodec.Publish(message.Topic, message.Payload, qos, retain: false, id, level), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The session ended (or its socket did) while a delivery was pending.
        }
    }

    private static async Task WriteAsync(HoneypotConnection connection, SemaphoreSlim writeGate, byte[] frame, CancellationToken cancellationToken)
    {
        await writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.Stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            writeGate.Release();
        }
    }

    /// <summary>0 = accepted; otherwise the MQTT 3.1.1 return code (2 identifier rejected, 4 bad credentials, 5 not authorised).</summary>
    private byte Authenticate(MqttConnect connect)
    {
        if (connect.ClientId.Length == 0 && !connect.CleanSession && connect.Level < 5)
        {
            return 2;
        }
        if (_acceptAll)
        {
            return 0;
        }
        if (connect.Username is null)
        {
            return 5;
        }
        var password = connect.Password is null ? string.Empty : Encoding.UTF8.GetString(connect.Password);
        return _users.TryGetValue(connect.Username, out var expected) && expected == password ? (byte)0 : (byte)4;
    }

    /// <summary>MQTT 5 replaced the 3.x return codes with reason codes.</summary>
    private static byte ToWire(byte code, byte level) => level < 5 ? code : (byte)(code switch
    {
        0 => 0x00,
        2 => 0x85,
        4 => 0x86,
        _ => 0x87,
    });

    private static string Describe(MqttPacketType type) =>
        Enum.IsDefined(type) ? type.ToString().ToUpperInvariant() : "reserved type " + ((byte)type).ToString(CultureInfo.InvariantCulture);

    private static string Clip(string text) => text.Length > 256 ? text[..256] : text;

    /// <summary>A payload as UTF-8 text when it is text, else hex; at most <see cref="PayloadPreviewBytes"/> bytes either way.</summary>
    public static (string Text, string Encoding) Preview(ReadOnlySpan<byte> payload)
    {
        var head = payload[..Math.Min(payload.Length, PayloadPreviewBytes)];
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(head);
            if (text.All(c => !char.IsControl(c) || c is '\n' or '\r' or '\t'))
            {
                return (text, "utf8");
            }
        }
        catch (DecoderFallbackException)
        {
            // A cut in the middle of a multi-byte character or binary data: shown as hex.
        }
        return (Convert.ToHexStringLower(head), "hex");
    }

    /// <summary>The persona's <c>topics</c> JSON object; a broken value is reported once and ignored.</summary>
    private static IEnumerable<(string Topic, string Payload)> CustomTopics(ServiceContext context)
    {
        var json = context.PersonaValue("topics");
        if (json is null)
        {
            return [];
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("topics must be a JSON object of topic → payload");
            }
            return document.RootElement.EnumerateObject()
                .Where(p => p.Name.Length > 0 && !p.Name.Contains('+', StringComparison.Ordinal) && !p.Name.Contains('#', StringComparison.Ordinal))
                .Take(MaxPersonaTopics)
                .Select(p => (p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()))
                .Select(t => (t.Name, t.Item2.Length > MaxPersonaPayload ? t.Item2[..MaxPersonaPayload] : t.Item2))
                .ToList();
        }
        catch (JsonException ex)
        {
            context.LoggerFactory.CreateLogger<MqttHoneypot>().LogWarning("{Decky}/mqtt: persona topics ignored: {Error}", context.DeckyName, ex.Message);
            context.Events.Publish(new HoneypotEvent(context.Time.GetUtcNow(), context.DeckyName, "mqtt", "config_error",
                [new("key", "topics"), new("error", ex.Message)], null, EventSeverity.Warning));
            return [];
        }
    }
}
