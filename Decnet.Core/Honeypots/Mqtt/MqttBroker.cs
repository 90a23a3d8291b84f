using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Decnet.Core.Honeypots.Mqtt;

/// <summary>A message the broker holds or routes.</summary>
public sealed record MqttMessage(string Topic, byte[] Payload, byte QoS);

/// <summary>
/// The decky's broker state shared by its sessions: retained messages (the bait, plus what attackers
/// retain) and the live subscriptions, so one attacker's publish reaches another's subscriber as on a
/// real broker. Everything is bounded: retained topics and their bytes, subscribers, and each
/// subscriber's queue (a slow reader loses messages, the broker never waits for it).
/// </summary>
public sealed class MqttBroker
{
    public const int MaxRetainedTopics = 512;
    public const int MaxRetainedPayload = 16 * 1024;
    public const int MaxSubscribers = 512;
    public const int QueueLength = 256;

    private readonly ConcurrentDictionary<string, MqttMessage> _retained = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, Subscriber> _subscribers = new();
    private readonly object _retainGate = new();

    public MqttBroker(IEnumerable<(string Topic, string Payload)> bait)
    {
        foreach (var (topic, payload) in bait.Take(MaxRetainedTopics))
        {
            _retained[topic] = new MqttMessage(topic, System.Text.Encoding.UTF8.GetBytes(payload), 0);
        }
    }

    public int RetainedCount => _retained.Count;

    /// <summary>Retained messages matching any of <paramref name="filters"/>, in topic order (what a SUBSCRIBE delivers).</summary>
    public IReadOnlyList<MqttMessage> RetainedMatching(IEnumerable<string> filters)
    {
        var list = filters.ToList();
        return _retained.Values.Where(m => list.Any(f => MqttCodec.Matches(f, m.Topic))).OrderBy(m => m.Topic, StringComparer.Ordinal).ToList();
    }

    /// <summary>Stores (or, with an empty payload, clears) a retained message; false when the store is full.</summary>
    public bool Retain(MqttMessage message)
    {
        lock (_retainGate)
        {
            if (message.Payload.Length == 0)
            {
                _retained.TryRemove(message.Topic, out _);
                return true;
            }
            if (message.Payload.Length > MaxRetainedPayload || (!_retained.ContainsKey(message.Topic) && _retained.Count >= MaxRetainedTopics))
            {
                return false;
            }
            _retained[message.Topic] = message;
            return true;
        }
    }

    /// <summary>A session's subscriber; null when the broker already serves its maximum.</summary>
    public Subscriber? Join()
    {
        if (_subscribers.Count >= MaxSubscribers)
        {
            return null;
        }
        var subscriber = new Subscriber(this);
        _subscribers[subscriber.Id] = subscriber;
        return subscriber;
    }

    /// <summary>Hands a published message to every subscriber whose filters match.</summary>
    public void Route(MqttMessage message)
    {
        foreach (var subscriber in _subscribers.Values)
        {
            subscriber.Offer(message);
        }
    }

    internal void Leave(Subscriber subscriber) => _subscribers.TryRemove(subscriber.Id, out _);

    /// <summary>One session's subscriptions and its bounded outbound queue.</summary>
    public sealed class Subscriber : IDisposable
    {
        private readonly MqttBroker _broker;
        private readonly ConcurrentDictionary<string, byte> _filters = new(StringComparer.Ordinal);
        private readonly Channel<(MqttMessage Message, byte QoS)> _queue =
            Channel.CreateBounded<(MqttMessage, byte)>(new BoundedChannelOptions(QueueLength) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

        internal Subscriber(MqttBroker broker) => _broker = broker;

        public Guid Id { get; } = Guid.NewGuid();

        public int FilterCount => _filters.Count;

        public ChannelReader<(MqttMessage Message, byte QoS)> Messages => _queue.Reader;

        public void Add(string filter, byte qos) => _filters[filter] = qos;

        public bool Remove(string filter) => _filters.TryRemove(filter, out _);

        internal void Offer(MqttMessage message)
        {
            byte? best = null;
            foreach (var (filter, qos) in _filters)
            {
                if (MqttCodec.Matches(filter, message.Topic) && (best is null || qos > best))
                {
                    best = qos;
                }
            }
            if (best is { } granted)
            {
                _queue.Writer.TryWrite((message, Math.Min(granted, message.QoS)));
            }
        }

        public void Dispose()
        {
            _broker.Leave(this);
            _queue.Writer.TryComplete();
        }
    }
}
