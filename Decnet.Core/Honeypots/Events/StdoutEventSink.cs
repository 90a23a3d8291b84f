namespace Decnet.Core.Honeypots.Events;

/// <summary>
/// Writes one RFC 5424 line per event to stdout, the way service containers hand their events to the
/// Docker log driver. Publishing only enqueues: a slow or blocked stdout pipe drops the oldest events
/// (counted) rather than stalling attacker sessions.
/// </summary>
public sealed class StdoutEventSink : IHoneypotEventSink, IAsyncDisposable
{
    private readonly ChannelEventSink _queue;
    private readonly TextWriter _writer;
    private readonly Task _pump;

    public StdoutEventSink(TextWriter? writer = null, int capacity = 10_000)
    {
        _queue = new ChannelEventSink(capacity);
        _writer = writer ?? Console.Out;
        _pump = Task.Run(PumpAsync);
    }

    public long DroppedCount => _queue.DroppedCount;

    public void Publish(HoneypotEvent honeypotEvent) => _queue.Publish(honeypotEvent);

    private async Task PumpAsync()
    {
        await foreach (var honeypotEvent in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            await _writer.WriteLineAsync(Rfc5424Formatter.Format(honeypotEvent)).ConfigureAwait(false);
            if (_queue.Reader.Count == 0)
            {
                await _writer.FlushAsync().ConfigureAwait(false);
            }
        }
        await _writer.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Writes everything still queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Complete();
        await _pump.ConfigureAwait(false);
    }
}
