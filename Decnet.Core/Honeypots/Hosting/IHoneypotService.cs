using System.Net;

namespace Decnet.Core.Honeypots.Hosting;

/// <summary>
/// A kind of honeypot service (ssh, http, ftp ...): its catalog facts and how to build one instance for
/// a decky. Registered once; <see cref="Create"/> runs per decky.
/// </summary>
public interface IHoneypotServiceFactory
{
    /// <summary>Catalog name, e.g. "ssh". Also the APP-NAME of its events.</summary>
    string Name { get; }

    IReadOnlyList<ServicePort> DefaultPorts { get; }

    IHoneypotService Create(ServiceContext context);
}

/// <summary>A datagram to send back to the sender's address; <paramref name="Port"/> null means the port it came from.</summary>
public readonly record struct DatagramReply(ReadOnlyMemory<byte> Payload, int? Port = null);

/// <summary>One service instance on one decky.</summary>
public interface IHoneypotService : IAsyncDisposable
{
    ServiceContext Context { get; }

    /// <summary>
    /// True when the service publishes a richer <c>connect</c> event of its own (with <c>dst_port</c>) for
    /// every connection; the host then leaves out its generic one, so one connection is one connect.
    /// </summary>
    bool PublishesConnect => false;

    /// <summary>Serve one TCP connection until it ends. Exceptions are logged by the host and close only this session.</summary>
    Task HandleConnectionAsync(HoneypotConnection connection, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{Context.DeckyName}: this service does not accept TCP connections.");

    /// <summary>Answer one datagram; return the reply, or null to stay silent.</summary>
    ValueTask<ReadOnlyMemory<byte>?> HandleDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, IPEndPoint local, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{Context.DeckyName}: this service does not accept datagrams.");

    /// <summary>
    /// Answer one datagram with a reply that may go to another port of the sender (SIP answers the port its
    /// Via header names). The address is always the sender's: a spoofed header can never turn a decky into a
    /// reflector against a third host. By default the reply of <see cref="HandleDatagramAsync"/> goes back to
    /// the sending port.
    /// </summary>
    async ValueTask<DatagramReply?> AnswerDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, IPEndPoint local, CancellationToken cancellationToken) =>
        await HandleDatagramAsync(datagram, remote, local, cancellationToken).ConfigureAwait(false) is { } reply ? new DatagramReply(reply) : null;

    /// <summary>
    /// Addresses besides the decky's own on which this service hears <paramref name="port"/>: multicast groups,
    /// joined on the decky's interface, and <see cref="IPAddress.Broadcast"/> for the broadcasts of the decky's
    /// subnet. Name-resolution clients ask by multicast and broadcast, never to a host's own address.
    /// </summary>
    IReadOnlyList<IPAddress> GroupAddresses(ServicePort port) => [];

    /// <summary>
    /// Answer one datagram that reached the decky through <paramref name="destination"/>, a multicast group or
    /// a broadcast address of <see cref="GroupAddresses"/>; <paramref name="local"/> is the decky's own
    /// endpoint the reply is sent from.
    /// </summary>
    ValueTask<DatagramReply?> AnswerGroupDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, IPEndPoint local, IPAddress destination, CancellationToken cancellationToken) =>
        AnswerDatagramAsync(datagram, remote, local, cancellationToken);

    ValueTask IAsyncDisposable.DisposeAsync() => ValueTask.CompletedTask;
}
