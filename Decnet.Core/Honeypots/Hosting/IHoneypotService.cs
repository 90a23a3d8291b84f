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

    ValueTask IAsyncDisposable.DisposeAsync() => ValueTask.CompletedTask;
}
