using System.Threading.Channels;

namespace Decnet.Core.Honeypots.Events;

/// <summary>
/// In-process event sink for the embedded runtime: a bounded channel the ingest pipeline reads. When
/// the pipeline falls behind, the oldest events are dropped and counted, so an attacker flood costs
/// bounded memory and never blocks a session.
/// </summary>
public sealed class ChannelEventSink : IHoneypotEventSink
{
    private readonly Channel<HoneypotEvent> _channel;
    private long _dropped;

    public ChannelEventSink(int capacity = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _channel = Channel.CreateBounded<HoneypotEvent>(
            new BoundedChannelOptions(capacity)
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleReader = false,
                SingleWriter = false,
            },
            _ => Interlocked.Increment(ref _dropped));
    }

    public int Capacity { get; }

    public ChannelReader<HoneypotEvent> Reader => _channel.Reader;

    /// <summary>Events discarded because the reader fell behind.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    public void Publish(HoneypotEvent honeypotEvent)
    {
        if (!_channel.Writer.TryWrite(honeypotEvent))
        {
            // Only after Complete(): the host is shutting down and nobody will read it.
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>No more events will be published; readers finish once the channel is drained.</summary>
    public void Complete() => _channel.Writer.TryComplete();
}
