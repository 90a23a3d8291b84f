namespace Decnet.Core.Honeypots.Events;

/// <summary>
/// Where services write their events. Publishing never blocks a session: sinks are bounded and count
/// what they had to drop.
/// </summary>
public interface IHoneypotEventSink
{
    void Publish(HoneypotEvent honeypotEvent);
}
